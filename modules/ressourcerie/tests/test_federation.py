"""Ressourcerie figures and surplus lots across servers: what is published (golden JSON),
what the handlers take from a partner (via ``dispatch``, as the inbox job calls them) and
what they refuse — a forged sender, a non-partner — leaving nothing stored."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from fabcom.api import Role
from fabcom.federation import vocab
from fabcom.federation.handlers import Sender, dispatch
from fabcom.federation.mirror_models import FederatedExchange, MirrorItem
from fabcom.federation.models import Audience, OutboxActivity
from fabcom.network.models import ExchangeRequest, Partnership, PartnershipStatus
from fabcom.network.services import respond_exchange_request
from modules.ressourcerie.figures import FIGURES_TYPE, figures_activity, figures_object, publish_figures
from modules.ressourcerie.jobs import publish_ressourcerie_figures
from modules.ressourcerie.models import Destination, DonorKind, Intake, Outflow, RemoteFigures, SiteSettings
from modules.ressourcerie.reports import network_totals
from modules.ressourcerie.services import offer_lot, record_intake, record_outflow, update_site_settings

GOLDEN = Path(__file__).resolve().parent / "golden"
LOCAL = "http://127.0.0.1:8000"
REMOTE = "https://b.example"
REMOTE_ACTOR = f"{REMOTE}/ap/o/b"
T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
KG = {"hasUnit": "kilogram"}


def kg(value: str) -> dict[str, str]:
    return {"hasNumericalValue": value, **KG}


@pytest.fixture
async def remote(make_org):
    return await make_org("b-remote", name="Recyclerie B", is_local=False, remote_uri=REMOTE_ACTOR)


@pytest.fixture
async def partners(org_a, remote):
    await Partnership.create(organization=org_a, partner=remote, status=PartnershipStatus.ACCEPTED)


def sender(org) -> Sender:
    return Sender(actor_uri=REMOTE_ACTOR, organization_id=org.id)


def their_figures(kind: str = "Create", *, updated: dt.datetime = T0, collected: str = "120.5") -> dict:
    """What the remote partner publishes: March and April 2026."""
    months = {
        "2026-03": {"in": Decimal(collected), "reused": Decimal("60"), "recycled": Decimal("20.25")},
        "2026-04": {"in": Decimal("80"), "reused": Decimal("30"), "recycled": Decimal("10")},
    }
    obj = figures_object(
        actor=REMOTE_ACTOR,
        name="Recyclerie B",
        start=dt.date(2025, 1, 1),
        end=dt.date(2026, 4, 30),
        months=months,
        updated=updated,
    )
    activity = figures_activity(kind, obj, REMOTE_ACTOR, updated)
    activity["id"] = f"{REMOTE}/ap/activities/{kind.lower()}-{updated.timestamp():.0f}"
    return activity


# --- the document -----------------------------------------------------------------------------------


def test_the_figures_document_is_stable():
    activity = their_figures("Update")
    expected = json.loads((GOLDEN / "figures_update.json").read_text())
    assert activity == expected


def test_the_withdrawal_is_a_delete_of_a_tombstone():
    activity = figures_activity(
        "Delete", vocab.tombstone(f"{REMOTE_ACTOR}/ressourcerie-figures", FIGURES_TYPE, T0), REMOTE_ACTOR, T0
    )
    activity["id"] = f"{REMOTE}/ap/activities/delete-1"
    assert activity == json.loads((GOLDEN / "figures_delete.json").read_text())


# --- publishing ---------------------------------------------------------------------------------------


async def figures_published() -> list[tuple[str, dict]]:
    rows = await OutboxActivity.filter(object_uri__endswith="/ressourcerie-figures").order_by("id")
    return [(r.type, r.payload) for r in rows]


async def test_a_site_that_opts_in_publishes_its_figures_then_changes_then_withdraws(org_a, staff_a, make_member):
    admin = await make_member(org_a, role=Role.ADMIN)
    await record_intake(staff_a, org_a.id, {"mode_code": "apport_volontaire", "lines": [{"category_code": "C_15", "gross_kg": "100"}]})  # fmt: skip
    await record_outflow(staff_a, org_a.id, {"destination": "sale", "lines": [{"category_code": "C_15", "weight_kg": "40"}]})  # fmt: skip

    await update_site_settings(admin, org_a.id, {"share_figures": True})
    [(kind, created)] = await figures_published()
    assert (kind, created["to"]) == ("Create", [vocab.followers_id(vocab.actor_id(org_a.slug))])  # partners only
    obj = created["object"]
    assert (obj["type"], obj["attributedTo"]) == (FIGURES_TYPE, vocab.actor_id(org_a.slug))
    assert (obj["collected"], obj["reused"], obj["recycled"]) == (kg("100"), kg("40"), kg("0"))
    assert [m["collected"] for m in obj["months"]] == [kg("100")]
    assert "donor" not in json.dumps(created)
    assert "revenue" not in json.dumps(created)

    # the daily job publishes nothing while the figures stay the same...
    await publish_ressourcerie_figures(None)
    assert len(await figures_published()) == 1
    # ...and an Update once they changed
    await record_intake(staff_a, org_a.id, {"mode_code": "apport_volontaire", "lines": [{"category_code": "C_15", "gross_kg": "5"}]})  # fmt: skip
    await publish_ressourcerie_figures(None)
    kinds = [(k, a["object"].get("collected")) for k, a in await figures_published()]
    assert kinds == [("Create", kg("100")), ("Update", kg("105"))]

    # withdrawing the choice sends a Delete, once
    await update_site_settings(admin, org_a.id, {"share_figures": False})
    await publish_ressourcerie_figures(None)
    (kind, deleted) = (await figures_published())[-1]
    assert (kind, deleted["object"]["type"], deleted["object"]["id"]) == ("Delete", "Tombstone", obj["id"])
    assert [k for k, _ in await figures_published()] == ["Create", "Update", "Delete"]
    assert (await SiteSettings.get(organization_id=org_a.id)).figures_digest == ""


async def test_a_site_that_never_shared_publishes_nothing(org_a, staff_a):
    await record_intake(staff_a, org_a.id, {"mode_code": "apport_volontaire", "lines": [{"category_code": "C_15", "gross_kg": "100"}]})  # fmt: skip
    await SiteSettings.create(organization_id=org_a.id, share_figures=False)
    assert await publish_figures(org_a.id) is None
    await publish_ressourcerie_figures(None)
    assert await figures_published() == []


# --- receiving ----------------------------------------------------------------------------------------


async def test_a_partners_figures_are_stored_and_counted_in_the_network_totals(org_a, staff_a, remote, partners):
    assert await dispatch(their_figures(), sender(remote))

    stored = await RemoteFigures.get()
    assert (stored.organization_id, stored.uri) == (remote.id, f"{REMOTE_ACTOR}/ressourcerie-figures")  # type: ignore[attr-defined]
    assert stored.months["2026-03"] == {"in": "120.500", "reused": "60.000", "recycled": "20.250"}

    await record_intake(staff_a, org_a.id, {"mode_code": "apport_volontaire", "occurred_at": dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC), "lines": [{"category_code": "C_15", "gross_kg": "10"}]})  # fmt: skip
    # March only: B's March counts whole; April is outside
    totals = await network_totals(staff_a, org_a.id, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert [(r.name, r.kg_in, r.kg_diverted, r.remote) for r in totals.rows] == [
        ("Recyclerie A", Decimal("10.000"), Decimal("0.000"), False),
        ("Recyclerie B", Decimal("120.500"), Decimal("80.250"), True),
    ]
    assert (totals.kg_in, totals.not_sharing) == (Decimal("130.500"), 0)
    # the year: both months of B
    year = await network_totals(staff_a, org_a.id, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert year.rows[1].kg_in == Decimal("200.500")


async def test_the_newest_figures_win(remote, partners):
    later = T0 + dt.timedelta(days=1)
    await dispatch(their_figures("Update", updated=later, collected="150"), sender(remote))
    await dispatch(their_figures("Update", updated=T0, collected="99"), sender(remote))  # older, late

    assert (await RemoteFigures.get()).months["2026-03"]["in"] == "150.000"
    assert await RemoteFigures.all().count() == 1


def forged(kind: str) -> dict:
    activity = their_figures()
    if kind == "actor":  # the activity claims another actor than the one that signed
        activity["actor"] = "https://b.example/ap/o/other"
    elif kind == "host":  # the figures live on another host
        activity["object"]["id"] = "https://c.example/ap/o/c/ressourcerie-figures"
    elif kind == "author":  # attributed to someone else
        activity["object"]["attributedTo"] = "https://b.example/ap/o/other"
    elif kind == "other_site":  # another organization's figures, from the same host
        activity["object"]["id"] = "https://b.example/ap/o/other/ressourcerie-figures"
    elif kind == "negative":
        activity["object"]["months"][0]["collected"]["hasNumericalValue"] = "-5"
    elif kind == "unit":
        activity["object"]["months"][0]["collected"]["hasUnit"] = "one"
    elif kind == "absurd":
        activity["object"]["months"][0]["collected"]["hasNumericalValue"] = "1e12"
    elif kind == "month":
        activity["object"]["months"][0]["month"] = "2026-13"
    elif kind == "huge":
        activity["object"]["months"] = activity["object"]["months"] * 40
    return activity


@pytest.mark.parametrize(
    "kind", ["actor", "host", "author", "other_site", "negative", "unit", "absurd", "month", "huge"]
)
async def test_forged_or_bad_figures_are_refused_and_nothing_is_stored(remote, partners, kind):
    assert await dispatch(forged(kind), sender(remote))  # taken (and refused, logged): no other handler
    assert await RemoteFigures.all().count() == 0


async def test_figures_from_a_server_that_is_no_partner_are_refused(org_a, remote, make_org):
    pending = await make_org("c-remote", name="C", is_local=False, remote_uri="https://c.example/ap/o/c")
    await Partnership.create(organization=org_a, partner=pending, status=PartnershipStatus.REQUESTED)

    await dispatch(their_figures(), sender(remote))  # no partnership at all
    c_figures = json.loads(json.dumps(their_figures()).replace(REMOTE_ACTOR, "https://c.example/ap/o/c"))
    await dispatch(c_figures, Sender("https://c.example/ap/o/c", pending.id))  # only requested

    assert await RemoteFigures.all().count() == 0


async def test_a_withdrawal_purges_and_only_the_owner_can_withdraw(org_a, remote, partners, make_org):
    other = await make_org("c-remote", name="C", is_local=False, remote_uri="https://c.example/ap/o/c")
    await Partnership.create(organization=org_a, partner=other, status=PartnershipStatus.ACCEPTED)
    await dispatch(their_figures(), sender(remote))
    uri = f"{REMOTE_ACTOR}/ressourcerie-figures"
    delete = figures_activity("Delete", vocab.tombstone(uri, FIGURES_TYPE, T0), REMOTE_ACTOR, T0)

    # another partner cannot withdraw B's figures
    stranger = copy.deepcopy(delete)
    stranger["actor"] = "https://c.example/ap/o/c"
    assert not await dispatch(stranger, Sender("https://c.example/ap/o/c", other.id))
    assert await RemoteFigures.all().count() == 1

    assert await dispatch(delete, sender(remote))
    assert await RemoteFigures.all().count() == 0


async def test_figures_during_catch_up_go_through_the_batch_path(remote, partners):
    from fabcom.federation.handlers import dispatch_batch

    await dispatch_batch(
        [their_figures("Create"), their_figures("Update", updated=T0 + dt.timedelta(hours=1))], sender(remote)
    )
    assert await RemoteFigures.all().count() == 1


# --- surplus lots to and from a partner on another server --------------------------------------------


def offer(item_uri: str, quantity: str = "40") -> dict:
    agreement_uri = f"{REMOTE}/ap/agreements/1"
    return vocab.activity(
        "Offer",
        actor=REMOTE_ACTOR,
        obj=vocab.agreement_object(
            uri=agreement_uri,
            actor=REMOTE_ACTOR,
            item_uri=item_uri,
            kind="receive",
            quantity_value=Decimal(quantity),
            unit="kg",
            message="Pour notre atelier couture",
            due_back_on=None,
        ),
        audience=Audience.DIRECT,
        recipients=["x"],
        published=T0,
        activity_uri=f"{REMOTE}/ap/activities/offer-1",
        base=REMOTE,
    )


async def test_a_lot_handed_over_to_a_remote_partner_is_a_gift_outflow(org_a, staff_a, remote, partners):
    lot = await offer_lot(staff_a, org_a.id, {"title": "40 kg de textile", "category_code": "C_19", "quantity": "40"})
    assert await dispatch(offer(f"{LOCAL}/ap/items/{lot.id}"), sender(remote))
    request = await ExchangeRequest.get()
    assert request.requester_organization_id == remote.id  # type: ignore[attr-defined]

    await respond_exchange_request(staff_a, request.id, "accept")
    await respond_exchange_request(staff_a, request.id, "hand_over")

    outflow = await Outflow.get().prefetch_related("lines")
    assert (outflow.destination, outflow.partner_organization_id) == (Destination.PARTNER_GIFT, remote.id)  # type: ignore[attr-defined]
    assert [line.weight_kg for line in outflow.lines] == [Decimal("40")]
    assert await Intake.all().count() == 0  # the partner records its intake on its own server
    notice = await OutboxActivity.filter(type="Update").order_by("id").first()
    assert notice.payload["object"]["exchangeStatus"] == "handed_over"


async def lot_from_remote(org_a, remote, *, unit: str = "kg", quantity: str = "25", category: str | None = "C_19"):
    page = vocab.item_object(
        pk=9,
        actor=REMOTE_ACTOR,
        title="25 kg de vaisselle",
        description="",
        category_code=category,
        quantity_value=Decimal(quantity),
        unit=unit,
        condition="good",
        status="available",
        sharing_modes=["give"],
        audience=Audience.PARTNERS,
        published=T0,
        updated=T0,
        base=REMOTE,
    )
    await dispatch(
        vocab.activity("Create", actor=REMOTE_ACTOR, obj=page, audience=Audience.PARTNERS, published=T0, base=REMOTE),
        sender(remote),
    )
    return await MirrorItem.get()


def answer(kind: str, agreement_uri: str, **extra) -> dict:
    return vocab.activity(
        kind,
        actor=REMOTE_ACTOR,
        obj={"id": agreement_uri, "type": "Agreement", **extra},
        audience=Audience.DIRECT,
        recipients=["x"],
        published=T0,
        base=REMOTE,
    )


async def receive_from_remote(org_a, staff_a, remote, quantity: str) -> FederatedExchange:
    from fabcom.federation.exchanges import request_mirrored_item

    mirror = await MirrorItem.get()
    exchange = await request_mirrored_item(
        staff_a, org_a.id, {"mirror_item_id": mirror.id, "kind": "receive", "quantity": quantity}
    )
    assert await dispatch(answer("Accept", exchange.agreement_uri), sender(remote))
    assert await dispatch(answer("Update", exchange.agreement_uri, exchangeStatus="handed_over"), sender(remote))
    return await FederatedExchange.get(id=exchange.id)


async def test_a_lot_received_from_a_remote_partner_is_an_intake_from_it(org_a, staff_a, remote, partners):
    await lot_from_remote(org_a, remote)
    exchange = await receive_from_remote(org_a, staff_a, remote, "25")

    assert exchange.status == "handed_over"
    intake = await Intake.get().prefetch_related("lines", "mode")
    assert (intake.donor_kind, intake.donor_organization_id, intake.mode.code) == (  # type: ignore[attr-defined]
        DonorKind.ORGANIZATION,
        remote.id,
        "autre",
    )
    assert [(line.net_kg, line.category_id) for line in intake.lines] == [  # type: ignore[attr-defined]
        (Decimal("25"), (await intake.lines[0].category).id)
    ]
    assert (await intake.lines[0].category).code == "C_19"
    assert "25 kg de vaisselle" in intake.note


async def test_no_intake_when_the_weight_is_unknown_or_the_site_is_no_ressourcerie(
    org_b, make_member, remote, org_a, staff_a
):
    # pieces: their weight does not travel
    await Partnership.create(organization=org_a, partner=remote, status=PartnershipStatus.ACCEPTED)
    await lot_from_remote(org_a, remote, unit="piece", quantity="3")
    await receive_from_remote(org_a, staff_a, remote, "1")
    assert await Intake.all().count() == 0


async def test_a_fablab_receiving_a_lot_records_no_intake(org_b, make_member, remote):
    staff_b = await make_member(org_b)
    await Partnership.create(organization=org_b, partner=remote, status=PartnershipStatus.ACCEPTED)
    await lot_from_remote(org_b, remote)
    exchange = await receive_from_remote(org_b, staff_b, remote, "25")
    assert exchange.status == "handed_over"
    assert await Intake.all().count() == 0


async def test_the_report_page_shows_a_remote_partners_figures(client, login, org_a, staff_a, remote, partners):
    await dispatch(their_figures(), sender(remote))
    await login(client, staff_a)
    page = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report?period=2026-03")
    assert page.status_code == 200
    assert 'Recyclerie B <span class="muted">(autre serveur : mois entiers)</span>' in page.text  # French, translated
