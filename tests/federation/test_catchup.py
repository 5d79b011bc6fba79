"""Catching up: a partner's outbox is read page by page from where we stopped, each page
applied as a batch, foreign activities skipped; only accepted partners are read."""

from __future__ import annotations

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
