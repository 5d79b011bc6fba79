"""Catching up: a partner's outbox is read page by page from where we stopped, each page
applied as a batch, foreign activities skipped; only accepted partners are read."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from decimal import Decimal

import pytest

from fabcom.federation import handlers, remote
from fabcom.federation.catchup import catch_up, reconcile
from fabcom.federation.models import RemoteActor
from fabcom.jobs.models import Job
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization
from fabcom.testing.federation import Peer


@pytest.fixture
def applied(monkeypatch):
    """What the batch handlers received, page by page."""
    pages: list[list[str]] = []

    async def record(activities, sender):
        pages.append([a["id"].rsplit("/", 1)[1] for a in activities])

    monkeypatch.setattr(handlers, "_batch_handlers", {"Create": record, "Update": record})
    monkeypatch.setattr(handlers, "_loaded", True)
    return pages


def serve_outbox(peer: Peer, pages: list[list[dict]]) -> None:
    base = f"{peer.uri}/outbox"
    peer.outbox_pages.clear()
    after = ""
    for n, items in enumerate([*pages, []]):
        url = f"{base}?page=true" + (f"&after={after}" if after else "")
        page = {"type": "OrderedCollectionPage", "id": url, "orderedItems": items}
        if items:
            after = str(n + 1)
            page["next"] = f"{base}?page=true&after={after}"
        peer.outbox_pages[url] = page


def create(peer: Peer, n: int, host: str | None = None, actor: str | None = None) -> dict:
    host = host or peer.host
    return {
        "id": f"https://{host}/ap/activities/{n}",
        "type": "Create",
        "actor": actor or peer.uri,
        "object": {"id": f"https://{host}/items/{n}", "type": "Note"},
    }


async def partner(org, peer: Peer, status=PartnershipStatus.ACCEPTED) -> Organization:
    mirror = await Organization.get(id=(await remote.fetch_actor(peer.uri)).organization_id)
    await Partnership.create(organization=org, partner=mirror, status=status)
    return mirror


async def test_catching_up_reads_every_page_signed_and_applies_each_as_a_batch(org_a, peer, applied):
    mirror = await partner(org_a, peer)
    serve_outbox(peer, [[create(peer, 1), create(peer, 2)], [create(peer, 3)]])

    assert await catch_up(mirror.id) == 3

    assert applied == [["1", "2"], ["3"]]
    gets = [f for f in peer.fetches if "/outbox" in f]
    assert gets == [
        f"GET {peer.uri}/outbox?page=true",
        f"GET {peer.uri}/outbox?page=true&after=1",
        f"GET {peer.uri}/outbox?page=true&after=2",
    ]


async def test_a_second_catch_up_starts_after_the_last_page_read(org_a, peer, applied):
    mirror = await partner(org_a, peer)
    serve_outbox(peer, [[create(peer, 1)]])
    await catch_up(mirror.id)
    serve_outbox(peer, [[create(peer, 1)], [create(peer, 2)]])

    assert await catch_up(mirror.id) == 1

    assert applied == [["1"], ["2"]]
    assert (await RemoteActor.get(uri=peer.uri)).catch_up_next == f"{peer.uri}/outbox?page=true&after=2"


async def test_activities_of_another_actor_or_host_in_a_page_are_skipped(org_a, peer, applied):
    mirror = await partner(org_a, peer)
    serve_outbox(
        peer,
        [[create(peer, 1), create(peer, 2, host="evil.example"), create(peer, 3, actor="https://peer.example/ap/o/x")]],
    )

    assert await catch_up(mirror.id) == 1

    assert applied == [["1"]]


@pytest.mark.parametrize("status", [PartnershipStatus.REQUESTED, PartnershipStatus.BLOCKED])
async def test_a_non_partner_is_not_read(org_a, peer, applied, status):
    mirror = await partner(org_a, peer, status)
    serve_outbox(peer, [[create(peer, 1)]])

    assert await catch_up(mirror.id) == 0

    assert applied == []
    assert not any("/outbox" in f for f in peer.fetches)


async def test_a_next_link_to_another_host_is_not_followed(org_a, peer, applied):
    mirror = await partner(org_a, peer)
    serve_outbox(peer, [[create(peer, 1)]])
    peer.outbox_pages[f"{peer.uri}/outbox?page=true"]["next"] = "https://evil.example/outbox?page=2"

    assert await catch_up(mirror.id) == 1
    assert applied == [["1"]]


async def test_reconciliation_queues_a_catch_up_per_accepted_remote_partner(org_a, org_b, network, applied):
    one = await partner(org_a, network.add(Peer(host="b.example")))
    await partner(org_a, network.add(Peer(host="c.example", key_number=2)), PartnershipStatus.REQUESTED)
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)

    assert await reconcile() == 1

    assert [j.args for j in await Job.filter(name="catch_up_partner")] == [{"partner_org_id": one.id}]


async def test_the_next_page_is_read_while_the_current_one_is_written(org_a, peer, monkeypatch):
    mirror = await partner(org_a, peer)
    serve_outbox(peer, [[create(peer, 1)], [create(peer, 2)]])
    asked_while_writing: list[bool] = []

    async def record(activities, sender):
        following = f"GET {peer.uri}/outbox?page=true&after={activities[0]['id'].rsplit('/', 1)[1]}"
        for _ in range(100):  # let the read started before this page's write go on
            if following in peer.fetches:
                break
            await asyncio.sleep(0)
        asked_while_writing.append(following in peer.fetches)

    monkeypatch.setattr(handlers, "_batch_handlers", {"Create": record})
    monkeypatch.setattr(handlers, "_loaded", True)

    assert await catch_up(mirror.id) == 2

    assert asked_while_writing == [True, True]


async def test_a_page_that_fails_keeps_the_position_after_the_last_page_written(org_a, peer, monkeypatch):
    mirror = await partner(org_a, peer)
    serve_outbox(peer, [[create(peer, 1)], [create(peer, 2)], [create(peer, 3)]])
    written: list[str] = []
    broken = {"2"}

    async def record(activities, sender):
        number = activities[0]["id"].rsplit("/", 1)[1]
        if number in broken:
            raise RuntimeError("the database went away")
        written.append(number)

    monkeypatch.setattr(handlers, "_batch_handlers", {"Create": record})
    monkeypatch.setattr(handlers, "_loaded", True)

    with pytest.raises(RuntimeError):
        await catch_up(mirror.id)
    assert written == ["1"]  # page 3, read ahead, was not applied
    assert (await RemoteActor.get(uri=peer.uri)).catch_up_next == f"{peer.uri}/outbox?page=true&after=1"

    broken.clear()
    assert await catch_up(mirror.id) == 2
    assert written == ["1", "2", "3"]


async def test_a_hostile_page_is_refused_object_by_object_and_changes_nothing(org_a, peer, caplog):
    from fabcom.federation import vocab
    from fabcom.federation.mirror_models import MirrorItem
    from fabcom.federation.models import Audience

    mirror = await partner(org_a, peer)
    base = f"https://{peer.host}"
    t0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)

    def item(pk: int, title: str, *, hours: int = 0, actor: str = peer.uri, host: str = base) -> dict:
        obj = vocab.item_object(
            pk=pk,
            actor=actor,
            title=title,
            description="Une chaise.",
            category_code=None,
            quantity_value=Decimal(1),
            unit="piece",
            condition="good",
            status="available",
            sharing_modes=["give"],
            audience=Audience.PARTNERS,
            published=t0,
            updated=t0 + dt.timedelta(hours=hours),
            base=host,
        )
        return vocab.activity("Update", actor=peer.uri, obj=obj, audience=Audience.PARTNERS, published=t0, base=base)

    serve_outbox(peer, [[item(1, "Chaise")]])
    assert await catch_up(mirror.id) == 1
    before = [(r.uri, r.title, r.content, r.remote_updated_at) for r in await MirrorItem.all()]

    nul = item(1, "Chaise\x00volée", hours=1)
    huge = item(1, "Chaise", hours=1)
    huge["object"]["content"] = "x" * 70_000
    elsewhere = item(1, "Chaise", hours=1, host="https://evil.example")
    elsewhere["id"] = f"{base}/ap/activities/elsewhere"
    someone_else = item(1, "Chaise", hours=1, actor=f"{base}/ap/o/other")
    malformed = item(1, "Chaise", hours=1)
    malformed["object"]["updated"] = "2026-11-01T11:00:00"  # no time zone
    bad_number = item(1, "Chaise", hours=1)
    bad_number["object"]["resource"]["accountingQuantity"]["hasNumericalValue"] = "-1"
    serve_outbox(peer, [[item(1, "Chaise")], [nul, huge, elsewhere, someone_else, malformed, bad_number]])
    await RemoteActor.filter(uri=peer.uri).update(catch_up_next=f"{peer.uri}/outbox?page=true&after=1")

    with caplog.at_level(logging.INFO, logger="fabcom.federation"):
        await catch_up(mirror.id)  # no error: each bad object is refused alone

    assert [(r.uri, r.title, r.content, r.remote_updated_at) for r in await MirrorItem.all()] == before
    messages = [r.getMessage() for r in caplog.records]
    assert sum("skipped an activity not its own" in m for m in messages) == 2  # elsewhere, someone_else
    refusals = [m.split(": ", 1)[1] for m in messages if m.startswith("refused")]
    assert refusals == [
        "the object contains a NUL character",
        "the object is larger than 65536 bytes",
        "malformed object: updated: Input should have timezone info",
        "malformed object: resource.accountingQuantity.hasNumericalValue: Input should be greater than or equal to 0",
    ]


async def test_a_page_is_checked_while_the_previous_one_is_written_and_written_after_it(org_a, peer, monkeypatch):
    mirror = await partner(org_a, peer)
    serve_outbox(peer, [[create(peer, 1)], [create(peer, 2)], [create(peer, 3)]])
    events: list[str] = []

    def prepare(activities, sender):
        number = activities[0]["id"].rsplit("/", 1)[1]
        events.append(f"check {number}")

        async def write():
            events.append(f"write {number}")
            for _ in range(20):  # the database's time, during which the next page is checked
                await asyncio.sleep(0)
            events.append(f"written {number}")

        return write

    async def page(activities, sender):
        await prepare(activities, sender)()

    page.prepare = prepare
    monkeypatch.setattr(handlers, "_batch_handlers", {"Create": page})
    monkeypatch.setattr(handlers, "_loaded", True)

    assert await catch_up(mirror.id) == 3

    assert [e for e in events if e.startswith("write")] == ["write 1", "write 2", "write 3"]
    for n in (1, 2):  # page n + 1 is checked before page n is written, and written after it
        assert events.index(f"check {n + 1}") < events.index(f"written {n}") < events.index(f"write {n + 1}")
