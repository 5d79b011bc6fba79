"""Partnerships and exchange requests between organizations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabcom import clock
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.inventory.models import Item, StockMovement
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.network.models import ExchangeRequest, Partnership
from fabcom.network.services import (
    create_exchange_request,
    request_partnership,
    respond_exchange_request,
    respond_partnership,
)
from fabcom.permissions import load_principal


async def partners(org_a, org_b, staff_a, staff_b):
    link = await request_partnership(staff_a, org_a.id, {"partner_slug": org_b.slug, "message": "Bonjour"})
    await respond_partnership(staff_b, link.id, "accept")
    return await load_principal(staff_a.user_id), await load_principal(staff_b.user_id)


async def test_partnership_request_then_accept(org_a, org_b, staff_a, staff_b):
    link = await request_partnership(staff_a, org_a.id, {"partner_slug": org_b.slug})
    assert link.status == "requested"
    # the requester cannot accept its own request
    with pytest.raises(PermissionDenied):
        await respond_partnership(staff_a, link.id, "accept")
    accepted = await respond_partnership(staff_b, link.id, "accept")
    assert (accepted.status, accepted.responded_by_id) == ("accepted", staff_b.user_id)
    assert (await load_principal(staff_a.user_id)).partner_ids == {org_b.id}
    with pytest.raises(ValidationFailed) as twice:
        await respond_partnership(staff_b, link.id, "refuse")
    assert twice.value.errors[0].code == ErrorCode.INVALID_STATE


@pytest.mark.parametrize(
    ("slug", "code"),
    [("nowhere", ErrorCode.INVALID), ("recyclerie-a", ErrorCode.INVALID), ("", ErrorCode.REQUIRED)],
)
async def test_bad_partnership_requests(org_a, org_b, staff_a, slug, code):
    with pytest.raises(ValidationFailed) as refused:
        await request_partnership(staff_a, org_a.id, {"partner_slug": slug})
    assert refused.value.errors[0].code == code
    assert await Partnership.all().count() == 0


async def test_duplicate_partnership_and_outsiders_are_refused(org_a, org_b, staff_a, staff_b, make_org, make_member):
    await request_partnership(staff_a, org_a.id, {"partner_slug": org_b.slug})
    with pytest.raises(ValidationFailed) as duplicate:
        await request_partnership(staff_b, org_b.id, {"partner_slug": org_a.slug})
    assert duplicate.value.errors[0].code == ErrorCode.ALREADY_EXISTS
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    other = await make_org()
    with pytest.raises(PermissionDenied):
        await request_partnership(volunteer, org_a.id, {"partner_slug": other.slug})
    stranger = await make_member(other)
    link = await Partnership.get()
    with pytest.raises(NotFound):
        await respond_partnership(stranger, link.id, "block")
    assert await Partnership.all().count() == 1


async def test_either_side_can_block_an_accepted_partnership(org_a, org_b, staff_a, staff_b):
    staff_a, staff_b = await partners(org_a, org_b, staff_a, staff_b)
    link = await Partnership.get()
    await respond_partnership(staff_a, link.id, "block")
    assert (await load_principal(staff_b.user_id)).partner_ids == frozenset()


async def test_an_exchange_hands_the_item_over_and_both_ledgers_agree(org_a, org_b, staff_a, staff_b):
    staff_a, staff_b = await partners(org_a, org_b, staff_a, staff_b)
    item = await create_item(
        staff_a,
        org_a.id,
        {
            "title": "Chaises",
            "visibility": "partners",
            "unit_weight_kg": "4",
            "sharing_modes": ["give"],
            "initial_quantity": "12",
        },
    )
    request = await create_exchange_request(staff_b, org_b.id, {"item_id": item.id, "kind": "receive", "quantity": "5"})
    assert request.status == "pending"
    # the requester cannot accept on the owner's behalf, nor the owner cancel for the requester:
    # each is told whose move it is
    with pytest.raises(PermissionDenied) as not_theirs:
        await respond_exchange_request(staff_b, request.id, "accept")
    assert not_theirs.value.text("en") == "Only the staff of the organization that owns the item can do this."
    with pytest.raises(PermissionDenied) as not_ours:
        await respond_exchange_request(staff_a, request.id, "cancel")
    assert not_ours.value.text("fr") == "Seule l’équipe de la structure qui a demandé peut annuler la demande."
    await respond_exchange_request(staff_a, request.id, "accept")
    handed = await respond_exchange_request(staff_a, request.id, "hand_over")
    assert handed.status == "handed_over"
    assert (await Item.get(id=item.id)).quantity == Decimal("7")
    received = await Item.get(organization_id=org_b.id)
    assert (received.title, received.quantity, received.visibility) == ("Chaises", Decimal("5"), "private")
    lines = (
        await StockMovement.filter(exchange_request_id=request.id)
        .order_by("id")
        .values_list("organization_id", "kind", "quantity", "weight_kg", "counterparty_organization_id")
    )
    assert lines == [
        (org_a.id, "gift", Decimal("-5"), Decimal("20"), org_b.id),
        (org_b.id, "transfer_in", Decimal("5"), Decimal("20"), org_a.id),
    ]
    # a gift cannot be "returned"
    with pytest.raises(ValidationFailed):
        await respond_exchange_request(staff_a, request.id, "return")


async def test_a_loan_goes_out_and_comes_back(org_a, org_b, staff_a, staff_b):
    staff_a, staff_b = await partners(org_a, org_b, staff_a, staff_b)
    drill = await create_item(
        staff_a,
        org_a.id,
        {"title": "Perceuse", "visibility": "public", "sharing_modes": ["lend"], "initial_quantity": "1"},
    )
    request = await create_exchange_request(staff_b, org_b.id, {"item_id": drill.id, "kind": "borrow"})
    await respond_exchange_request(staff_a, request.id, "accept")
    await respond_exchange_request(staff_a, request.id, "hand_over")
    assert (await Item.get(id=drill.id)).quantity == 0
    assert not await Item.filter(organization_id=org_b.id).exists()  # a loan stays the owner's
    await respond_exchange_request(staff_a, request.id, "return")
    assert (await Item.get(id=drill.id)).quantity == 1
    assert (await ExchangeRequest.get(id=request.id)).status == "returned"


async def test_exchange_requests_are_refused_when_they_should_be(org_a, org_b, staff_a, staff_b, make_org, make_member):
    staff_a, staff_b = await partners(org_a, org_b, staff_a, staff_b)
    private = await create_item(
        staff_a, org_a.id, {"title": "Caisse", "sharing_modes": ["give"], "initial_quantity": "1"}
    )
    for_sale = await create_item(
        staff_a,
        org_a.id,
        {"title": "Buffet", "visibility": "partners", "sharing_modes": ["sell"], "initial_quantity": "1"},
    )
    with pytest.raises(NotFound):
        await create_exchange_request(staff_b, org_b.id, {"item_id": private.id, "kind": "receive"})
    with pytest.raises(ValidationFailed) as wrong_mode:
        await create_exchange_request(staff_b, org_b.id, {"item_id": for_sale.id, "kind": "receive"})
    assert wrong_mode.value.errors[0].field == "kind"
    with pytest.raises(ValidationFailed) as too_many:
        await create_exchange_request(staff_b, org_b.id, {"item_id": for_sale.id, "kind": "buy", "quantity": "3"})
    assert too_many.value.errors[0].code == ErrorCode.INSUFFICIENT_STOCK
    with pytest.raises(ValidationFailed) as own:
        await create_exchange_request(staff_a, org_a.id, {"item_id": for_sale.id, "kind": "buy"})
    assert own.value.errors[0].field == "item_id"
    # a public item seen by a non-partner still cannot be requested
    stranger_org = await make_org()
    stranger = await make_member(stranger_org)
    public = await create_item(
        staff_a, org_a.id, {"title": "Vélo", "visibility": "public", "sharing_modes": ["give"], "initial_quantity": "1"}
    )
    with pytest.raises(ValidationFailed) as not_partner:
        await create_exchange_request(stranger, stranger_org.id, {"item_id": public.id, "kind": "receive"})
    assert not_partner.value.errors[0].code == ErrorCode.NOT_PARTNER
    assert await ExchangeRequest.all().count() == 0


async def test_handing_over_more_than_is_left_is_refused_and_changes_nothing(
    org_a, org_b, staff_a, staff_b, make_org, make_member
):
    # two partners each ask for 8 of the 10 kg
    org_c = await make_org()
    staff_c = await make_member(org_c, role=Role.STAFF)
    await partners(org_a, org_c, staff_a, staff_c)
    staff_a, staff_b = await partners(org_a, org_b, staff_a, staff_b)
    staff_c = await load_principal(staff_c.user_id)
    item = await create_item(
        staff_a,
        org_a.id,
        {"title": "Tissu", "unit": "kg", "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "10"},
    )
    first = await create_exchange_request(staff_b, org_b.id, {"item_id": item.id, "kind": "receive", "quantity": "8"})
    second = await create_exchange_request(staff_c, org_c.id, {"item_id": item.id, "kind": "receive", "quantity": "8"})
    for request in (first, second):
        await respond_exchange_request(staff_a, request.id, "accept")
    await respond_exchange_request(staff_a, first.id, "hand_over")
    with pytest.raises(ValidationFailed) as refused:
        await respond_exchange_request(staff_a, second.id, "hand_over")
    assert refused.value.errors[0].code == ErrorCode.INSUFFICIENT_STOCK
    assert (await ExchangeRequest.get(id=second.id)).status == "accepted"
    assert (await Item.get(id=item.id)).quantity == Decimal("2")
    assert await Item.filter(organization_id=org_b.id).count() == 1


async def test_a_request_asks_whole_pieces_and_only_a_loan_has_a_return_date(org_a, org_b, staff_a, staff_b):
    staff_a, staff_b = await partners(org_a, org_b, staff_a, staff_b)
    later, earlier = str(clock.today() + dt.timedelta(days=30)), str(clock.today() - dt.timedelta(days=1))
    bowl = await create_item(
        staff_a,
        org_a.id,
        {"title": "Saladier", "unit": "set", "visibility": "partners", "sharing_modes": ["give", "lend"],
         "initial_quantity": "2"},
    )  # fmt: skip
    refusals = [
        (
            {"kind": "receive", "quantity": "0.5"},
            "quantity",
            "This item is counted in whole units: enter a whole number.",
        ),
        ({"kind": "receive", "due_back_on": later}, "due_back_on", "Only a loan has a return date."),
        ({"kind": "borrow", "due_back_on": earlier}, "due_back_on", "The return date cannot be in the past."),
    ]
    for data, field, message in refusals:
        with pytest.raises(ValidationFailed) as refused:
            await create_exchange_request(staff_b, org_b.id, {"item_id": bowl.id, **data})
        assert (refused.value.errors[0].field, refused.value.text("en")) == (field, message)
    assert await ExchangeRequest.all().count() == 0
    loan = await create_exchange_request(
        staff_b, org_b.id, {"item_id": bowl.id, "kind": "borrow", "quantity": "1", "due_back_on": later}
    )
    assert str(loan.due_back_on) == later


async def test_an_item_already_asked_for_cannot_be_asked_again_until_the_request_closes(org_a, org_b, staff_a, staff_b):
    staff_a, staff_b = await partners(org_a, org_b, staff_a, staff_b)
    chairs = await create_item(
        staff_a,
        org_a.id,
        {"title": "Chaises", "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "6"},
    )
    first = await create_exchange_request(staff_b, org_b.id, {"item_id": chairs.id, "kind": "receive"})
    with pytest.raises(ValidationFailed) as twice:
        await create_exchange_request(staff_b, org_b.id, {"item_id": chairs.id, "kind": "receive", "quantity": "2"})
    assert (twice.value.errors[0].code, twice.value.text("en")) == (
        ErrorCode.ALREADY_EXISTS,
        "Your organization has already asked for this item.",
    )
    assert await ExchangeRequest.all().count() == 1
    # once declined, it may be asked for again
    await respond_exchange_request(staff_a, first.id, "decline")
    await create_exchange_request(staff_b, org_b.id, {"item_id": chairs.id, "kind": "receive"})
    assert await ExchangeRequest.all().count() == 2
