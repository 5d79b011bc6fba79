"""Surplus lots offered to partners: a core item given away and visible to partners, asked
for through the core exchange requests; its hand-over records the outflow "gift to
partner" here, and an intake at a partner that is a local ressourcerie."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fabcom.api import NotFound, Role, ValidationFailed, get_item_for
from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.network.services import create_exchange_request, respond_exchange_request
from modules.ressourcerie.models import Intake, IntakeLine, Outflow, OutflowLine
from modules.ressourcerie.services import offer_lot
from modules.ressourcerie.tests.test_pages import csrf


@pytest.fixture
async def partners(org_a, make_org, make_member):
    """org_a and a local ressourcerie partner; staff of each loaded after the partnership."""
    other = await make_org("ressourcerie-p", name="Ressourcerie P", kind="ressourcerie")
    await Partnership.create(organization=org_a, partner=other, status=PartnershipStatus.ACCEPTED)
    return other, await make_member(org_a), await make_member(other)


async def hand_over(owner_staff, partner_staff, partner, item_id, quantity):
    request = await create_exchange_request(
        partner_staff, partner.id, {"item_id": item_id, "kind": "receive", "quantity": quantity}
    )
    await respond_exchange_request(owner_staff, request.id, "accept")
    await respond_exchange_request(owner_staff, request.id, "hand_over")


async def test_a_lot_is_offered_to_partners_and_its_hand_over_is_an_outflow(org_a, partners):
    partner, staff, partner_staff = partners
    lot = await offer_lot(staff, org_a.id, {"title": "40 kg de textile", "category_code": "C_22", "quantity": "40"})
    assert (lot.visibility.value, lot.sharing_modes, lot.unit.value, lot.quantity) == (
        "partners",
        ["give"],
        "kg",
        Decimal("40"),
    )
    assert (await get_item_for(partner_staff, lot.id)).id == lot.id  # in the partner's view of the network

    await hand_over(staff, partner_staff, partner, lot.id, "15")

    outflow = await Outflow.get(organization_id=org_a.id)
    assert (outflow.destination.value, outflow.partner_organization_id) == ("partner_gift", partner.id)  # type: ignore[attr-defined]
    assert [(line.weight_kg) for line in await OutflowLine.filter(outflow_id=outflow.id)] == [Decimal("15")]
    # the partner, a local ressourcerie, counts it as an intake from org_a
    intake = await Intake.get(organization_id=partner.id)
    assert (intake.donor_kind.value, intake.donor_organization_id) == ("organization", org_a.id)  # type: ignore[attr-defined]
    assert [line.net_kg for line in await IntakeLine.filter(intake_id=intake.id)] == [Decimal("15")]
    assert (await Item.get(id=lot.id)).quantity == Decimal("25")


async def test_pieces_are_weighed_through_their_total_weight(org_a, partners):
    partner, staff, partner_staff = partners
    # 12 chairs of 60 kg in all: 5 kg each; 3 handed over = 15 kg out
    chairs = await offer_lot(
        staff,
        org_a.id,
        {"title": "12 chaises", "category_code": "C_15", "quantity": "12", "unit": "piece", "weight_kg": "60"},
    )
    await hand_over(staff, partner_staff, partner, chairs.id, "3")
    assert await OutflowLine.filter(outflow__organization_id=org_a.id).values_list("weight_kg", flat=True) == [
        Decimal("15")
    ]


async def test_an_ordinary_item_handed_over_is_no_ressourcerie_outflow(org_a, partners):
    partner, staff, partner_staff = partners
    bike = await create_item(
        staff,
        org_a.id,
        {
            "title": "Vélo",
            "category_code": "C_26",
            "initial_quantity": "1",
            "unit_weight_kg": "14",
            "visibility": "partners",
            "sharing_modes": ["give"],
        },
    )
    await hand_over(staff, partner_staff, partner, bike.id, "1")
    assert await Outflow.all().count() == 0
    assert await Intake.all().count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "Chaises", "category_code": "C_15", "quantity": "12", "unit": "piece"}, None),
        ({"title": "Textile", "category_code": "C_22", "quantity": "5000"}, "quantity"),
        ({"title": "Textile", "category_code": "C_22", "quantity": "-4"}, "quantity"),
        ({"title": "Textile", "category_code": "C_99", "quantity": "4"}, "lot.0.category_code"),
    ],
)
async def test_bad_lots_are_refused_and_nothing_is_written(org_a, staff_a, data, field):
    with pytest.raises(ValidationFailed) as refused:
        await offer_lot(staff_a, org_a.id, data)
    assert refused.value.errors[0].field == field
    assert await Item.all().count() == 0


async def test_a_lot_is_not_seen_outside_the_partners(org_a, partners, make_org, make_member):
    _partner, staff, _ = partners
    stranger_org = await make_org("ailleurs", name="Ailleurs")
    stranger = await make_member(stranger_org)
    lot = await offer_lot(staff, org_a.id, {"title": "Vaisselle", "category_code": "C_18", "quantity": "8"})
    with pytest.raises(NotFound):
        await get_item_for(stranger, lot.id)


async def test_the_lots_page(client, login, org_a, staff_a, make_member):
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/lots"
    token = await csrf(client, url)
    refused = await client.post(
        url, data={"csrf_token": token, "title": "Textile", "category": "vêt", "quantity": "dix"}
    )
    assert refused.status_code == 400
    assert await Item.all().count() == 0
    done = await client.post(
        url,
        data={"csrf_token": token, "title": "40 kg de textile", "category": "vêt", "quantity": "40"},
        follow_redirects=True,
    )
    assert "« 40 kg de textile » est proposé à vos partenaires." in done.text
    assert "40 kg de textile</a>" in done.text
    member = await make_member(org_a, role=Role.MEMBER)
    client.cookies.clear()
    await login(client, member)
    assert (await client.post(url, data={"csrf_token": await csrf(client, "/account")})).status_code in (403, 404)


async def test_a_lot_on_a_parent_category_is_refused_as_a_weighing_is(org_a, staff_a):
    # when a lot is offered on « Électroménager », which holds three streams
    with pytest.raises(ValidationFailed) as refused:
        await offer_lot(staff_a, org_a.id, {"title": "Frigos", "category_code": "appliances", "quantity": "80"})

    # then the refusal of intake and outflow lines on a parent, in the reader's language, and nothing written
    [error] = refused.value.errors
    assert (error.code.value, error.field) == ("invalid", "lot.0.category_code")
    assert error.text("fr") == (
        "Électroménager a des sous-catégories : pesez sur l’une d’elles (C_01 Gros électroménager (froid), "
        "C_02 Gros électroménager (hors froid), C_03 Petit électroménager)."
    )
    assert error.text("en").startswith("Appliances has sub-categories: weigh on one of them (C_01 ")
    assert await Item.all().count() == 0
