"""A day at a ressourcerie, with figures computed by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from fabcom.api import ErrorCode, PermissionDenied, Role, ValidationFailed, clock
from fabcom.inventory.models import Item, StockMovement
from fabcom.inventory.services import create_item
from fabcom.testing.schema import unindexed
from modules.ressourcerie.models import CashClosing, Intake, IntakeLine, Outflow, Sale
from modules.ressourcerie.reports import build_report, recycling_by_channel
from modules.ressourcerie.services import (
    add_tare,
    close_till,
    local_day_bounds,
    record_intake,
    record_outflow,
    record_sale,
    undo_intake_line,
)


@pytest.fixture
async def day(org_a, org_b, staff_a):
    """Intakes 68 kg; out: sold 4 kg + given 6 kg (re-use 10), recycled 15 kg, waste 3 kg."""
    crate = await add_tare(staff_a, org_a.id, {"name": "Caisse bleue", "weight_kg": "2.5"})
    await record_intake(
        staff_a,
        org_a.id,
        {
            "mode_code": "apport_volontaire",
            "lines": [
                {"category_code": "C_15", "gross_kg": "30"},
                {"category_code": "C_22", "gross_kg": "12.5", "tare_id": crate.id},
            ],
        },
    )
    await record_intake(
        staff_a,
        org_a.id,
        {
            "mode_code": "collecte_domicile",
            "donor_kind": "person",
            "donor_name": "Mme Roux",
            "lines": [{"category_code": "C_03", "gross_kg": "8"}],
        },
    )
    await record_intake(
        staff_a,
        org_a.id,
        {
            "mode_code": "decheterie",
            "donor_kind": "person",
            "donor_name": " mme roux",
            "lines": [{"category_code": "C_11", "gross_kg": "20"}],
        },
    )
    commode = await create_item(
        staff_a, org_a.id, {"title": "Commode", "category_code": "C_15", "initial_quantity": "1", "unit_value": "45"}
    )
    await record_sale(
        staff_a,
        org_a.id,
        {
            "payment_mode": "cash",
            "lines": [{"category_code": "C_22", "weight_kg": "4", "amount": "8.00", "label": "Vêtements au kilo"}],
        },
    )
    await record_sale(
        staff_a, org_a.id, {"payment_mode": "card", "lines": [{"item_id": commode.id, "amount": "45.00"}]}
    )
    await record_outflow(
        staff_a,
        org_a.id,
        {
            "destination": "partner_gift",
            "partner_organization_id": org_b.id,
            "lines": [{"category_code": "C_11", "weight_kg": "6"}],
        },
    )
    await record_outflow(
        staff_a,
        org_a.id,
        {
            "destination": "recycling",
            "lines": [{"category_code": "C_03", "weight_kg": "5"}, {"category_code": "C_15", "weight_kg": "10"}],
        },
    )
    await record_outflow(
        staff_a, org_a.id, {"destination": "waste", "lines": [{"category_code": "C_22", "weight_kg": "3"}]}
    )
    return commode


async def test_the_days_report_matches_the_hand_computed_figures(org_a, staff_a, day):
    today = clock.today()
    report = await build_report(staff_a, org_a.id, today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert report.kg_in == Decimal("68.000")
    assert report.kg_in_by_mode == {
        "apport_volontaire": Decimal("40.000"),
        "collecte_domicile": Decimal("8.000"),
        "decheterie": Decimal("20.000"),
    }
    assert report.kg_in_by_category == {
        "C_15": Decimal("30.000"),
        "C_22": Decimal("10.000"),
        "C_03": Decimal("8.000"),
        "C_11": Decimal("20.000"),
    }
    assert report.kg_out_by_destination == {
        "sale": Decimal("4.000"),
        "partner_gift": Decimal("6.000"),
        "recycling": Decimal("15.000"),
        "waste": Decimal("3.000"),
    }
    assert report.kg_out_by_channel == {
        "TLC": Decimal("7.000"),
        "none": Decimal("6.000"),
        "DEEE": Decimal("5.000"),
        "DEA": Decimal("10.000"),
    }
    assert report.reuse_rate == Decimal("14.7")  # 10 / 68 = 14.71 %
    assert report.recovery_rate == Decimal("36.8")  # (10 + 15) / 68 = 36.76 %
    assert report.revenue_by_mode == {"cash": Decimal("8.00"), "card": Decimal("45.00")}
    assert report.revenue == Decimal("53.00")
    assert (report.intakes, report.donors, report.sales) == (3, 1, 2)


async def test_an_empty_period_has_no_rates(org_a, staff_a):
    report = await build_report(staff_a, org_a.id, dt.date(2020, 1, 1), dt.date(2020, 1, 31))
    assert (report.kg_in, report.reuse_rate, report.recovery_rate, report.revenue) == (0, None, None, 0)


async def test_recycling_per_rep_channel(org_a, staff_a, day):
    today = clock.today()
    assert await recycling_by_channel(staff_a, org_a.id, today, today) == {
        "DEA": Decimal("10.000"),
        "DEEE": Decimal("5.000"),
    }
    # books have no REP channel: recycling them needs a named buyer
    await record_outflow(
        staff_a, org_a.id, {"destination": "recycling", "lines": [{"category_code": "C_11", "weight_kg": "2"}]}
    )
    with pytest.raises(ValidationFailed) as refused:
        await recycling_by_channel(staff_a, org_a.id, today, today)
    assert refused.value.text("fr") == (
        "Ces catégories n’ont pas de filière REP et aucun repreneur n’a été indiqué : Livres. "
        "Indiquez le repreneur sur ces sorties."
    )
    with pytest.raises(ValidationFailed) as in_english:
        await recycling_by_channel(staff_a, org_a.id, today, today, "en")
    assert "named: Books." in in_english.value.text("en")
    await Outflow.filter(buyer="", destination="recycling", lines__category__code="C_11").update(
        buyer="Papeterie Dupuis"
    )
    assert (await recycling_by_channel(staff_a, org_a.id, today, today))["buyer:Papeterie Dupuis"] == Decimal("2.000")


async def test_the_sold_item_left_the_stock_and_cannot_be_sold_twice(org_a, staff_a, day):
    assert (await Item.get(id=day.id)).quantity == 0
    assert await StockMovement.filter(item_id=day.id, kind="sale").count() == 1
    with pytest.raises(ValidationFailed) as refused:
        await record_sale(
            staff_a,
            org_a.id,
            {
                "payment_mode": "cash",
                "lines": [
                    {"category_code": "C_18", "weight_kg": "1", "amount": "2"},
                    {"item_id": day.id, "amount": "45"},
                ],
            },
        )
    assert refused.value.errors[0].field == "lines.1.item_id"
    assert refused.value.text("fr") == "Commode est déjà vendu ou en rupture de stock."
    assert await Sale.all().count() == 2  # nothing written: no third receipt, no outflow for the lot
    assert await Outflow.filter(destination="sale").count() == 1


async def test_receipts_are_numbered_without_gaps_even_from_two_tills(org_a, staff_a, backend):
    await asyncio.gather(
        *(
            record_sale(
                staff_a,
                org_a.id,
                {"payment_mode": "cash", "lines": [{"category_code": "C_18", "weight_kg": "1", "amount": "1"}]},
            )
            for _ in range(5)
        )
    )
    assert sorted(await Sale.filter(organization_id=org_a.id).values_list("number", flat=True)) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("line", "field", "code"),
    [
        ({"category_code": "C_15", "gross_kg": "-3"}, "lines.0.gross_kg", ErrorCode.OUT_OF_RANGE),
        ({"category_code": "C_15", "gross_kg": "0"}, "lines.0.gross_kg", ErrorCode.OUT_OF_RANGE),
        ({"category_code": "C_15", "gross_kg": "2500"}, "lines.0.gross_kg", ErrorCode.OUT_OF_RANGE),
        ({"category_code": "C_99", "gross_kg": "3"}, "lines.0.category_code", ErrorCode.INVALID),
        ({"category_code": "C_15", "gross_kg": "2", "tare_id": "crate"}, "lines.0.tare_id", ErrorCode.INVALID),
        ({"category_code": "C_15", "gross_kg": "2", "tare_id": 999}, "lines.0.tare_id", ErrorCode.INVALID),
    ],
)
async def test_bad_weighings_are_refused_and_nothing_is_written(org_a, staff_a, line, field, code):
    with pytest.raises(ValidationFailed) as refused:
        await record_intake(staff_a, org_a.id, {"mode_code": "apport_volontaire", "lines": [line]})
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]
    assert await Intake.all().count() == 0


async def test_a_tare_heavier_than_the_gross_weight_is_refused(org_a, staff_a):
    trolley = await add_tare(staff_a, org_a.id, {"name": "Chariot", "weight_kg": "15"})
    with pytest.raises(ValidationFailed) as refused:
        await record_intake(
            staff_a,
            org_a.id,
            {
                "mode_code": "apport_volontaire",
                "lines": [
                    {"category_code": "C_15", "gross_kg": "40"},
                    {"category_code": "C_15", "gross_kg": "12", "tare_id": trolley.id},
                ],
            },
        )
    assert [e.field for e in refused.value.errors] == ["lines.1.tare_id"]
    assert refused.value.text("fr") == "Le contenant (15 kg) pèse autant que la pesée, ou plus."
    assert await IntakeLine.all().count() == 0


async def test_an_absurd_weight_message_says_what_to_check(org_a, staff_a):
    with pytest.raises(ValidationFailed) as refused:
        await record_intake(
            staff_a,
            org_a.id,
            {"mode_code": "apport_volontaire", "lines": [{"category_code": "C_15", "gross_kg": "3500"}]},
        )
    assert refused.value.text("en") == "3,500 kg on one line is more than the 2,000 kg allowed: check the weight."


async def test_the_maximum_line_weight_is_a_setting(org_a, staff_a, module_env):
    module_env("FABCOM_RESSOURCERIE_MAX_LINE_KG", "50")
    with pytest.raises(ValidationFailed):
        await record_intake(
            staff_a,
            org_a.id,
            {"mode_code": "apport_volontaire", "lines": [{"category_code": "C_15", "gross_kg": "60"}]},
        )


async def test_donors_and_modes_are_checked(org_a, staff_a):
    for data in ({"mode_code": "teleportation"}, {"donor_kind": "person"}, {"donor_kind": "organization"}):
        with pytest.raises(ValidationFailed):
            await record_intake(
                staff_a,
                org_a.id,
                {"mode_code": "apport_volontaire", **data, "lines": [{"category_code": "C_15", "gross_kg": "3"}]},
            )
    assert await Intake.all().count() == 0


async def test_an_itemised_object_is_traced_from_its_donation(org_a, staff_a):
    intake = await record_intake(
        staff_a,
        org_a.id,
        {
            "mode_code": "collecte_domicile",
            "donor_kind": "person",
            "donor_name": "M. Bernard",
            "lines": [{"category_code": "C_26", "gross_kg": "14.2", "item_title": "Vélo de ville Peugeot"}],
        },
    )
    line = await IntakeLine.get(intake_id=intake.id).prefetch_related("item")
    assert (line.item.title, line.item.quantity, line.item.unit_weight_kg) == (
        "Vélo de ville Peugeot",
        1,
        Decimal("14.2"),
    )
    assert line.item.attributes == {"ressourcerie_intake": intake.id}
    movement = await StockMovement.get(item_id=line.item.id)
    assert (movement.kind, movement.counterparty) == ("donation", "M. Bernard")


async def test_the_last_weighing_can_be_undone_within_a_minute_by_its_author(org_a, staff_a, make_member):
    intake = await record_intake(
        staff_a,
        org_a.id,
        {
            "mode_code": "apport_volontaire",
            "lines": [{"category_code": "C_15", "gross_kg": "3"}, {"category_code": "C_18", "gross_kg": "2"}],
        },
    )
    first, second = await IntakeLine.filter(intake_id=intake.id).order_by("id")
    colleague = await make_member(org_a, role=Role.STAFF)
    with pytest.raises(Exception, match="Not found"):
        await undo_intake_line(colleague, second.id)
    await undo_intake_line(staff_a, second.id)
    assert await IntakeLine.filter(intake_id=intake.id).count() == 1
    await IntakeLine.filter(id=first.id).update(created_at=clock.now() - dt.timedelta(minutes=2))
    with pytest.raises(ValidationFailed) as late:
        await undo_intake_line(staff_a, first.id)
    assert late.value.errors[0].code == ErrorCode.INVALID_STATE
    assert await IntakeLine.filter(intake_id=intake.id).count() == 1


async def test_closing_the_till(org_a, staff_a, make_member, day):
    closing = await close_till(staff_a, org_a.id, {"day": clock.today().isoformat(), "cash_counted": "10.00"})
    assert closing.totals == {"card": "45.00", "cash": "8.00"}
    assert (closing.sales_count, closing.cash_difference) == (2, Decimal("2.00"))
    assert await Sale.filter(closing_id=closing.id).count() == 2
    with pytest.raises(ValidationFailed) as twice:
        await close_till(staff_a, org_a.id, {"day": clock.today().isoformat()})
    assert twice.value.errors[0].code == ErrorCode.ALREADY_EXISTS
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    with pytest.raises(PermissionDenied):
        await close_till(volunteer, org_a.id, {"day": (clock.today() - dt.timedelta(days=1)).isoformat()})
    assert await CashClosing.all().count() == 1

    # a closed day's totals are final: a sale on it is refused, nothing written
    yesterday = clock.today() - dt.timedelta(days=1)
    await close_till(staff_a, org_a.id, {"day": yesterday.isoformat()})
    lot = {"payment_mode": "cash", "lines": [{"category_code": "C_15", "weight_kg": "3", "amount": "2"}]}
    noon = local_day_bounds(yesterday)[0] + dt.timedelta(hours=12)
    with pytest.raises(ValidationFailed) as late:
        await record_sale(staff_a, org_a.id, {**lot, "occurred_at": noon.isoformat()})
    assert late.value.errors[0].text("fr") == (
        "La caisse de ce jour est clôturée : plus aucune vente ne peut y être enregistrée."
    )
    assert await Sale.all().count() == 2
    earlier = await record_sale(staff_a, org_a.id, {**lot, "occurred_at": (noon - dt.timedelta(days=1)).isoformat()})
    assert earlier.closing_id is None  # the day before is not closed: its till still takes sales


async def test_other_organizations_cannot_weigh_sell_or_read_reports(org_a, staff_b):
    with pytest.raises(PermissionDenied):
        await record_intake(
            staff_b, org_a.id, {"mode_code": "apport_volontaire", "lines": [{"category_code": "C_15", "gross_kg": "3"}]}
        )
    with pytest.raises(PermissionDenied):
        await record_sale(
            staff_b,
            org_a.id,
            {"payment_mode": "cash", "lines": [{"category_code": "C_15", "weight_kg": "3", "amount": "1"}]},
        )
    with pytest.raises(PermissionDenied):
        await build_report(staff_b, org_a.id, clock.today(), clock.today())


async def test_the_lines_of_an_intake_outflow_or_sale_are_read_by_index(db):
    assert (
        await unindexed(
            db,
            [
                ("ressourcerie_intake_line", "intake_id"),
                ("ressourcerie_outflow_line", "outflow_id"),
                ("ressourcerie_sale_line", "sale_id"),
                ("ressourcerie_sale", "closing_id"),
                ("ressourcerie_remote_figures", "organization_id"),
            ],
        )
        == []
    )
