"""The report pages: a period's figures with charts and their tables, the spreadsheet
exports, the network totals, and the annual activity report made for funders (a page
made to print, and its PDF)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.api import N_, Action, Category, ServiceError, clock, gettext
from fabcom.web.pages import current_org, page
from fabcom.web.templating import _, environment, flash, render
from modules.ressourcerie import charts, pdf
from modules.ressourcerie.exports import WRITERS, channel_rows, filename, report_rows
from modules.ressourcerie.labels import DESTINATIONS, PAYMENT_MODES, by_channel, channel_label, destination_label
from modules.ressourcerie.models import CollectionMode, SiteSettings
from modules.ressourcerie.periods import parse_period
from modules.ressourcerie.reports import (
    Report,
    UnknownDestinations,
    build_report,
    network_totals,
    recycling_by_channel,
)
from modules.ressourcerie.services import ensure_collection_modes, update_site_settings

SERIES = {
    "in": N_("Collected"),
    "reused": N_("Re-used"),
    "recycled": N_("Recycled"),
    "waste": N_("Ultimate waste"),
}


def _period(request: Request) -> tuple[dt.date, dt.date]:
    """From ``?period=`` (``2026``, ``2026-03``, a range), else ``?from=&to=``, else this month.
    Raises ValidationFailed (or ValueError for a bad date) when the request's period is unreadable."""
    query = request.query_params
    if query.get("period"):
        return parse_period(query["period"])
    today = clock.today()
    start = dt.date.fromisoformat(query["from"]) if query.get("from") else today.replace(day=1)
    end = dt.date.fromisoformat(query["to"]) if query.get("to") else today
    return start, end


async def _names(org_id: int, locale: str) -> tuple[dict[str, str], dict[str, str]]:
    await ensure_collection_modes(org_id)
    modes = {
        m.code: (m.label_en if locale == "en" else m.label_fr)
        for m in await CollectionMode.filter(organization_id=org_id)
    }
    categories = {c.code: c.label(locale) for c in await Category.all()}
    return modes, categories


def chart_data(report: Report, locale: str) -> dict[str, Any]:
    """What the charts draw (read by report-charts.js from a JSON script element; the same
    figures are in the tables beside them), each figure with its meaning's colour and
    pattern (``charts``): the script has no palette of its own."""
    # The ring in the order of DESTINATIONS (re-use first), whatever came out first.
    destinations = sorted(report.kg_out_by_destination, key=list(DESTINATIONS).index)
    return {
        "months": list(report.monthly),
        "series": [
            {
                "key": key,
                "label": gettext(locale, label),
                "values": [float(m[key]) for m in report.monthly.values()],
                "colour": charts.style(key).colour,
                "pattern": charts.style(key).pattern,
            }
            for key, label in SERIES.items()
        ],
        "destinations": {
            "labels": [destination_label(k, locale) for k in destinations],
            "values": [float(report.kg_out_by_destination[k]) for k in destinations],
            "colours": [charts.style(k).colour for k in destinations],
            "patterns": [charts.style(k).pattern for k in destinations],
        },
        "background": charts.BACKGROUND,
        "unit": "kg",
        "locale": "fr-FR" if locale == "fr" else "en-GB",
    }


@page()
async def report(request: Request) -> Response:
    """The activity report of a period, with charts, their tables and the exports."""
    org = await current_org(request, Action.INVENTORY_READ)
    principal = request.state.principal
    locale = request.state.locale
    error = ""
    counted = True
    try:
        start, end = _period(request)
        figures = await build_report(principal, org.id, start, end)
    except UnknownDestinations as exc:
        # The period asked, its message and no figures: this month's would answer another question.
        figures, error, counted = Report(start, end), exc.text(locale), False
    except (ValueError, ServiceError) as exc:
        # A period that cannot be read: this month's figures under the message.
        start, end = clock.today().replace(day=1), clock.today()
        figures = await build_report(principal, org.id, start, end)
        error = exc.text(locale) if isinstance(exc, ServiceError) else _(request, N_("Enter a valid date."))
    # The network's totals start from this site's: none when those cannot be counted.
    network = await network_totals(principal, org.id, figures.start, figures.end, own=figures) if counted else None
    modes, categories = await _names(org.id, locale)
    settings = await SiteSettings.get_or_none(organization_id=org.id)
    context = {
        "r": figures,
        "error": error,
        "category_names": categories,
        "mode_names": modes,
        "destinations": DESTINATIONS,
        "payment_modes": PAYMENT_MODES,
        "channel_label": lambda code: channel_label(code, locale),
        "by_channel": by_channel,
        "series": SERIES,
        "chart": chart_data(figures, locale),
        "network": network,
        "share_figures": bool(settings and settings.share_figures),
        "can_manage": principal.can(Action.ORG_MANAGE, org.id),
        "query": f"from={figures.start.isoformat()}&to={figures.end.isoformat()}",
    }
    return render(request, "ressourcerie/report.html", context, status_code=400 if error else 200)


@page()
async def export(request: Request) -> Response:
    """``report.csv|xlsx|ods`` (every figure) and ``channels.csv|xlsx|ods`` (kg recycled per
    REP channel; refused when a recycled category has no channel and no buyer was named)."""
    org = await current_org(request, Action.INVENTORY_READ)
    principal = request.state.principal
    locale = request.state.locale
    kind, fmt = request.path_params["kind"], request.path_params["fmt"]
    if kind not in ("report", "channels") or fmt not in WRITERS:
        return render(request, "error.html", {"status": 404}, status_code=404)
    try:
        start, end = _period(request)
        if kind == "report":
            figures = await build_report(principal, org.id, start, end)
            modes, categories = await _names(org.id, locale)
            header, rows = report_rows(figures, locale, modes, categories)
            title = gettext(locale, N_("Activity report"))
        else:
            header, rows = channel_rows(await recycling_by_channel(principal, org.id, start, end, locale), locale)
            title = gettext(locale, N_("REP channels"))
    except (ValueError, ServiceError) as exc:
        message = exc.text(locale) if isinstance(exc, ServiceError) else _(request, N_("Enter a valid date."))
        return render(request, "ressourcerie/export_refused.html", {"error": message}, status_code=400)
    media_type, write = WRITERS[fmt]
    body = write(header, rows, locale, title)
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename(org.slug, kind, start, end, fmt)}"'},
    )


@page()
async def site_settings(request: Request) -> Response:
    """Opt in (or out) of sharing this site's totals with its partners' reports."""
    org = await current_org(request, Action.ORG_MANAGE)
    form = await request.form()
    await update_site_settings(request.state.principal, org.id, {"share_figures": form.get("share_figures") == "on"})
    response = RedirectResponse(f"/m/ressourcerie/o/{org.slug}/report", status_code=303)
    flash(request, response, _(request, N_("Saved.")))
    return response


async def _annual(request: Request) -> tuple[Any, dict[str, Any]]:
    org = await current_org(request, Action.INVENTORY_READ)
    locale = request.state.locale
    year_text = request.query_params.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else clock.today().year - 1
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    figures = await build_report(request.state.principal, org.id, start, end)
    modes, categories = await _names(org.id, locale)
    peak = max(
        [max(m["in"], m["reused"] + m["recycled"] + m["waste"]) for m in figures.monthly.values()] + [Decimal(1)]
    )
    return org, {
        "r": figures,
        "year": year,
        "category_names": categories,
        "mode_names": modes,
        "destinations": DESTINATIONS,
        "payment_modes": PAYMENT_MODES,
        "channel_label": lambda code: channel_label(code, locale),
        "by_channel": by_channel,
        "series": SERIES,
        "chart": chart_data(figures, locale),
        "peak": peak,
        "fill": charts.css,
        "generated": clock.today(),
        "pdf": pdf.available(),
    }


def _annual_refused(request: Request, exc: UnknownDestinations) -> Response:
    title = _(request, N_("Activity report"))
    context = {"error": exc.text(request.state.locale), "title": title}
    return render(request, "ressourcerie/export_refused.html", context, status_code=400)


@page()
async def annual(request: Request) -> Response:
    """The year's activity report, made to print and hand to funders."""
    try:
        _org, context = await _annual(request)
    except UnknownDestinations as exc:
        return _annual_refused(request, exc)
    return render(request, "ressourcerie/annual.html", context)


@page()
async def annual_pdf(request: Request) -> Response:
    """The same annual report as a PDF."""
    try:
        org, context = await _annual(request)
    except UnknownDestinations as exc:
        return _annual_refused(request, exc)
    if not pdf.available():
        return Response(_(request, N_("PDF is not available on this server: print the page instead.")), status_code=503)
    html = (
        environment(request.state.locale)
        .get_template("ressourcerie/annual_pdf.html")
        .render({**context, "org": org, "locale": request.state.locale})
    )
    return Response(
        await pdf.html_to_pdf(html),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{org.slug}-rapport-{context["year"]}.pdf"'},
    )
