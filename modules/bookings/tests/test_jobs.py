"""Bookings' cron jobs: reminders the day before, and loans marked overdue."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fabcom.inventory.services import create_item
from fabcom.jobs.registry import load_jobs
from fabcom.members.models import Role
from fabcom.notifications.messages import render
from fabcom.notifications.models import Notification
from modules.bookings.jobs import mark_overdue_loans, remind_bookings
from modules.bookings.models import Booking, BookingState
from modules.bookings.services import create_booking, make_bookable

PARIS = ZoneInfo("Europe/Paris")


def in_hours(hours: int) -> dt.datetime:
    return dt.datetime.now(PARIS).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=hours)


def test_the_jobs_and_their_cron_entries_are_registered():
    registry = load_jobs(enabled=["bookings"])
    assert {"mark_overdue", "remind_bookings"} <= set(registry.jobs)
    assert {"mark_overdue", "remind_bookings"} <= {c.job_name for c in registry.crons}


async def test_a_booker_is_reminded_once_the_day_before(org_a, staff_a, make_member):
    # given two bookings: one starting in 20 hours, one in three days
    item = await create_item(staff_a, org_a.id, {"title": "Perceuse", "visibility": "public"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 30})
    member = await make_member(org_a, role=Role.MEMBER)
    soon = await create_booking(member, {"item_id": item.id, "starts_at": in_hours(20), "ends_at": in_hours(21)})
    await create_booking(member, {"item_id": item.id, "starts_at": in_hours(72), "ends_at": in_hours(73)})

    # when the reminder job runs twice
    await remind_bookings(None)  # type: ignore[arg-type]
    await remind_bookings(None)  # type: ignore[arg-type]

    # then only the soon one is reminded, once
    notifications = await Notification.filter(kind="bookings.reminder")
    assert [(n.user_id, n.data["booking_id"]) for n in notifications] == [(member.user_id, soon.id)]
    subject, _body = render("bookings.reminder", notifications[0].data, "en")
    assert subject == "Reminder: “Perceuse” is booked for you"
    assert [b.id for b in await Booking.filter(reminded_at__isnull=False)] == [soon.id]


async def test_loans_not_back_become_overdue(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Scie", "visibility": "public"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 30})
    booking = await create_booking(staff_a, {"item_id": item.id, "starts_at": in_hours(2), "ends_at": in_hours(3)})
    await Booking.filter(id=booking.id).update(
        state=BookingState.CHECKED_OUT, ends_at=dt.datetime.now(PARIS) - dt.timedelta(hours=1)
    )

    await mark_overdue_loans(None)  # type: ignore[arg-type]

    assert (await Booking.get(id=booking.id)).state == BookingState.OVERDUE
