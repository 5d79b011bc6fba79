"""Exchanges across sites: each side tested by calling its handlers with a Sender, as
the inbox job would, and reading what it publishes back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabcom.errors import NotFound, ValidationFailed
from fabcom.federation import vocab
from fabcom.federation.exchanges import cancel_mirrored_request, request_mirrored_item
from fabcom.federation.handlers import Sender, dispatch
from fabcom.federation.mirror_models import FederatedExchange, MirrorItem
from fabcom.federation.models import Audience, OutboxActivity
from fabcom.inventory.models import Item, StockMovement
from fabcom.inventory.services import create_item
from fabcom.network.models import ExchangeRequest, Partnership, PartnershipStatus
from fabcom.network.services import respond_exchange_request

LOCAL = "http://127.0.0.1:8000"
REMOTE = "https://b.example"
REMOTE_ACTOR = f"{REMOTE}/ap/o/b"
T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
async def remote(make_org):
    org = await make_org("b-remote", name="Recyclerie B", is_local=False, remote_uri=REMOTE_ACTOR)
    return org


@pytest.fixture
async def partners(org_a, remote):
    await Partnership.create(organization=org_a, partner=remote, status=PartnershipStatus.ACCEPTED)


def sender(remote) -> Sender:
    return Sender(actor_uri=REMOTE_ACTOR, organization_id=remote.id)


def offer(item_uri: str, *, kind: str = "receive", quantity: str = "1", agreement: str = "1") -> dict:
    agreement_uri = f"{REMOTE}/ap/agreements/{agreement}"
    return vocab.activity(
        "Offer",
        actor=REMOTE_ACTOR,
        obj=vocab.agreement_object(
            uri=agreement_uri,
            actor=REMOTE_ACTOR,
            item_uri=item_uri,
            kind=kind,
            quantity_value=Decimal(quantity),
            unit="piece",
            message="Pour notre atelier",
            due_back_on=None,
        ),
        audience=Audience.DIRECT,
        recipients=["x"],
        published=T0,
        activity_uri=f"{REMOTE}/ap/activities/offer-{agreement}",
        base=REMOTE,
    )


async def published() -> list[tuple[str, dict]]:
    return [(r.type, r.payload) for r in await OutboxActivity.all().order_by("id")]


# --- the owner's side -------------------------------------------------------------------------------


async def test_an_offer_becomes_an_exchange_request_answered_back_on_the_usual_path(org_a, staff_a, remote, partners):
    item = await create_item(
        staff_a,
        org_a.id,
        {"title": "Chaise", "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "3"},
    )
    await OutboxActivity.all().delete()
    incoming = offer(f"{LOCAL}/ap/items/{item.id}")

    assert await dispatch(incoming, sender(remote))
    assert await dispatch(incoming, sender(remote))  # a duplicate delivery changes nothing

    request = await ExchangeRequest.get()
    assert (request.requester_organization_id, request.item_id, request.quantity) == (remote.id, item.id, 1)  # type: ignore[attr-defined]
    assert request.message == "Pour notre atelier"
    assert await FederatedExchange.filter(direction="incoming").count() == 1

    await respond_exchange_request(staff_a, request.id, "accept")
    await respond_exchange_request(staff_a, request.id, "hand_over")

    (accept_type, accept), (update_type, update), (item_type, item_update) = await published()
    assert (accept_type, update_type, item_type) == ("Accept", "Update", "Update")
    assert accept["to"] == [REMOTE_ACTOR]
    assert accept["object"] == {"id": f"{REMOTE}/ap/agreements/1", "type": "Agreement"}
    assert accept["inReplyTo"] == f"{REMOTE}/ap/activities/offer-1"
    assert update["object"]["exchangeStatus"] == "handed_over"
    assert item_update["object"]["resource"]["accountingQuantity"]["hasNumericalValue"] == "2"
    assert (await Item.get(id=item.id)).quantity == 2
    out = await StockMovement.get(item_id=item.id, kind="gift")
    assert (out.quantity, out.counterparty_organization_id) == (-1, remote.id)  # type: ignore[attr-defined]


async def test_an_offer_we_cannot_take_is_rejected_at_once_and_changes_nothing(org_a, staff_a, remote):
    shared = await create_item(
        staff_a,
        org_a.id,
        {"title": "Table", "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "1"},
    )
    private = await create_item(staff_a, org_a.id, {"title": "Secret", "sharing_modes": ["give"]})
    await OutboxActivity.all().delete()

    await dispatch(offer(f"{LOCAL}/ap/items/{shared.id}", agreement="1"), sender(remote))  # not partners
    await Partnership.create(organization=org_a, partner=remote, status=PartnershipStatus.ACCEPTED)
    await dispatch(offer(f"{LOCAL}/ap/items/{private.id}", agreement="2"), sender(remote))
    await dispatch(offer(f"{LOCAL}/ap/items/{shared.id}", kind="borrow", agreement="3"), sender(remote))
    await dispatch(offer(f"{LOCAL}/ap/items/{shared.id}", quantity="5", agreement="4"), sender(remote))

    assert await ExchangeRequest.all().count() == 0
    assert await FederatedExchange.all().count() == 0
    rejects = await published()
    assert [t for t, _ in rejects] == ["Reject"] * 4
    assert [r["object"]["id"] for _, r in rejects] == [f"{REMOTE}/ap/agreements/{n}" for n in range(1, 5)]
    assert rejects[0][1]["summary"] == "Only partner organizations can ask for items."


async def test_an_offer_from_someone_else_or_for_anothers_agreement_is_refused(org_a, staff_a, remote, partners):
    item = await create_item(
        staff_a,
        org_a.id,
        {"title": "Lampe", "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "1"},
    )
    forged = offer(f"{LOCAL}/ap/items/{item.id}")
    forged["object"]["id"] = "https://c.example/ap/agreements/1"  # not on the sender's host
    impostor = offer(f"{LOCAL}/ap/items/{item.id}", agreement="2")
    impostor["actor"] = "https://b.example/ap/o/other"

    await dispatch(forged, sender(remote))
    await dispatch(impostor, sender(remote))

    assert await ExchangeRequest.all().count() == 0


async def test_the_requester_may_cancel_from_its_site(org_a, staff_a, remote, partners):
    item = await create_item(
        staff_a,
        org_a.id,
        {"title": "Vélo", "visibility": "partners", "sharing_modes": ["lend"], "initial_quantity": "1"},
    )
    await dispatch(offer(f"{LOCAL}/ap/items/{item.id}", kind="borrow"), sender(remote))
    cancel = vocab.activity(
        "Update",
        actor=REMOTE_ACTOR,
        obj={"id": f"{REMOTE}/ap/agreements/1", "type": "Agreement", "exchangeStatus": "cancelled"},
        audience=Audience.DIRECT,
        recipients=["x"],
        published=T0,
        base=REMOTE,
    )

    assert await dispatch(cancel, sender(remote))

    assert (await ExchangeRequest.get()).status == "cancelled"


# --- the requester's side ---------------------------------------------------------------------------


@pytest.fixture
async def mirrored(org_a, remote, partners):
    """org_a is the requester here; the remote organization shares an item with it."""
    page = vocab.item_object(
        pk=9,
        actor=REMOTE_ACTOR,
        title="Ponceuse",
        description="Ponceuse orbitale",
        category_code="C_15",
        quantity_value=Decimal(2),
        unit="piece",
        condition="good",
        status="available",
        sharing_modes=["give", "lend"],
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


async def test_asking_for_a_mirrored_item_sends_an_agreement_to_its_owner_only(org_a, staff_a, mirrored):
    exchange = await request_mirrored_item(
        staff_a, org_a.id, {"mirror_item_id": mirrored.id, "kind": "receive", "quantity": "2", "message": "Merci"}
    )

    [(kind, sent)] = await published()
    assert kind == "Offer"
    assert sent["to"] == [REMOTE_ACTOR]
    assert sent["cc"] == []
    agreement = sent["object"]
    assert agreement["id"] == exchange.agreement_uri
    assert agreement["stipulates"]["satisfies"] == f"{REMOTE}/ap/items/9#give"
    assert agreement["stipulates"]["resourceQuantity"] == {"hasNumericalValue": "2", "hasUnit": "one"}
    assert (await OutboxActivity.get()).audience == Audience.DIRECT

    assert await dispatch(answer("Accept", exchange.agreement_uri), sender(remote_of(mirrored)))
    assert (await FederatedExchange.get(id=exchange.id)).status == "accepted"
    assert await dispatch(
        answer("Update", exchange.agreement_uri, exchangeStatus="handed_over"), sender(remote_of(mirrored))
    )

    exchange = await FederatedExchange.get(id=exchange.id)
    assert exchange.status == "handed_over"
    received = await Item.get(id=exchange.received_item_id)  # type: ignore[attr-defined]
    assert (received.organization_id, received.title, received.quantity, received.visibility) == (  # type: ignore[attr-defined]
        org_a.id,
        "Ponceuse",
        2,
        "private",
    )
    assert (await StockMovement.get(item_id=received.id)).kind == "transfer_in"


async def test_a_handed_over_that_overtakes_the_accept_is_applied_once(org_a, staff_a, mirrored):
    exchange = await request_mirrored_item(
        staff_a, org_a.id, {"mirror_item_id": mirrored.id, "kind": "receive", "quantity": "2"}
    )
    owner = sender(remote_of(mirrored))

    assert await dispatch(answer("Update", exchange.agreement_uri, exchangeStatus="handed_over"), owner)
    assert await dispatch(answer("Accept", exchange.agreement_uri), owner)  # arrives late

    exchange = await FederatedExchange.get(id=exchange.id)
    assert exchange.status == "handed_over"
    [received] = await Item.filter(organization_id=org_a.id, title="Ponceuse")
    assert (received.id, received.quantity) == (exchange.received_item_id, 2)  # type: ignore[attr-defined]
    assert await StockMovement.filter(item_id=received.id).count() == 1


def remote_of(mirror: MirrorItem):
    class _Org:
        id = mirror.organization_id  # type: ignore[attr-defined]

    return _Org


async def test_answers_from_another_site_or_out_of_order_change_nothing(org_a, staff_a, mirrored, make_org):
    exchange = await request_mirrored_item(staff_a, org_a.id, {"mirror_item_id": mirrored.id, "kind": "borrow"})
    other = await make_org("c-remote", is_local=False, remote_uri="https://c.example/ap/o/c")
    stranger = Sender(actor_uri="https://c.example/ap/o/c", organization_id=other.id)
    forged = answer("Accept", exchange.agreement_uri)
    forged["actor"] = "https://c.example/ap/o/c"

    assert not await dispatch(forged, stranger)
    await dispatch(answer("Update", exchange.agreement_uri, exchangeStatus="returned"), sender(remote_of(mirrored)))

    assert (await FederatedExchange.get(id=exchange.id)).status == "pending"


async def test_asking_is_refused_without_partnership_or_beyond_what_is_offered(org_a, staff_a, staff_b, mirrored):
    with pytest.raises(NotFound):
        await request_mirrored_item(staff_b, staff_b_org(staff_b), {"mirror_item_id": mirrored.id, "kind": "receive"})
    with pytest.raises(ValidationFailed):
        await request_mirrored_item(staff_a, org_a.id, {"mirror_item_id": mirrored.id, "kind": "buy"})
    with pytest.raises(ValidationFailed):
        await request_mirrored_item(
            staff_a, org_a.id, {"mirror_item_id": mirrored.id, "kind": "receive", "quantity": "3"}
        )

    assert await FederatedExchange.all().count() == 0
    assert await OutboxActivity.all().count() == 0


def staff_b_org(principal) -> int:
    return next(iter(principal.roles))


async def test_the_requester_cancels_and_the_owner_is_told(org_a, staff_a, mirrored):
    exchange = await request_mirrored_item(staff_a, org_a.id, {"mirror_item_id": mirrored.id, "kind": "borrow"})

    await cancel_mirrored_request(staff_a, exchange.id)

    kind, update = (await published())[-1]
    assert (kind, update["object"]["exchangeStatus"], update["to"]) == ("Update", "cancelled", [REMOTE_ACTOR])
    with pytest.raises(ValidationFailed):
        await cancel_mirrored_request(staff_a, exchange.id)
