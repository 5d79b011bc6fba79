"""The core hooks bookings implements."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fabcom.api import N_, Item, Role, hookimpl, system_principal
from modules.bookings.services import create_booking, make_bookable

WEEKDAYS_OPEN = {day: [["10:00", "19:00"]] for day in ("tue", "wed", "thu", "fri", "sat")}


@hookimpl
async def fabcom_load_demo_data(context: dict[str, Any]) -> None:
    """Make the fablab's machines and the coworking's desks bookable, with a few bookings."""
    system = system_principal()
    fablab = context["organizations"]["fablab-des-pentes"]
    coworking = context["organizations"]["la-ruche-coworking"]
    machines: list[Item] = []
    for item in await Item.filter(organization_id=fablab.id, category__code="C_09").order_by("id"):
        if item.title not in {m.title for m in machines}:  # one of each: the demo's inventory repeats titles
            machines.append(item)
    machines = machines[:4]
    for machine in machines:
        await make_bookable(
            system,
            machine.id,
            {
                "slot_minutes": 30,
                "max_duration_minutes": 240,
                "buffer_minutes": 15,
                "opening_hours": WEEKDAYS_OPEN,
                "partner_members_allowed": True,
                "allowed_roles": [r.value for r in Role],
            },
        )
    desks = await Item.filter(organization_id=coworking.id, title="Bureau assis-debout").order_by("id").limit(3)
    for desk in desks:
        await make_bookable(system, desk.id, {"slot_minutes": 60, "max_duration_minutes": 600})
    if machines:
        julie = context["users"]["julie@fablab-des-pentes.example"]
        paris = ZoneInfo("Europe/Paris")
        day = dt.datetime.now(paris).date()
        while day.strftime("%a").lower()[:3] not in WEEKDAYS_OPEN:
            day += dt.timedelta(days=1)
        day += dt.timedelta(days=7)
        start = dt.datetime.combine(day, dt.time(14, 0), paris)
        from fabcom.permissions import load_principal

        await create_booking(
            await load_principal(julie.id),
            {
                "item_id": machines[0].id,
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=2),
                "note": "Découpe des panneaux pour l'atelier vélo",
            },
        )


@hookimpl
def fabcom_menu_items(organization: Any, principal: Any) -> list[dict[str, str]]:
    """A "Bookings" entry for every member of the organization."""
    if organization.id not in principal.roles:
        return []
    return [{"label": N_("Bookings"), "url": f"/m/bookings/o/{organization.slug}/"}]


@hookimpl
async def fabcom_member_data(user_id: int) -> dict[str, Any]:
    """A person's bookings and waiting-list entries, for their data download."""
    from modules.bookings.models import Booking, WaitingListEntry

    bookings = await Booking.filter(user_id=user_id).prefetch_related("item").order_by("starts_at", "id")
    waiting = await WaitingListEntry.filter(user_id=user_id).prefetch_related("item").order_by("starts_at", "id")
    return {
        "bookings": {
            "bookings": [
                {
                    "item": b.item.title,
                    "starts_at": b.starts_at.isoformat(),
                    "ends_at": b.ends_at.isoformat(),
                    "state": b.state.value,
                    "note": b.note,
                    "deposit": str(b.deposit),
                }
                for b in bookings
            ],
            "waiting_list": [
                {"item": w.item.title, "starts_at": w.starts_at.isoformat(), "ends_at": w.ends_at.isoformat()}
                for w in waiting
            ],
        }
    }


@hookimpl
async def fabcom_erase_member(user_id: int, identity: dict[str, str]) -> None:
    """Future bookings and waiting-list entries go; past bookings stay (the machine was
    used: statistics) with their note blanked, attached to the anonymous placeholder."""
    from fabcom.api import clock
    from modules.bookings.models import Booking, WaitingListEntry

    await WaitingListEntry.filter(user_id=user_id).delete()
    await Booking.filter(user_id=user_id, starts_at__gt=clock.now()).delete()
    await Booking.filter(user_id=user_id).exclude(note="").update(note="")


@hookimpl
async def fabcom_org_export(context: Any) -> None:
    """Booking rules, bookings and waiting lists go with the organization's archive."""
    from modules.bookings.models import Booking, BookingRule, WaitingListEntry

    await context.export_models("modules/bookings/", [BookingRule, Booking, WaitingListEntry])


@hookimpl
async def fabcom_org_import(context: Any) -> None:
    from modules.bookings.models import Booking, BookingRule, WaitingListEntry

    await context.import_models("modules/bookings/", [BookingRule, Booking, WaitingListEntry])
