"""The ledger invariant: quantities come from movements and never go negative."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from tortoise.functions import Sum

from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.inventory.models import Item, StockMovement
from fabcom.inventory.services import create_item, record_movement
from fabcom.members.models import Role


async def ledger_total(item_id: int) -> Decimal:
    row = await StockMovement.filter(item_id=item_id).annotate(total=Sum("quantity")).first().values("total")
    return row["total"] or Decimal(0)


async def test_movements_move_the_quantity_and_the_ledger_agrees(org_a, staff_a):
    # given an item with 5 pieces donated
    item = await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "5", "unit_weight_kg": "4.5"})
    # when 2 are sold and 1 comes back
    await record_movement(staff_a, item.id, {"kind": "sale", "quantity": "2"})
    await record_movement(staff_a, item.id, {"kind": "return", "quantity": "1"})
    # then the quantity is 4, equal to the sum of the ledger, and weights were derived
    await item.refresh_from_db()
    assert item.quantity == Decimal("4")
    assert await ledger_total(item.id) == Decimal("4")
    weights = await StockMovement.filter(item_id=item.id).order_by("id").values_list("kind", "quantity", "weight_kg")
    assert weights == [
        ("donation", Decimal("5"), Decimal("22.5")),
        ("sale", Decimal("-2"), Decimal("9")),
        ("return", Decimal("1"), Decimal("4.5")),
    ]


async def test_fractional_bulk_stock_stays_exact(org_a, staff_a):
    # given 40.3 kg of fabric
    item = await create_item(staff_a, org_a.id, {"title": "Tissus", "unit": "kg", "initial_quantity": "40.3"})
    # when 12.1 then 27.5 kg leave: floats would leave 0.6999999999999993
    await record_movement(staff_a, item.id, {"kind": "gift", "quantity": "12.1"})
    await record_movement(staff_a, item.id, {"kind": "recycling", "quantity": "27.5"})
    # then exactly 0.7 kg remain and exactly 0.7 kg can still leave
    await record_movement(staff_a, item.id, {"kind": "sale", "quantity": "0.7"})
    await item.refresh_from_db()
    assert item.quantity == Decimal("0")
    assert await ledger_total(item.id) == Decimal("0")


async def test_withdrawing_more_than_the_stock_is_refused_and_writes_nothing(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Vélo", "initial_quantity": "1"})
    with pytest.raises(ValidationFailed) as refused:
        await record_movement(staff_a, item.id, {"kind": "sale", "quantity": "2"})
    assert refused.value.errors[0].code == ErrorCode.INSUFFICIENT_STOCK
    assert refused.value.errors[0].field == "quantity"
    assert refused.value.text("fr") == "Stock insuffisant : il n’en reste que 1."
    await item.refresh_from_db()
    assert item.quantity == Decimal("1")
    assert await StockMovement.filter(item_id=item.id).count() == 1


async def test_concurrent_withdrawals_of_the_last_units_never_oversell(org_a, staff_a, backend):
    # given 3 units, when 10 withdrawals of 1 race each other
    item = await create_item(staff_a, org_a.id, {"title": "Lampe", "initial_quantity": "3"})
    results = await asyncio.gather(
        *(record_movement(staff_a, item.id, {"kind": "sale", "quantity": "1"}) for _ in range(10)),
        return_exceptions=True,
    )
    # then exactly 3 succeed, 7 get a clear refusal, and stock is exactly 0
    refusals = [r for r in results if isinstance(r, ValidationFailed)]
    assert len([r for r in results if isinstance(r, StockMovement)]) == 3
    assert len(refusals) == 7
    assert {r.errors[0].code for r in refusals} == {ErrorCode.INSUFFICIENT_STOCK}
    await item.refresh_from_db()
    assert item.quantity == Decimal("0")
    assert await ledger_total(item.id) == Decimal("0")


async def test_two_concurrent_withdrawals_of_the_last_unit(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Bureau", "initial_quantity": "1"})
    first, second = await asyncio.gather(
        record_movement(staff_a, item.id, {"kind": "sale", "quantity": "1"}),
        record_movement(staff_a, item.id, {"kind": "gift", "quantity": "1"}),
        return_exceptions=True,
    )
    outcomes = sorted(type(r).__name__ for r in (first, second))
    assert outcomes == ["StockMovement", "ValidationFailed"]
    assert (await Item.get(id=item.id)).quantity == 0


async def test_adjustment_can_decrease_but_other_in_kinds_cannot(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Vis", "initial_quantity": "10"})
    await record_movement(staff_a, item.id, {"kind": "adjustment", "quantity": "3", "decrease": True})
    with pytest.raises(ValidationFailed) as refused:
        await record_movement(staff_a, item.id, {"kind": "donation", "quantity": "3", "decrease": True})
    assert refused.value.errors[0].field == "decrease"
    assert (await Item.get(id=item.id)).quantity == Decimal("7")


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"kind": "sale", "quantity": "0"}, "quantity", ErrorCode.OUT_OF_RANGE),
        ({"kind": "sale", "quantity": "-1"}, "quantity", ErrorCode.OUT_OF_RANGE),
        ({"kind": "sale", "quantity": "abc"}, "quantity", ErrorCode.INVALID),
        ({"kind": "stolen", "quantity": "1"}, "kind", ErrorCode.INVALID),
        ({"quantity": "1"}, "kind", ErrorCode.REQUIRED),
        (
            {"kind": "sale", "quantity": "1", "occurred_at": "2999-01-01T00:00:00+00:00"},
            "occurred_at",
            ErrorCode.INVALID,
        ),
        ({"kind": "sale", "quantity": "1", "occurred_at": "2024-01-01T00:00:00"}, "occurred_at", ErrorCode.INVALID),
        ({"kind": "sale", "quantity": "1", "weight_kg": "-2"}, "weight_kg", ErrorCode.OUT_OF_RANGE),
        ({"kind": "sale", "quantity": "1", "note": "x" * 501}, "note", ErrorCode.TOO_LONG),
    ],
)
async def test_bad_movements_are_refused_with_the_field_and_nothing_changes(org_a, staff_a, data, field, code):
    item = await create_item(staff_a, org_a.id, {"title": "Table", "initial_quantity": "2"})
    with pytest.raises(ValidationFailed) as refused:
        await record_movement(staff_a, item.id, data)
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]
    assert (await Item.get(id=item.id)).quantity == Decimal("2")
    assert await StockMovement.filter(item_id=item.id).count() == 1


async def test_other_organizations_cannot_move_stock(org_a, org_b, staff_a, staff_b, make_member):
    item = await create_item(staff_a, org_a.id, {"title": "Perceuse", "initial_quantity": "1", "visibility": "public"})
    # staff of B sees the public item but may not touch A's stock
    with pytest.raises(PermissionDenied):
        await record_movement(staff_b, item.id, {"kind": "sale", "quantity": "1"})
    # a plain member of A may not either
    member_a = await make_member(org_a, role=Role.MEMBER)
    with pytest.raises(PermissionDenied):
        await record_movement(member_a, item.id, {"kind": "sale", "quantity": "1"})
    private = await create_item(staff_a, org_a.id, {"title": "Caisse", "initial_quantity": "1"})
    with pytest.raises(NotFound):
        await record_movement(staff_b, private.id, {"kind": "sale", "quantity": "1"})
    assert await StockMovement.filter(organization_id=org_a.id).count() == 2


async def test_no_stock_leaves_an_archived_item_but_some_may_come_back(org_a, staff_a):
    """An archived item has left the inventory: selling, giving or lending it is refused and
    nothing is written; a return (stock coming in) is still recorded."""
    from fabcom.inventory.services import update_item

    lamp = await create_item(staff_a, org_a.id, {"title": "Lampe club", "initial_quantity": "2"})
    await update_item(staff_a, lamp.id, {"status": "archived"})
    for kind in ("sale", "gift", "loan"):
        with pytest.raises(ValidationFailed) as refused:
            await record_movement(staff_a, lamp.id, {"kind": kind, "quantity": "1"})
        assert refused.value.errors[0].text("fr") == "Lampe club est archivé : il n’est plus dans l’inventaire."
    await record_movement(staff_a, lamp.id, {"kind": "return", "quantity": "1"})
    await lamp.refresh_from_db()
    assert (lamp.quantity, await ledger_total(lamp.id)) == (Decimal("3"), Decimal("3"))


async def test_pieces_and_sets_move_by_whole_numbers_only(org_a, staff_a):
    # a chair is counted: half of one is a slip, refused before anything is written
    with pytest.raises(ValidationFailed) as opening:
        await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "2.5"})
    assert (opening.value.errors[0].field, opening.value.errors[0].code) == ("initial_quantity", ErrorCode.INVALID)
    assert await Item.all().count() == 0
    item = await create_item(staff_a, org_a.id, {"title": "Service à thé", "unit": "set", "initial_quantity": "3"})
    for kind in ("sale", "donation"):
        with pytest.raises(ValidationFailed) as slip:
            await record_movement(staff_a, item.id, {"kind": kind, "quantity": "0.5"})
        assert slip.value.errors[0].field == "quantity"
        assert slip.value.text("en") == "This item is counted in whole units: enter a whole number."
    await item.refresh_from_db()
    assert item.quantity == Decimal(3)
    assert await StockMovement.filter(item_id=item.id).count() == 1
    # "2.000" is a whole number; an adjustment may still put a wrong count right
    await record_movement(staff_a, item.id, {"kind": "sale", "quantity": "2.000"})
    await record_movement(staff_a, item.id, {"kind": "adjustment", "quantity": "0.5"})
    await item.refresh_from_db()
    assert item.quantity == Decimal("1.5")
