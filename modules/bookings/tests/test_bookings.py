"""Bookings: rules, overlaps (also under concurrency), waiting list, availability, feeds."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from fabcom.api import ErrorCode, NotFound, PermissionDenied, ValidationFailed, hookimpl, plugin_manager
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.network.models import Partnership
from fabcom.permissions import load_principal
from fabcom.testing.schema import unindexed
from modules.bookings.calendar import item_calendar
from modules.bookings.models import Booking, BookingState, WaitingListEntry
from modules.bookings.services import (
    availability,
    change_booking,
    create_booking,
    join_waiting_list,
    make_bookable,
    mark_overdue,
)

PARIS = ZoneInfo("Europe/Paris")
WEEK = {day: [["09:00", "12:00"], ["14:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def next_day_at(hour: int, minute: int = 0, days: int = 1) -> dt.datetime:
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), PARIS)


@pytest.fixture
async def laser(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Découpeuse laser", "visibility": "partners"})
    await make_bookable(
        staff_a, item.id, {"slot_minutes": 30, "buffer_minutes": 15, "max_duration_minutes": 120, "opening_hours": WEEK}
    )
    return item


def period(start: dt.datetime, minutes: int) -> dict:
    return {"starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(minutes=minutes)).isoformat()}


async def test_a_member_books_a_machine(laser, org_a, make_member):
    member = await make_member(org_a, role=Role.MEMBER)
    booking = await create_booking(member, {"item_id": laser.id, **period(next_day_at(9), 60), "note": "Prototype"})
    assert (booking.state, booking.user_id) == (BookingState.CONFIRMED, member.user_id)


async def test_overlaps_and_buffers_are_refused_and_write_nothing(laser, staff_a):
    await create_booking(staff_a, {"item_id": laser.id, **period(next_day_at(10), 60)})
    for start in (next_day_at(10, 30), next_day_at(9, 30), next_day_at(11, 0)):  # 11:00 falls in the 15 min buffer
        with pytest.raises(ValidationFailed) as refused:
            await create_booking(staff_a, {"item_id": laser.id, **period(start, 30)})
        assert refused.value.errors[0].code == ErrorCode.CONFLICT
        assert refused.value.text("fr") == "Ce créneau est déjà réservé : choisissez un autre horaire."
    # after the buffer it is free again
    await create_booking(staff_a, {"item_id": laser.id, **period(next_day_at(11, 30), 30)})
    assert await Booking.all().count() == 2


async def test_simultaneous_requests_for_one_slot_exactly_one_wins(laser, staff_a, backend):
    results = await asyncio.gather(
        *(create_booking(staff_a, {"item_id": laser.id, **period(next_day_at(14), 60)}) for _ in range(6)),
        return_exceptions=True,
    )
    assert len([r for r in results if isinstance(r, Booking)]) == 1
    assert {r.errors[0].code for r in results if not isinstance(r, Booking)} == {ErrorCode.CONFLICT}
    assert await Booking.all().count() == 1


@pytest.mark.parametrize(
    ("start", "minutes", "field", "code"),
    [
        (lambda: next_day_at(12, 30), 30, "starts_at", ErrorCode.INVALID),  # lunch: closed
        (lambda: next_day_at(11, 30), 60, "starts_at", ErrorCode.INVALID),  # runs past closing
        (lambda: next_day_at(9), 45, "ends_at", ErrorCode.INVALID),  # not whole 30-minute slots
        (lambda: next_day_at(14), 180, "ends_at", ErrorCode.OUT_OF_RANGE),  # longer than 2 h
        (lambda: next_day_at(9, days=-2), 30, "starts_at", ErrorCode.INVALID),  # in the past
    ],
)
async def test_rules_refuse_with_the_field(laser, staff_a, start, minutes, field, code):
    with pytest.raises(ValidationFailed) as refused:
        await create_booking(staff_a, {"item_id": laser.id, **period(start(), minutes)})
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]
    assert await Booking.all().count() == 0


async def test_bad_periods_are_refused(laser, staff_a):
    start = next_day_at(9)
    for data in (
        {"starts_at": start.isoformat(), "ends_at": start.isoformat()},
        {"starts_at": "2030-01-01T09:00:00", "ends_at": "2030-01-01T10:00:00"},
        {"starts_at": "tomorrow", "ends_at": "later"},
    ):
        with pytest.raises(ValidationFailed):
            await create_booking(staff_a, {"item_id": laser.id, **data})
    assert await Booking.all().count() == 0


async def test_who_may_book(org_a, org_b, staff_a, make_member):
    item = await create_item(staff_a, org_a.id, {"title": "Bureau", "visibility": "public"})
    await make_bookable(staff_a, item.id, {"allowed_roles": ["staff"], "partner_members_allowed": True})
    member = await make_member(org_a, role=Role.MEMBER)
    stranger = await make_member(org_b, role=Role.STAFF)
    for actor in (member, stranger):
        with pytest.raises(PermissionDenied):
            await create_booking(actor, {"item_id": item.id, **period(next_day_at(9), 60)})
    await Partnership.create(organization=org_a, partner=org_b, status="accepted")
    partner = await load_principal(stranger.user_id)
    booking = await create_booking(partner, {"item_id": item.id, **period(next_day_at(9), 60)})
    assert booking.user_id == stranger.user_id


async def test_an_item_without_rules_and_a_private_item_cannot_be_booked(org_a, org_b, staff_a, staff_b):
    plain = await create_item(staff_a, org_a.id, {"title": "Chaise", "visibility": "public"})
    with pytest.raises(ValidationFailed) as refused:
        await create_booking(staff_a, {"item_id": plain.id, **period(next_day_at(9), 60)})
    assert refused.value.errors[0].field == "item_id"
    hidden = await create_item(staff_a, org_a.id, {"title": "Fraiseuse"})
    await make_bookable(staff_a, hidden.id, {"partner_members_allowed": True})
    with pytest.raises(NotFound):
        await create_booking(staff_b, {"item_id": hidden.id, **period(next_day_at(9), 60)})


async def test_approval_cancellation_and_the_waiting_list(org_a, staff_a, make_member):
    room = await create_item(staff_a, org_a.id, {"title": "Salle de réunion", "visibility": "partners"})
    await make_bookable(staff_a, room.id, {"requires_approval": True})
    member = await make_member(org_a, role=Role.MEMBER)
    other = await make_member(org_a, role=Role.MEMBER)
    booking = await create_booking(member, {"item_id": room.id, **period(next_day_at(10), 60)})
    assert booking.state == BookingState.REQUESTED
    with pytest.raises(PermissionDenied):
        await change_booking(member, booking.id, "approve")
    with pytest.raises(NotFound):
        await change_booking(other, booking.id, "cancel")  # someone else's booking
    assert (await change_booking(staff_a, booking.id, "approve")).state == BookingState.CONFIRMED
    entry = await join_waiting_list(other, {"item_id": room.id, **period(next_day_at(10), 60)})
    assert (await change_booking(member, booking.id, "cancel")).state == BookingState.CANCELLED
    assert (await WaitingListEntry.get(id=entry.id)).notified_at is not None
    with pytest.raises(ValidationFailed) as again:
        await change_booking(member, booking.id, "cancel")
    assert again.value.errors[0].code == ErrorCode.INVALID_STATE


async def test_loans_go_out_become_overdue_and_come_back(org_a, staff_a):
    drill = await create_item(staff_a, org_a.id, {"title": "Perceuse"})
    await make_bookable(staff_a, drill.id, {"is_loan": True, "deposit": "50", "max_duration_minutes": 60 * 24 * 7})
    loan = await create_booking(staff_a, {"item_id": drill.id, **period(next_day_at(9), 60 * 24 * 3)})
    assert loan.deposit == 50
    await change_booking(staff_a, loan.id, "check_out")
    assert await mark_overdue(loan.ends_at - dt.timedelta(minutes=1)) == 0
    assert await mark_overdue(loan.ends_at + dt.timedelta(minutes=1)) == 1
    assert (await Booking.get(id=loan.id)).state == BookingState.OVERDUE
    assert (await change_booking(staff_a, loan.id, "return")).state == BookingState.RETURNED


async def test_availability_is_opening_hours_minus_bookings_and_buffers(laser, staff_a):
    await create_booking(staff_a, {"item_id": laser.id, **period(next_day_at(10), 60)})
    free = await availability(staff_a, laser.id, next_day_at(0), next_day_at(23))
    assert [(s.astimezone(PARIS).strftime("%H:%M"), e.astimezone(PARIS).strftime("%H:%M")) for s, e in free] == [
        ("09:00", "09:45"),
        ("11:15", "12:00"),
        ("14:00", "18:00"),
    ]


class TrainingRequired:
    """A dummy rule from another module: only people with the training may use the laser."""

    @hookimpl
    def bookings_check_booking(self, request):
        if request.item.title == "Découpeuse laser" and "formé" not in request.principal.locale + "":
            return "You must hold the training for this machine."
        return None


async def test_another_module_adds_a_rule_through_the_hook(laser, staff_a):
    plugin = TrainingRequired()
    plugin_manager().register(plugin)
    try:
        with pytest.raises(ValidationFailed) as refused:
            await create_booking(staff_a, {"item_id": laser.id, **period(next_day_at(9), 30)})
        assert refused.value.errors[0].message == "You must hold the training for this machine."
        assert await Booking.all().count() == 0
    finally:
        plugin_manager().unregister(plugin)
    assert await create_booking(staff_a, {"item_id": laser.id, **period(next_day_at(9), 30)})


async def test_the_resource_calendar_feed(laser, staff_a, org_b, make_member):
    booking = await create_booking(staff_a, {"item_id": laser.id, **period(next_day_at(15), 60)})
    calendar = Calendar.from_ical(await item_calendar(staff_a, laser.id))
    events = calendar.walk("VEVENT")
    assert [(str(e["summary"]), e["dtstart"].dt, str(e["uid"])) for e in events] == [
        ("Découpeuse laser", booking.starts_at, f"booking-{booking.id}@fabcom")
    ]
    with pytest.raises(NotFound):
        await item_calendar(await make_member(org_b), laser.id)


async def test_a_members_bookings_and_a_rules_and_waiting_lists_are_read_by_index(db):
    assert (
        await unindexed(
            db,
            [
                ("bookings_rule", "organization_id"),
                ("bookings_booking", "item_id"),
                ("bookings_booking", "user_id"),
                ("bookings_booking", "rule_id"),
                ("bookings_booking", "partner_profile_id"),
                ("bookings_waiting_list_entry", "item_id"),
                ("bookings_waiting_list_entry", "user_id"),
            ],
        )
        == []
    )
