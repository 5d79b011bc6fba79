"""Ressourcerie pages, mounted at /m/ressourcerie/: the weighing station and the report."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal, InvalidOperation

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fabcom.api import (
    N_,
    Action,
    Category,
    ErrorCode,
    FieldError,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
    clock,
)
from fabcom.web.pages import current_org, field_errors, page
from fabcom.web.templating import _, render
from modules.ressourcerie.models import CollectionMode, IntakeLine, Tare
from modules.ressourcerie.reports import build_report
from modules.ressourcerie.services import ensure_collection_modes, local_day_bounds, record_intake, undo_intake_line

DESTINATIONS = {
    "sale": N_("Sold (re-use)"),
    "partner_gift": N_("Given to partners (re-use)"),
    "recycling": N_("Recycling"),
    "waste": N_("Ultimate waste"),
}


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))


async def resolve_category(typed: str) -> Category:
    """A category from what the counter typed: its code (``C_15`` or ``15``) or the first
    letters of its French or English name. Ambiguous or unknown input is refused."""
    typed = typed.strip()
    if not typed:
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("This field is required."), "category")
    code = f"C_{int(typed):02d}" if typed.isdigit() else typed.upper()
    exact = await Category.get_or_none(code=code)
    if exact is not None:
        return exact
    wanted = _plain(typed)
    leaves = await Category.filter(code__startswith="C_")
    matches = [c for c in leaves if _plain(c.label_fr).startswith(wanted) or _plain(c.label_en).startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValidationFailed(
            [
                FieldError(
                    ErrorCode.INVALID,
                    N_("Several categories start like this: {names}."),
                    "category",
                    {"names": ", ".join(c.label_fr for c in matches[:5])},
                )
            ]
        )
    raise ValidationFailed.single(ErrorCode.INVALID, N_("No category starts like this."), "category")


async def _day(org_id: int, user_id: int | None) -> dict[str, object]:
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
        totals[line.category.label_fr] = totals.get(line.category.label_fr, Decimal(0)) + line.net_kg
    undo_limit = clock.now() - dt.timedelta(seconds=60)
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
    if request.method == "POST":
        form = dict(await request.form())
        values = {k: str(v) for k, v in form.items()}
        try:
            if values.get("undo"):
                await undo_intake_line(principal, int(values["undo"]))
            else:
                category = await resolve_category(values.get("category", ""))
                try:
                    weight = Decimal(values.get("weight", "").replace(",", "."))
                except InvalidOperation:
                    raise ValidationFailed.single(ErrorCode.INVALID, N_("Enter a valid number."), "weight") from None
                line = {"category_code": category.code, "gross_kg": weight}
                if values.get("tare_id"):
                    line["tare_id"] = int(values["tare_id"])
                await record_intake(
                    principal, org.id, {"mode_code": values.get("mode_code") or "apport_volontaire", "lines": [line]}
                )
                values = {"mode_code": values.get("mode_code", ""), "tare_id": values.get("tare_id", "")}
        except ServiceError as exc:
            errors = {
                k.replace("lines.0.", "").replace("gross_kg", "weight").replace("category_code", "category"): v
                for k, v in field_errors(exc, request.state.locale).items()
            }
            status = 400
    context = {
        **await _day(org.id, principal.user_id),
        "modes": await CollectionMode.filter(organization_id=org.id, active=True),
        "tares": await Tare.filter(organization_id=org.id, active=True),
        "categories": await Category.filter(code__startswith="C_").order_by("code"),
        "errors": errors,
        "values": values,
    }
    return render(
        request, "ressourcerie/weighing.html", context, fragment="ressourcerie/_weighing.html", status_code=status
    )


@page()
async def report(request: Request) -> Response:
    """The activity report of a period, as tables (the figures funders ask for)."""
    org = await current_org(request, Action.INVENTORY_READ)
    today = clock.today()
    try:
        start = (
            dt.date.fromisoformat(request.query_params.get("from", ""))
            if request.query_params.get("from")
            else today.replace(day=1)
        )
        end = dt.date.fromisoformat(request.query_params.get("to", "")) if request.query_params.get("to") else today
        figures = await build_report(request.state.principal, org.id, start, end)
        error = ""
    except (ValueError, ServiceError) as exc:
        start, end = today.replace(day=1), today
        figures = await build_report(request.state.principal, org.id, start, end)
        error = exc.text(request.state.locale) if isinstance(exc, ServiceError) else _(request, "Enter a valid date.")
    categories = {c.code: c.label_fr for c in await Category.all()}
    return render(
        request,
        "ressourcerie/report.html",
        {"r": figures, "error": error, "category_names": categories},
        status_code=400 if error else 200,
    )


routes = [
    Route("/o/{slug}/weighing", weighing, methods=["GET", "POST"], name="weighing"),
    Route("/o/{slug}/report", report, name="report"),
]
