"""Bookings' pages and feeds, mounted at /m/bookings/."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fabcom.api import NotFound
from modules.bookings.calendar import item_calendar, member_calendar

ICS = "text/calendar; charset=utf-8"


async def item_feed(request: Request) -> Response:
    """The iCalendar feed of one resource."""
    try:
        item_id = int(request.path_params["item_id"])
        body = await item_calendar(request.state.principal, item_id)
    except (ValueError, NotFound):
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(body, media_type=ICS)


async def my_feed(request: Request) -> Response:
    """The iCalendar feed of the signed-in member's bookings."""
    principal = request.state.principal
    if not principal.is_authenticated:
        return Response("Sign in first", status_code=401, media_type="text/plain")
    return Response(await member_calendar(principal.user_id), media_type=ICS)


routes = [
    Route("/items/{item_id}/calendar.ics", item_feed, name="item_calendar"),
    Route("/me/calendar.ics", my_feed, name="my_calendar"),
]
