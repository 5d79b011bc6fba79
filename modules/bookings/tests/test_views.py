"""The bookings module's routes, through HTTP."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from fabcom.inventory.services import create_item
from modules.bookings.services import create_booking, make_bookable


async def test_calendar_feeds_over_http(client, login, org_a, staff_a, make_member, make_org):
    item = await create_item(staff_a, org_a.id, {"title": "Imprimante 3D"})
    await make_bookable(staff_a, item.id, {})
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    await create_booking(staff_a, {"item_id": item.id, "starts_at": start, "ends_at": start + dt.timedelta(hours=1)})

    # anonymous: the private machine's feed does not exist for them; no personal feed
    assert (await client.get(f"/m/bookings/items/{item.id}/calendar.ics")).status_code == 404
    assert (await client.get("/m/bookings/me/calendar.ics")).status_code == 401
    assert (await client.get("/m/bookings/items/abc/calendar.ics")).status_code == 404

    await login(client, staff_a)
    response = await client.get(f"/m/bookings/items/{item.id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert [str(e["summary"]) for e in Calendar.from_ical(response.content).walk("VEVENT")] == ["Imprimante 3D"]
    mine = await client.get("/m/bookings/me/calendar.ics")
    assert [e["dtstart"].dt for e in Calendar.from_ical(mine.content).walk("VEVENT")] == [start]

    # someone from another organization gets the same 404 as for a missing item
    other = await make_member(await make_org())
    client.cookies.clear()
    await login(client, other)
    assert (await client.get(f"/m/bookings/items/{item.id}/calendar.ics")).status_code == 404
    assert (await client.get("/m/bookings/items/999999/calendar.ics")).status_code == 404


async def test_cancelling_a_booking_asks_first(client, login, org_a, staff_a):
    from modules.bookings.models import Booking, BookingState

    item = await create_item(staff_a, org_a.id, {"title": "Imprimante 3D"})
    await make_bookable(staff_a, item.id, {})
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    booking = await create_booking(
        staff_a, {"item_id": item.id, "starts_at": start, "ends_at": start + dt.timedelta(hours=1)}
    )
    state = booking.state
    await login(client, staff_a)
    page = await client.get("/m/bookings/mine")
    marker = '"X-CSRF-Token": "'
    token = page.text[page.text.index(marker) + len(marker) :].split('"')[0]

    asked = await client.post("/m/bookings/mine", data={"csrf_token": token, "booking_id": str(booking.id)})
    assert asked.status_code == 200
    assert "Annuler la réservation de « Imprimante 3D » ?" in asked.text
    assert (await Booking.get(id=booking.id)).state == state
    done = await client.post(
        "/m/bookings/mine", data={"csrf_token": token, "booking_id": str(booking.id), "confirm": "1"}
    )
    assert done.status_code == 303
    assert (await Booking.get(id=booking.id)).state == BookingState.CANCELLED


async def test_cancelling_at_the_staff_desk_asks_first_too(client, login, org_a, staff_a):
    from modules.bookings.models import Booking, BookingState

    item = await create_item(staff_a, org_a.id, {"title": "Découpeuse laser"})
    await make_bookable(staff_a, item.id, {})
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    booking = await create_booking(
        staff_a, {"item_id": item.id, "starts_at": start, "ends_at": start + dt.timedelta(hours=1)}
    )
    await login(client, staff_a)
    desk = f"/m/bookings/o/{org_a.slug}/"
    page = await client.get(desk)
    marker = '"X-CSRF-Token": "'
    token = page.text[page.text.index(marker) + len(marker) :].split('"')[0]
    form = {"csrf_token": token, "booking_id": str(booking.id), "action": "cancel"}
    asked = await client.post(desk, data=form)
    assert asked.status_code == 200
    assert "Annuler la réservation de « Découpeuse laser » ?" in asked.text
    assert '<input type="hidden" name="action" value="cancel">' in asked.text
    assert (await Booking.get(id=booking.id)).state != BookingState.CANCELLED
    assert (await client.post(desk, data={**form, "confirm": "1"})).status_code == 303
    assert (await Booking.get(id=booking.id)).state == BookingState.CANCELLED
