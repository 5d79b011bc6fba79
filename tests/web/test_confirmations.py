"""Irreversible actions ask first: a POST without ``confirm=1`` changes nothing and shows
what will happen; the confirmation page's own form (which works without JavaScript) acts."""

from __future__ import annotations

from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.network.models import ExchangeRequest, Partnership, PartnershipStatus
from fabcom.network.services import create_exchange_request
from fabcom.permissions import load_principal


async def test_blocking_a_partner_asks_first_then_blocks(make_client, make_member, org_a, org_b):
    link = await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    client = await make_client(await make_member(org_a, role=Role.ADMIN))
    partners = await client.get(f"/o/{org_a.slug}/partners")
    assert f'action="/o/{org_a.slug}/partnerships/{link.id}/block"' in partners.text

    asked = await client.post_form(f"/o/{org_a.slug}/partnerships/{link.id}/block")
    assert asked.status_code == 200
    assert f"Bloquer {org_b.name} ?" in asked.text
    assert f'<form method="post" action="/o/{org_a.slug}/partnerships/{link.id}/block"' in asked.text
    assert '<input type="hidden" name="confirm" value="1">' in asked.text
    # the focus is on the way back: pressing Enter again does not confirm
    assert f'href="/o/{org_a.slug}/partners" autofocus>Non, revenir en arrière</a>' in asked.text
    assert '<button type="submit" class="danger">' in asked.text
    assert (await Partnership.get(id=link.id)).status == PartnershipStatus.ACCEPTED

    blocked = await client.post_form(f"/o/{org_a.slug}/partnerships/{link.id}/block", {"confirm": "1"})
    assert blocked.status_code == 303
    assert (await Partnership.get(id=link.id)).status == PartnershipStatus.BLOCKED


async def test_accepting_a_partnership_needs_no_confirmation(make_client, make_member, org_a, org_b):
    link = await Partnership.create(organization=org_b, partner=org_a, status=PartnershipStatus.REQUESTED)
    client = await make_client(await make_member(org_a, role=Role.ADMIN))
    accepted = await client.post_form(f"/o/{org_a.slug}/partnerships/{link.id}/accept")
    assert accepted.status_code == 303
    assert (await Partnership.get(id=link.id)).status == PartnershipStatus.ACCEPTED


async def test_the_confirmation_comes_as_a_fragment_for_htmx(make_client, make_member, org_a, org_b):
    link = await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    client = await make_client(await make_member(org_a, role=Role.ADMIN))
    asked = await client.post(
        f"/o/{org_a.slug}/partnerships/{link.id}/block",
        headers={"HX-Request": "true", "X-CSRF-Token": client.csrf_token},
    )
    assert asked.status_code == 200
    assert "<html" not in asked.text
    assert f"Bloquer {org_b.name} ?" in asked.text
    assert (await Partnership.get(id=link.id)).status == PartnershipStatus.ACCEPTED


async def test_declining_an_exchange_request_asks_first(make_client, staff_a, staff_b, org_a, org_b):
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    item = await create_item(
        staff_b,
        org_b.id,
        {"title": "Perceuse", "visibility": "partners", "sharing_modes": ["lend"], "initial_quantity": "1"},
    )
    asker = await load_principal(staff_a.user_id)
    request = await create_exchange_request(asker, org_a.id, {"item_id": item.id, "kind": "borrow", "quantity": "1"})
    owner = await make_client(await load_principal(staff_b.user_id))
    url = f"/o/{org_b.slug}/exchanges/{request.id}/decline"
    asked = await owner.post_form(url, {"message": "Déjà prêtée"})
    assert asked.status_code == 200
    assert "Refuser la demande pour « Perceuse » ?" in asked.text
    assert '<input type="hidden" name="message" value="Déjà prêtée">' in asked.text
    assert (await ExchangeRequest.get(id=request.id)).status == "pending"
    declined = await owner.post_form(url, {"message": "Déjà prêtée", "confirm": "1"})
    assert declined.status_code == 303
    assert (await ExchangeRequest.get(id=request.id)).status == "declined"
