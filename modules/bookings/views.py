"""Bookings' pages and feeds, mounted at /m/bookings/ (routes named ``bookings:<name>``)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fabcom.api import N_, ErrorCode, NotFound, ServiceError, clock, disabled_organizations
from fabcom.web.pages import confirm_page, confirmed, current_org, field_errors, page
from fabcom.web.templating import _, flash, is_htmx, render
from modules.bookings.calendar import item_calendar, member_calendar
from modules.bookings.models import HOLDING_STATES, Booking, BookingRule, BookingState
from modules.bookings.services import (
    availability,
    bookable_candidates,
    booked_for,
    change_booking,
    create_booking,
    create_partner_booking,
    join_waiting_list,
    make_bookable,
    manages_bookings,
    manages_partner_bookings,
    partner_member_fields,
    partner_member_key,
    partner_members_for,
)

PARIS = ZoneInfo("Europe/Paris")
STATE_LABELS = {
    BookingState.REQUESTED: N_("Requested"),
    BookingState.CONFIRMED: N_("Confirmed"),
    BookingState.CANCELLED: N_("Cancelled"),
    BookingState.CHECKED_OUT: N_("Handed over"),
    BookingState.RETURNED: N_("Returned"),
    BookingState.OVERDUE: N_("Overdue"),
}

ICS = "text/calendar; charset=utf-8"
# The services' field names -> the booking form's.
FORM_FIELDS = {"starts_at": "start", "ends_at": "end"}
# The same for the desk's "book for a partner's member" form (its fields are prefixed
# ``pm_``: the desk has another form with an ``item_id``).
PARTNER_FORM_FIELDS = {
    "starts_at": "pm_start",
    "ends_at": "pm_end",
    "item_id": "pm_item_id",
    "partner_member_id": "pm_member",
    "partner_profile_id": "pm_member",
    "note": "pm_note",
}


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


def _period(form: dict[str, str]) -> dict[str, str]:
    """The form's day and times (local time) as aware datetimes; bad values are left for
    the service to refuse field by field."""
    try:
        day = dt.date.fromisoformat(form.get("day", ""))
        start = dt.datetime.combine(day, dt.time.fromisoformat(form.get("start", "")), PARIS)
        end = dt.datetime.combine(day, dt.time.fromisoformat(form.get("end", "")), PARIS)
    except ValueError:
        return {"starts_at": form.get("start", ""), "ends_at": form.get("end", "")}
    return {"starts_at": start.isoformat(), "ends_at": end.isoformat()}


async def _desk_context(org_id: int) -> dict[str, object]:
    now = clock.now()
    # Items' locations too: titles repeat (three « Bureau assis-debout »), the number and the
    # place tell them apart.
    rules = (
        await BookingRule.filter(organization_id=org_id)
        .prefetch_related("item__location")
        .order_by("item__title", "item_id")
    )
    upcoming = await Booking.filter(
        organization_id=org_id, state__in=HOLDING_STATES, ends_at__gte=now, starts_at__lte=now + dt.timedelta(days=14)
    ).prefetch_related("item__location", "user", "partner_member__organization")
    return {"rules": rules, "upcoming": upcoming, "booked_for": await booked_for(org_id, list(upcoming))}


async def _candidates(request: Request, org_id: int, search: str) -> dict[str, object]:
    """The "make an item bookable" search: the matching items, whether more match, the search."""
    items, more = await bookable_candidates(request.state.principal, org_id, search)
    return {"candidates": items, "more_candidates": more, "item_q": search[:100]}


def _int(value: object) -> int:
    """A form's id; 0 (found nowhere) for anything else, so the service answers not found."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 9 else 0


async def _partner_members(request: Request, org_id: int, search: str) -> list[tuple[str, object]]:
    """The search of the "book for a partner's member" form (empty for a short search), each
    member with the form's value that names them (``partner_member_key``)."""
    found = await partner_members_for(request.state.principal, org_id, search[:120])
    return [(partner_member_key(member), member) for member in found]


@page()
async def desk(request: Request) -> Response:
    """The staff desk: what is bookable, what is booked in the next two weeks, what to approve."""
    org = await current_org(request)
    principal = request.state.principal
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    may_book_for_partners = manages_partner_bookings(principal, org.id)
    can_manage = manages_bookings(principal, org.id)
    if request.method == "POST":
        values = {k: str(v) for k, v in (await request.form()).items()}
    # The search buttons (without JavaScript) show the matches, and write nothing.
    if request.method == "POST" and not (values.get("search_partner") or values.get("search_item")):
        form = values
        try:
            if form.get("book_for_partner"):
                await create_partner_booking(
                    principal,
                    {
                        "item_id": form.get("pm_item_id") or 0,
                        **partner_member_fields(form.get("pm_member", "")),
                        "note": form.get("pm_note", ""),
                        **_period(
                            {
                                "day": form.get("pm_day", ""),
                                "start": form.get("pm_start", ""),
                                "end": form.get("pm_end", ""),
                            }
                        ),
                    },
                    organization_id=org.id,
                )
                message = _(request, N_("Booked for the partner's member."))
                # The form's action jumps to its section; the message is at the top.
                where = "#main"
            elif form.get("make_bookable"):
                await make_bookable(
                    principal,
                    _int(form.get("item_id")),
                    {
                        "slot_minutes": form.get("slot_minutes") or 60,
                        "requires_approval": bool(form.get("requires_approval")),
                        "partner_members_allowed": bool(form.get("partner_members_allowed")),
                        "max_duration_minutes": max(int(form.get("slot_minutes") or 60), 480),
                    },
                    organization_id=org.id,
                )
                message = _(request, N_("The item can now be booked."))
                where = "#main"
            else:
                where = ""
                if form.get("action") == "cancel" and not confirmed(form):
                    booking = await Booking.get_or_none(
                        id=int(form.get("booking_id") or 0), organization_id=org.id
                    ).prefetch_related("item")
                    if booking is None:
                        raise NotFound("booking")
                    return _confirm_cancel(request, booking, f"/m/bookings/o/{org.slug}/", action="cancel")
                await change_booking(
                    principal, int(form.get("booking_id") or 0), form.get("action", ""), organization_id=org.id
                )
                message = _(request, N_("Booking updated."))
            response = RedirectResponse(f"/m/bookings/o/{org.slug}/{where}", status_code=303)
            flash(request, response, message)
            return response
        except NotFound:
            raise  # a booking this desk does not hold: the 404 page, as for a missing one
        except (ServiceError, ValueError) as exc:
            errors = (
                field_errors(exc, request.state.locale)
                if isinstance(exc, ServiceError)
                else {"__all__": _(request, N_("This value is not valid."))}
            )
            if form.get("book_for_partner") and isinstance(exc, ServiceError):
                errors = {PARTNER_FORM_FIELDS.get(k, k): v for k, v in errors.items()}
    context = await _desk_context(org.id)
    if can_manage:
        context |= await _candidates(request, org.id, values.get("item_q", request.query_params.get("item_q", "")))
    partner_search = values.get("partner_q", request.query_params.get("partner_q", "")) if may_book_for_partners else ""
    partner_values = {
        "pm_day": (clock.now().astimezone(PARIS).date() + dt.timedelta(days=1)).isoformat(),
        "pm_start": "10:00",
        "pm_end": "11:00",
        **values,
    }
    return render(
        request,
        "bookings/desk.html",
        {
            **context,
            "errors": errors,
            "values": values,
            "can_manage": can_manage,
            "states": STATE_LABELS,
            "may_book_for_partners": may_book_for_partners,
            "partner_rules": [r for r in context["rules"] if r.partner_members_allowed],  # type: ignore[attr-defined]
            "partner_q": partner_search,
            "partner_values": partner_values,
            "members": await _partner_members(request, org.id, partner_search) if partner_search else [],
        },
        status_code=400 if errors else 200,
    )


@page()
async def partner_members(request: Request) -> Response:
    """The htmx search of the desk's "book for a partner's member" form: the matching
    recognised members as radio buttons (staff only: others get the 403 page)."""
    org = await current_org(request)
    search = request.query_params.get("partner_q", "")
    members = await _partner_members(request, org.id, search)
    if not is_htmx(request):
        return RedirectResponse(f"/m/bookings/o/{org.slug}/?partner_q={quote(search[:120])}#partner-h", status_code=303)
    return render(
        request,
        "bookings/_partner_members.html",
        {"members": members, "partner_q": search, "partner_values": {}, "errors": {}},
    )


@page()
async def bookable_items(request: Request) -> Response:
    """The htmx search of the desk's "make an item bookable" form: the matching items as
    radio buttons (for those who manage the bookings: others get the 403 page)."""
    org = await current_org(request)
    search = request.query_params.get("item_q", "")
    context = await _candidates(request, org.id, search)  # first: it refuses those who may not search
    if not is_htmx(request):
        return RedirectResponse(f"/m/bookings/o/{org.slug}/?item_q={quote(search[:100])}#make-h", status_code=303)
    return render(request, "bookings/_item_choices.html", {**context, "values": {}, "errors": {}})


@page()
async def resource(request: Request) -> Response:
    """One bookable item: its free periods for the week and a booking form."""
    org = await current_org(request)
    principal = request.state.principal
    item_id = int(request.path_params["item_id"])
    rule = await BookingRule.get_or_none(item_id=item_id, organization_id=org.id).prefetch_related("item")
    if rule is None:
        raise NotFound("item")
    errors: dict[str, str] = {}
    values: dict[str, str] = {
        "day": (clock.now().astimezone(PARIS).date() + dt.timedelta(days=1)).isoformat(),
        "start": "10:00",
        "end": "11:00",
    }
    taken = False
    if request.method == "POST":
        values = dict(await request.form())
        data = {"item_id": item_id, "note": values.get("note", ""), **_period(values)}
        try:
            if values.get("waiting_list"):
                await join_waiting_list(principal, data)
                message = _(request, N_("You are on the waiting list: you will be told if the slot frees up."))
            else:
                await create_booking(principal, data)
                message = _(request, N_("Booked."))
            response = RedirectResponse(f"/m/bookings/o/{org.slug}/items/{item_id}", status_code=303)
            flash(request, response, message)
            return response
        except ServiceError as exc:
            # The form's fields are the day and the times: show each message beside its field.
            errors = {FORM_FIELDS.get(k, k): v for k, v in field_errors(exc, request.state.locale).items()}
            taken = any(e.code == ErrorCode.CONFLICT for e in exc.errors)
            if taken:  # this page has a waiting list to offer (the API and partners' members do not)
                errors["start"] = _(request, N_("This slot is already booked. You can join the waiting list."))
    start = clock.now()
    free = await availability(principal, item_id, start, start + dt.timedelta(days=7)) or []
    bookings = await Booking.filter(item_id=item_id, state__in=HOLDING_STATES, ends_at__gte=start).order_by("starts_at")
    return render(
        request,
        "bookings/resource.html",
        {
            "rule": rule,
            "free": free,
            "bookings": bookings,
            "errors": errors,
            "values": values,
            "states": STATE_LABELS,
            "taken": taken,
        },
        status_code=400 if errors else 200,
    )


def _confirm_cancel(request: Request, booking: Booking, back: str, action: str | None = None) -> Response:
    """Cancelling frees the slot for someone else (the waiting list moves up): ask first."""
    fields = {"booking_id": str(booking.id), **({"action": action} if action else {})}
    return confirm_page(
        request,
        title=_(request, N_("Cancel the booking of “{title}”?"), title=booking.item.title),
        consequence=_(
            request,
            N_("The slot is given to the next person waiting, or freed; to come back, book again."),
        ),
        button=_(request, N_("Yes, cancel the booking")),
        cancel_url=back,
        fields=fields,
    )


@page()
async def mine(request: Request) -> Response:
    """The signed-in member's own bookings, with a way to cancel them."""
    principal = request.state.principal
    if request.method == "POST":
        form = await request.form()
        if not confirmed(form):
            booking_id = str(form.get("booking_id") or "")
            booking = (
                await Booking.get_or_none(id=int(booking_id), user_id=principal.user_id).prefetch_related("item")
                if booking_id.isdigit()
                else None
            )
            if booking is None:
                raise NotFound("booking")
            return _confirm_cancel(request, booking, "/m/bookings/mine")
        try:
            await change_booking(principal, int(str(form.get("booking_id") or 0)), "cancel")
            message = _(request, N_("Booking cancelled."))
        except (ServiceError, ValueError):
            message = _(request, N_("This booking can no longer be changed that way."))
        response = RedirectResponse("/m/bookings/mine", status_code=303)
        flash(request, response, message)
        return response
    bookings = (
        await Booking.filter(user_id=principal.user_id)
        .exclude(organization_id__in=await disabled_organizations("bookings"))
        .prefetch_related("item")
        .order_by("-starts_at")
        .limit(100)
    )
    return render(
        request,
        "bookings/mine.html",
        {"bookings": bookings, "cancellable": (BookingState.REQUESTED, BookingState.CONFIRMED), "states": STATE_LABELS},
    )


routes = [
    Route("/o/{slug}/", desk, methods=["GET", "POST"], name="desk"),
    Route("/o/{slug}/items/{item_id:int}", resource, methods=["GET", "POST"], name="resource"),
    Route("/o/{slug}/partner-members", partner_members, name="partner_members"),
    Route("/o/{slug}/bookable-items", bookable_items, name="bookable_items"),
    Route("/mine", mine, methods=["GET", "POST"], name="mine"),
    Route("/items/{item_id}/calendar.ics", item_feed, name="item_calendar"),
    Route("/me/calendar.ics", my_feed, name="my_calendar"),
]
