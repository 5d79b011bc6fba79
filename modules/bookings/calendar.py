"""iCalendar feeds (RFC 5545) of a resource's bookings and of a member's bookings."""

from __future__ import annotations

from fabcom.api import Principal, clock, get_item_for
from modules.bookings.models import HOLDING_STATES, Booking

PRODID = "-//fabcom//bookings//FR"


def _calendar(name: str, bookings: list[Booking]) -> bytes:
    # Imported here: icalendar costs ~30-50 ms of CPU to import, paid by every web
    # process's start-up (the views import this file) for feeds that are rarely fetched.
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for booking in bookings:
        event = Event()
        event.add("uid", f"booking-{booking.id}@fabcom")
        event.add("dtstamp", clock.now())
        event.add("dtstart", booking.starts_at)
        event.add("dtend", booking.ends_at)
        event.add("summary", booking.item.title)
        event.add("status", "TENTATIVE" if booking.state == "requested" else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()


async def item_calendar(actor: Principal, item_id: int) -> bytes:
    """The upcoming bookings of a resource (who booked is not shown: privacy)."""
    item = await get_item_for(actor, item_id)
    bookings = await Booking.filter(item_id=item.id, state__in=HOLDING_STATES).prefetch_related("item")
    return _calendar(item.title, bookings)


async def member_calendar(user_id: int) -> bytes:
    """A member's own bookings, across organizations."""
    bookings = await Booking.filter(user_id=user_id, state__in=HOLDING_STATES).prefetch_related("item")
    return _calendar("fabcom", bookings)
