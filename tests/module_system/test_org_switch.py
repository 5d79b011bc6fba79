"""Switching a module off for one organization: who may, what disappears for that
organization (pages, menu, services, GraphQL), and that other organizations keep it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fabcom.api import global_id
from fabcom.audit.models import AuditEntry
from fabcom.auth.services import create_api_token
from fabcom.errors import PermissionDenied, ValidationFailed
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.module_system.models import OrganizationModule
from fabcom.module_system.services import module_enabled, set_module_enabled
from fabcom.permissions import known_scopes, system_principal
from modules.bookings.models import Booking
from modules.bookings.services import create_booking, make_bookable

PARIS = ZoneInfo("Europe/Paris")


def tomorrow(hour: int) -> dt.datetime:
    return dt.datetime.combine(dt.datetime.now(PARIS).date() + dt.timedelta(days=1), dt.time(hour), PARIS)


async def switch_off(principal, org) -> None:
    await set_module_enabled(principal, org.id, {"module": "bookings", "enabled": False})


async def csrf(client, path: str) -> str:
    page = await client.get(path)
    marker = '"X-CSRF-Token": "'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


@pytest.fixture
async def admin_a(make_member, org_a):
    return await make_member(org_a, role=Role.ADMIN)


async def test_an_admin_switches_a_module_off_for_the_organization_only(admin_a, org_a, org_b):
    assert await module_enabled("bookings", org_a.id)

    await switch_off(admin_a, org_a)

    assert not await module_enabled("bookings", org_a.id)
    assert await module_enabled("bookings", org_b.id)
    entry = await AuditEntry.get(action="organization.module_switch")
    assert (entry.organization_id, entry.after) == (org_a.id, {"module": "bookings", "enabled": False})


@pytest.mark.parametrize("role", [Role.STAFF, Role.VOLUNTEER, Role.MEMBER])
async def test_only_owners_and_admins_may_switch(make_member, org_a, role):
    someone = await make_member(org_a, role=role)
    with pytest.raises(PermissionDenied):
        await switch_off(someone, org_a)
    assert await OrganizationModule.all().count() == 0


async def test_an_admin_of_a_cannot_switch_b(admin_a, org_b):
    with pytest.raises(PermissionDenied):
        await switch_off(admin_a, org_b)
    assert await module_enabled("bookings", org_b.id)
    assert await OrganizationModule.all().count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"module": "nope", "enabled": False}, "module"),
        ({"module": "", "enabled": False}, "module"),
        ({"module": "bookings", "enabled": "maybe"}, "enabled"),
    ],
)
async def test_bad_switches_are_refused_field_by_field(admin_a, org_a, data, field):
    with pytest.raises(ValidationFailed) as refused:
        await set_module_enabled(admin_a, org_a.id, data)
    assert [e.field for e in refused.value.errors] == [field]
    assert await OrganizationModule.all().count() == 0


async def test_switched_off_pages_answer_404_and_the_menu_hides_the_module(client, login, admin_a, org_a):
    await login(client, admin_a)
    assert (await client.get(f"/m/bookings/o/{org_a.slug}/")).status_code == 200
    assert f'href="/m/bookings/o/{org_a.slug}/"' in (await client.get(f"/o/{org_a.slug}/")).text

    await switch_off(admin_a, org_a)

    assert (await client.get(f"/m/bookings/o/{org_a.slug}/")).status_code == 404
    htmx = {"HX-Request": "true"}  # a fragment of a module's page is refused too
    assert (await client.get(f"/m/bookings/o/{org_a.slug}/", headers=htmx)).status_code == 404
    assert f'href="/m/bookings/o/{org_a.slug}/"' not in (await client.get(f"/o/{org_a.slug}/")).text


async def test_the_other_organization_keeps_its_pages_and_menu(client, login, make_member, org_a, org_b, admin_a):
    both = await make_member(org_a, org_b, role=Role.STAFF)
    await switch_off(admin_a, org_a)
    await login(client, both)

    assert (await client.get(f"/m/bookings/o/{org_b.slug}/")).status_code == 200
    assert f'href="/m/bookings/o/{org_b.slug}/"' in (await client.get(f"/o/{org_b.slug}/")).text
    assert (await client.get(f"/m/bookings/o/{org_a.slug}/")).status_code == 404


async def test_the_settings_page_switches_off_and_on_again(client, login, admin_a, org_a):
    await login(client, admin_a)
    path = f"/o/{org_a.slug}/settings/modules"
    page = await client.get(path)
    assert page.status_code == 200
    assert "<strong>Réservations</strong>" in page.text  # the module's name, in French only
    assert "prêter des objets avec date de retour" in page.text  # the module's description, in French
    token = await csrf(client, path)

    off = await client.post(path, data={"module": "bookings", "enabled": "0"}, headers={"X-CSRF-Token": token})
    assert off.status_code == 303
    assert not await module_enabled("bookings", org_a.id)
    on = await client.post(path, data={"module": "bookings", "enabled": "1"}, headers={"X-CSRF-Token": token})
    assert on.status_code == 303
    assert await module_enabled("bookings", org_a.id)


async def test_staff_cannot_open_the_settings_page_and_an_outsider_sees_nothing(client, login, staff_a, staff_b, org_a):
    await login(client, staff_a)
    assert (await client.get(f"/o/{org_a.slug}/settings/modules")).status_code == 403
    await login(client, staff_b)
    assert (await client.get(f"/o/{org_a.slug}/settings/modules")).status_code == 404


async def test_bookings_of_a_switched_off_organization_are_refused_and_hidden(admin_a, staff_a, org_a):
    item = await create_item(staff_a, org_a.id, {"title": "Découpeuse laser"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 60})
    await create_booking(staff_a, {"item_id": item.id, "starts_at": tomorrow(10), "ends_at": tomorrow(11)})

    await switch_off(admin_a, org_a)

    with pytest.raises(ValidationFailed) as refused:
        await create_booking(staff_a, {"item_id": item.id, "starts_at": tomorrow(14), "ends_at": tomorrow(15)})
    assert refused.value.text("en") == "This item cannot be booked."
    with pytest.raises(ValidationFailed):
        await make_bookable(staff_a, item.id, {"slot_minutes": 30})
    assert await Booking.filter(item_id=item.id).count() == 1  # kept, for when it is switched on again


async def test_graphql_fields_of_a_switched_off_organization(client, admin_a, staff_a, org_a, org_b, staff_b):
    item_a = await create_item(staff_a, org_a.id, {"title": "Fraiseuse", "visibility": "public"})
    item_b = await create_item(staff_b, org_b.id, {"title": "Tour à bois", "visibility": "public"})
    for staff, item in ((staff_a, item_a), (staff_b, item_b)):
        await make_bookable(staff, item.id, {"slot_minutes": 60})
        await create_booking(staff, {"item_id": item.id, "starts_at": tomorrow(10), "ends_at": tomorrow(11)})
    await switch_off(admin_a, org_a)
    _token, secret = await create_api_token(
        system_principal(), staff_a.user_id, {"name": "t", "scopes": [s.code for s in known_scopes()]}
    )

    async def gql(query, variables=None):
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {secret}", "Accept-Language": "fr"},
        )
        assert response.status_code == 200
        return response.json()

    item_query = """query($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on Item {
        title bookings(first: 5) { edges { node { state } } } availability(from: $from, to: $to) { start } } } }"""
    variables = {"from": tomorrow(0).isoformat(), "to": tomorrow(23).isoformat()}
    answer = await gql(item_query, {"id": global_id("Item", item_a.id), **variables})
    # switched off: no bookings and nothing to book, like an item never made bookable (no error
    # that would fail a whole page of items)
    assert "errors" not in answer
    assert answer["data"] == {"node": {"title": "Fraiseuse", "bookings": {"edges": []}, "availability": None}}
    bookings_only = await gql(
        "query($id: ID!) { node(id: $id) { ... on Item { title bookings(first: 5) { edges { node { state } } } } } }",
        {"id": global_id("Item", item_a.id)},
    )
    assert bookings_only["data"] == {"node": {"title": "Fraiseuse", "bookings": {"edges": []}}}
    created = await gql(
        """mutation($input: BookingsBookingCreateInput!) { bookingCreate(input: $input) {
           booking { id } errors { field code message } } }""",
        {
            "input": {
                "itemId": global_id("Item", item_a.id),
                "startsAt": tomorrow(14).isoformat(),
                "endsAt": tomorrow(15).isoformat(),
            }
        },
    )
    assert created["data"]["bookingCreate"] == {
        "booking": None,
        "errors": [{"field": "itemId", "code": "INVALID", "message": "Cet objet ne peut pas être réservé."}],
    }
    # Organization B is untouched.
    answer_b = await gql(item_query, {"id": global_id("Item", item_b.id), **variables})
    assert "errors" not in answer_b
    assert answer_b["data"]["node"]["title"] == "Tour à bois"
    assert len(answer_b["data"]["node"]["availability"]) >= 1


async def test_any_modules_pages_follow_the_switch_without_code_of_their_own(client, login, admin_a, org_a):
    # the ressourcerie module has no switch-specific code: its views call current_org
    await login(client, admin_a)
    assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/weighing")).status_code == 200

    await set_module_enabled(admin_a, org_a.id, {"module": "ressourcerie", "enabled": False})

    assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/weighing")).status_code == 404
    assert (await client.get(f"/m/bookings/o/{org_a.slug}/")).status_code == 200  # the other module stays
