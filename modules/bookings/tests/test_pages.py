"""The bookings pages, as staff and members use them."""

from __future__ import annotations

import datetime as dt

from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from modules.bookings.models import Booking, BookingRule
from modules.bookings.services import make_bookable


async def test_staff_make_an_item_bookable_from_the_desk(client, login, org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Imprimante 3D"})
    await login(client, staff_a)
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert desk.status_code == 200
    assert "Imprimante 3D" in desk.text  # offered in the "make bookable" list
    token = client.cookies.get("fabcom_csrf")
    response = await client.post(
        f"/m/bookings/o/{org_a.slug}/",
        data={
            "make_bookable": "1",
            "item_id": str(item.id),
            "slot_minutes": "30",
            "requires_approval": "1",
        },
        headers={"X-CSRF-Token": await csrf(client, org_a)},
    )
    assert response.status_code == 303
    rule = await BookingRule.get(item_id=item.id)
    assert (rule.slot_minutes, rule.requires_approval) == (30, True)
    assert token is None or token  # the session's token, not the anonymous cookie, was used


async def csrf(client, org) -> str:
    """The CSRF token the page gives the browser (in the body's hx-headers)."""
    page = await client.get(f"/m/bookings/o/{org.slug}/")
    marker = '"X-CSRF-Token": "'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


async def test_a_member_books_and_sees_a_clear_error_on_a_taken_slot(client, login, org_a, staff_a, make_member):
    item = await create_item(staff_a, org_a.id, {"title": "Salle de réunion", "visibility": "partners"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 60})
    member = await make_member(org_a, role=Role.MEMBER)
    await login(client, member)
    token = await csrf(client, org_a)
    day = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    url = f"/m/bookings/o/{org_a.slug}/items/{item.id}"
    booked = await client.post(
        url, data={"day": day, "start": "10:00", "end": "11:00"}, headers={"X-CSRF-Token": token}
    )
    assert booked.status_code == 303
    assert await Booking.filter(item_id=item.id, user_id=member.user_id).count() == 1
    taken = await client.post(url, data={"day": day, "start": "10:00", "end": "11:00"}, headers={"X-CSRF-Token": token})
    assert taken.status_code == 400
    assert "Ce créneau est déjà réservé" in taken.text
    assert 'value="10:00"' in taken.text  # the values are kept
    assert await Booking.all().count() == 1
    mine = await client.get("/m/bookings/mine")
    assert "Salle de réunion" in mine.text


async def test_the_menu_shows_bookings_and_strangers_get_404(client, login, org_a, org_b, staff_a, staff_b):
    await login(client, staff_a)
    dashboard = await client.get(f"/o/{org_a.slug}/")
    assert f'href="/m/bookings/o/{org_a.slug}/"' in dashboard.text
    assert ">Réservations<" in dashboard.text
    client.cookies.clear()
    await login(client, staff_b)
    assert (await client.get(f"/m/bookings/o/{org_a.slug}/")).status_code == 404
