"""Bookings' periodic jobs: loans not back in time become overdue, and bookers are
reminded of their booking the day before."""

from __future__ import annotations

import datetime as dt

from fabcom.api import KINDS, N_, JobContext, Kind, clock, cron, in_transaction, job, module_settings, notify
from modules.bookings import services
from modules.bookings.models import Booking, BookingState

KINDS["bookings.reminder"] = Kind(
    N_("Reminder: “{item}” is booked for you"),
    N_("Your booking of “{item}” starts on {start}."),
)


@job("mark_overdue")
async def mark_overdue_loans(ctx: JobContext) -> None:
    """Loans checked out and not back by their end become overdue."""
    await services.mark_overdue()


@job()
async def remind_bookings(ctx: JobContext) -> None:
    """Notify each booker once, about ``FABCOM_BOOKINGS_REMINDER_HOURS_BEFORE`` hours
    before their confirmed booking starts (``reminded_at`` keeps it to once)."""
    now = clock.now()
    horizon = now + dt.timedelta(hours=module_settings("bookings").reminder_hours_before)
    due = await Booking.filter(
        state=BookingState.CONFIRMED, starts_at__gt=now, starts_at__lte=horizon, reminded_at__isnull=True
    ).prefetch_related("item")
    for booking in due:
        if booking.user_id is None:  # type: ignore[attr-defined]
            continue
        async with in_transaction():
            updated = await Booking.filter(id=booking.id, reminded_at__isnull=True).update(reminded_at=now)
            if not updated:
                continue  # another run reminded it meanwhile
            await notify(
                [booking.user_id],  # type: ignore[attr-defined]
                "bookings.reminder",
                {"booking_id": booking.id, "item": booking.item.title, "start": booking.starts_at.isoformat()},
                organization_id=booking.organization_id,  # type: ignore[attr-defined]
            )


cron("mark_overdue", minute=5)
cron("remind_bookings", minute=10)
