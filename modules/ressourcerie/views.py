"""Ressourcerie pages, mounted at /m/ressourcerie/: the weighing station and the report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fabcom.api import (
    Action,
    Category,
    PermissionDenied,
    ServiceError,
    call_for_organization,
    clock,
    plugin_manager,
)
from fabcom.web.pages import current_org, page
from fabcom.web.templating import render
from modules.ressourcerie.lookup import resolve_category
from modules.ressourcerie.models import CollectionMode, IntakeLine, Tare
from modules.ressourcerie.services import (
    ensure_collection_modes,
    local_day_bounds,
    record_intake,
    settings,
    undo_intake_line,
)
from modules.ressourcerie.typed import typed_number


async def _day(org_id: int, user_id: int | None, locale: str) -> dict[str, object]:
    start, end = local_day_bounds(clock.today())
    lines = (
        await IntakeLine.filter(
            intake__organization_id=org_id, intake__occurred_at__gte=start, intake__occurred_at__lt=end
        )
        .prefetch_related("category", "intake__mode")
        .order_by("-id")
    )
    totals: dict[str, Decimal] = {}
    for line in lines:
        name = line.category.label(locale)  # the counter's language, not always French
        totals[name] = totals.get(name, Decimal(0)) + line.net_kg
    undo_limit = clock.now() - dt.timedelta(seconds=settings().undo_seconds)  # as the service allows
    last = lines[0] if lines and lines[0].author_id == user_id and lines[0].created_at > undo_limit else None  # type: ignore[attr-defined]
    return {
        "lines": lines[:30],
        "totals": sorted(totals.items()),
        "day_total": sum(totals.values(), Decimal(0)),
        "undoable": last,
    }


@page()
async def weighing(request: Request) -> Response:
    """The counter: category (code or first letters), weight, Enter. No reload (htmx)."""
    org = await current_org(request)
    principal = request.state.principal
    if not principal.can(Action.INVENTORY_WRITE, org.id):
        raise PermissionDenied()
    await ensure_collection_modes(org.id)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    undone: IntakeLine | None = None
    already_undone = False
    if request.method == "POST":
        form = dict(await request.form())
        values = {k: str(v) for k, v in form.items()}
        try:
            if values.get("undo", "").isdigit():
                line = await IntakeLine.get_or_none(id=int(values["undo"])).prefetch_related("category")
                if line is None:
                    # A double click: the first click undid it; the second undoes nothing more.
                    already_undone = True
                else:
                    await undo_intake_line(principal, line.id)
                    undone = line
            else:
                category = await resolve_category(values.get("category", ""), request.state.locale)
                weight = typed_number(values.get("weight", ""), "weight")
                line = {"category_code": category.code, "gross_kg": weight}
                if values.get("tare_id"):
                    line["tare_id"] = int(values["tare_id"])
                await record_intake(
                    principal, org.id, {"mode_code": values.get("mode_code") or "apport_volontaire", "lines": [line]}
                )
                values = {"mode_code": values.get("mode_code", ""), "tare_id": values.get("tare_id", "")}
        except ServiceError as exc:
            errors = weighing_errors(exc, request.state.locale)
            status = 400
    day = await _day(org.id, principal.user_id, request.state.locale)
    if undone is not None or already_undone:
        # Said, and the previous weighing's undo not offered in the same answer: a second
        # click on the same spot must not undo two weighings.
        day["undoable"] = None
    context = {
        **day,
        "undone": undone,
        "already_undone": already_undone,
        "modes": await CollectionMode.filter(organization_id=org.id, active=True),
        "tares": await Tare.filter(organization_id=org.id, active=True),
        "categories": await Category.filter(code__startswith="C_").order_by("code"),
        "errors": errors,
        "values": values,
        "scale_scripts": [
            url
            for urls in await call_for_organization(
                plugin_manager().hook.ressourcerie_scale_scripts, org.id, organization=org
            )
            for url in urls
        ],
    }
    return render(
        request, "ressourcerie/weighing.html", context, fragment="ressourcerie/_weighing.html", status_code=status
    )


# The form's fields, by their own names and by the service's (its one line is ``lines.0``).
_WEIGHING_FIELDS = {
    "category": "category",
    "weight": "weight",
    "tare_id": "tare_id",
    "gross_kg": "weight",
    "category_code": "category",
}


def weighing_errors(error: ServiceError, locale: str) -> dict[str, str]:
    """One message per field of the weighing form; any other refusal goes above the form,
    never lost (a volunteer must see why the weighing was not recorded)."""
    errors: dict[str, str] = {}
    for e in error.errors:
        field = (e.field or "").removeprefix("lines.0.")
        errors.setdefault(_WEIGHING_FIELDS.get(field, "__all__"), e.text(locale))
    return errors


def _routes() -> list[BaseRoute]:
    from modules.ressourcerie import lots_views, report_views, till_views

    return [
        Route("/o/{slug}/weighing", weighing, methods=["GET", "POST"], name="weighing"),
        Route("/o/{slug}/report", report_views.report, name="report"),
        Route("/o/{slug}/report/export/{kind}.{fmt}", report_views.export, name="report_export"),
        Route("/o/{slug}/report/annual", report_views.annual, name="annual_report"),
        Route("/o/{slug}/report/annual.pdf", report_views.annual_pdf, name="annual_report_pdf"),
        Route("/o/{slug}/settings", report_views.site_settings, methods=["POST"], name="settings"),
        Route("/o/{slug}/lots", lots_views.lots, methods=["GET", "POST"], name="lots"),
        Route("/o/{slug}/till", till_views.till, methods=["GET", "POST"], name="till"),
        Route("/o/{slug}/till/items", till_views.item_search, name="till_items"),
        Route("/o/{slug}/till/receipts/{number:int}", till_views.receipt, name="receipt"),
        Route("/o/{slug}/till/receipts/{number:int}.pdf", till_views.receipt_pdf, name="receipt_pdf"),
        Route("/o/{slug}/till/closing", till_views.closing, methods=["GET", "POST"], name="closing"),
    ]


routes = _routes()
