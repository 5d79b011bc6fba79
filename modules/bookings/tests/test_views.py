"""The bookings module's routes, through HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from fabcom.errors import NotFound
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from modules.bookings.models import Booking, BookingState
from modules.bookings.services import TRANSITIONS, change_booking, create_booking, make_bookable
from modules.bookings.tests.test_item_picker import csrf


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


@pytest.mark.parametrize(
    ("action", "state", "confirm"),
    [
        ("approve", BookingState.REQUESTED, "1"),
        ("check_out", BookingState.CONFIRMED, "1"),
        ("return", BookingState.CHECKED_OUT, "1"),
        ("cancel", BookingState.CONFIRMED, "1"),
        ("cancel", BookingState.CONFIRMED, ""),  # the confirmation page is not shown either
    ],
)
async def test_a_desk_does_not_change_a_booking_of_another_organization(
    client, login, org_a, org_b, make_member, action, state, confirm
):
    # given someone who manages the bookings of both organizations, and a booking of org B
    both = await make_member(org_a, org_b, role=Role.STAFF)
    item = await create_item(both, org_b.id, {"title": "Perceuse à colonne"})
    await make_bookable(both, item.id, {})
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    booking = await create_booking(
        both, {"item_id": item.id, "starts_at": start, "ends_at": start + dt.timedelta(hours=1)}
    )
    await Booking.filter(id=booking.id).update(state=state)
    await login(client, both)
    form = {"booking_id": str(booking.id), "action": action, "confirm": confirm}

    # when org A's desk is asked to change it
    refused = await client.post(
        f"/m/bookings/o/{org_a.slug}/", data=form, headers={"X-CSRF-Token": await csrf(client, org_a)}
    )

    # then the 404 page, as for a missing booking, and nothing changed
    assert refused.status_code == 404
    assert "Perceuse à colonne" not in refused.text
    assert (await Booking.get(id=booking.id)).state == state
    # while org B's own desk changes it
    if confirm:
        done = await client.post(
            f"/m/bookings/o/{org_b.slug}/", data=form, headers={"X-CSRF-Token": await csrf(client, org_b)}
        )
        assert done.status_code == 303
        assert (await Booking.get(id=booking.id)).state == TRANSITIONS[action][1]


async def test_the_service_answers_not_found_for_a_booking_of_another_desk(org_a, org_b, make_member):
    both = await make_member(org_a, org_b, role=Role.STAFF)
    item = await create_item(both, org_b.id, {"title": "Perceuse à colonne"})
    await make_bookable(both, item.id, {"requires_approval": True})
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    booking = await create_booking(
        both, {"item_id": item.id, "starts_at": start, "ends_at": start + dt.timedelta(hours=1)}
    )
    with pytest.raises(NotFound):
        await change_booking(both, booking.id, "approve", organization_id=org_a.id)
    assert (await Booking.get(id=booking.id)).state == BookingState.REQUESTED
    assert (await change_booking(both, booking.id, "approve", organization_id=org_b.id)).state == BookingState.CONFIRMED
