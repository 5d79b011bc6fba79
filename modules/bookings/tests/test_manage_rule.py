"""Who manages an organization's bookings is one rule, the manifest's ``MANAGE``
(``bookings.manage``: owners, admins, staff and volunteers; not members): the desk's
buttons and forms, what the desk accepts, the services and the API all ask it, and
nothing else (no inventory right). Someone of another organization gets the 404 of a
missing page or booking."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fabcom.api import global_id
from fabcom.auth.services import create_api_token
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.permissions import Principal, known_scopes, system_principal
from modules.bookings import MANAGE, module
from modules.bookings.models import Booking, BookingRule, BookingState
from modules.bookings.services import create_booking, make_bookable, manages_bookings

PARIS = ZoneInfo("Europe/Paris")
CANCEL = """
mutation($id: ID!) {
  bookingCancel(input: {id: $id}) { booking { state } errors { field code } }
}"""
ITEM_BOOKINGS = "query($id: ID!) { node(id: $id) { ... on Item { bookings(first: 10) { totalCount } } } }"


def tomorrow_at(hour: int) -> dt.datetime:
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), PARIS)


@pytest.fixture
async def room(org_a, staff_a):
    """A public meeting room whose bookings need approval, asked once by a member."""
    item = await create_item(staff_a, org_a.id, {"title": "Salle de réunion", "visibility": "public"})
    await make_bookable(staff_a, item.id, {"requires_approval": True})
    return item


@pytest.fixture
async def requested(room, org_a, make_member):
    booker = await make_member(org_a, role=Role.MEMBER)
    return await create_booking(booker, {"item_id": room.id, "starts_at": tomorrow_at(10), "ends_at": tomorrow_at(11)})


async def csrf(client, org) -> str:
    page = await client.get(f"/m/bookings/o/{org.slug}/")
    marker = '"X-CSRF-Token": "'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


async def graphql(client, principal: Principal, query: str, variables: dict[str, str]) -> dict:
    _token, secret = await create_api_token(
        system_principal(), principal.user_id, {"name": "t", "scopes": [s.code for s in known_scopes()]}
    )
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"},
    )
    assert response.status_code == 200
    return response.json()["data"]


def test_the_rule_is_declared_in_the_manifest():
    assert module.permissions == (MANAGE,)
    assert (MANAGE.code, MANAGE.roles, MANAGE.scope) == (
        "bookings.manage",
        ("owner", "admin", "staff", "volunteer"),
        "bookings:write",
    )


@pytest.mark.parametrize(
    ("role", "manages"),
    [(Role.OWNER, True), (Role.ADMIN, True), (Role.STAFF, True), (Role.VOLUNTEER, True), (Role.MEMBER, False)],
)
async def test_each_role_against_the_rule(role, manages, org_a, org_b, make_member):
    who = await make_member(org_a, role=role)
    assert manages_bookings(who, org_a.id) is manages
    assert manages_bookings(who, org_a.id, "bookings:read") is manages
    assert manages_bookings(who, org_b.id) is False  # never in another organization
    # through a token, the bookings scopes and no inventory scope
    writer = Principal(user_id=who.user_id, roles=who.roles, scopes=frozenset({"bookings:write"}))
    reader = Principal(user_id=who.user_id, roles=who.roles, scopes=frozenset({"bookings:read", "inventory:write"}))
    assert manages_bookings(writer, org_a.id) is manages
    assert manages_bookings(reader, org_a.id) is False
    assert manages_bookings(reader, org_a.id, "bookings:read") is manages


async def test_a_member_may_not_manage_bookings_on_the_desk(client, login, org_a, room, requested, make_member):
    # given a member of the organization (not the booker)
    member = await make_member(org_a, role=Role.MEMBER)
    other = await create_item(system_principal(), org_a.id, {"title": "Perceuse"})
    await login(client, member)

    # then the desk offers them neither the buttons nor the form
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert desk.status_code == 200
    assert 'value="approve"' not in desk.text
    assert "Rendre un objet réservable" not in desk.text

    # and what they send anyway is refused, with nothing written
    token = await csrf(client, org_a)
    approve = await client.post(
        f"/m/bookings/o/{org_a.slug}/",
        data={"booking_id": str(requested.id), "action": "approve"},
        headers={"X-CSRF-Token": token},
    )
    assert approve.status_code == 404  # the service's answer for a booking they may not change: not found
    assert (await Booking.get(id=requested.id)).state == BookingState.REQUESTED
    bookable = await client.post(
        f"/m/bookings/o/{org_a.slug}/",
        data={"make_bookable": "1", "item_id": str(other.id), "slot_minutes": "60"},
        headers={"X-CSRF-Token": token},
    )
    assert bookable.status_code == 400
    assert "Seules les personnes qui gèrent les réservations peuvent rendre un objet réservable." in bookable.text
    assert await BookingRule.filter(item_id=other.id).count() == 0


async def test_a_volunteer_manages_bookings_on_the_desk(client, login, org_a, requested, make_member):
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    await login(client, volunteer)
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert 'value="approve"' in desk.text
    approved = await client.post(
        f"/m/bookings/o/{org_a.slug}/",
        data={"booking_id": str(requested.id), "action": "approve"},
        headers={"X-CSRF-Token": await csrf(client, org_a)},
    )
    assert approved.status_code == 303
    assert (await Booking.get(id=requested.id)).state == BookingState.CONFIRMED


async def test_another_organizations_staff_get_404_on_the_desk(client, login, org_a, org_b, requested, staff_b):
    await login(client, staff_b)
    assert (await client.get(f"/m/bookings/o/{org_a.slug}/")).status_code == 404
    assert (await client.get(f"/m/bookings/o/{org_a.slug}/bookable-items?item_q=salle")).status_code == 404
    sent = await client.post(
        f"/m/bookings/o/{org_a.slug}/",
        data={"booking_id": str(requested.id), "action": "approve"},
        headers={"X-CSRF-Token": await csrf(client, org_b)},
    )
    assert sent.status_code == 404
    assert (await Booking.get(id=requested.id)).state == BookingState.REQUESTED


async def test_the_api_asks_the_same_rule(client, org_a, room, requested, make_member, staff_b):
    booking_id = global_id("BookingsBooking", requested.id)
    item_id = global_id("Item", room.id)
    member = await make_member(org_a, role=Role.MEMBER)
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)

    # a member sees none of the others' bookings, and may not cancel them: not found
    assert await graphql(client, member, ITEM_BOOKINGS, {"id": item_id}) == {"node": {"bookings": {"totalCount": 0}}}
    refused = await graphql(client, member, CANCEL, {"id": booking_id})
    assert refused == {"bookingCancel": {"booking": None, "errors": [{"field": None, "code": "NOT_FOUND"}]}}
    # another organization's staff: the same answer as for a missing booking
    assert await graphql(client, staff_b, CANCEL, {"id": booking_id}) == refused
    assert await graphql(client, staff_b, CANCEL, {"id": global_id("BookingsBooking", 999999)}) == refused
    assert (await Booking.get(id=requested.id)).state == BookingState.REQUESTED

    # a volunteer manages them, as on the desk
    assert await graphql(client, volunteer, ITEM_BOOKINGS, {"id": item_id}) == {"node": {"bookings": {"totalCount": 1}}}
    done = await graphql(client, volunteer, CANCEL, {"id": booking_id})
    assert done == {"bookingCancel": {"booking": {"state": "CANCELLED"}, "errors": []}}
