"""The report as a spreadsheet (CSV for French Excel, XLSX, ODS), written by the core's
export helpers (``fabcom.web.exports``): one row per figure, in long form so that a
spreadsheet can filter and pivot it; and the kg recycled per REP channel (filière)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fabcom.api import N_, gettext
from fabcom.web.exports import Cell, defuse, write_csv, write_ods, write_xlsx
from modules.ressourcerie.labels import by_channel, channel_label, destination_label, payment_label
from modules.ressourcerie.reports import Report

WRITERS = {
    "csv": ("text/csv; charset=utf-8", lambda header, rows, locale, title: write_csv(header, rows, locale)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", write_xlsx),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", write_ods),
}
COLUMNS = (N_("Figure"), N_("Detail"), N_("Value"), N_("Unit"))


def report_rows(
    report: Report, locale: str, modes: dict[str, str], categories: dict[str, str]
) -> tuple[list[str], list[list[Cell]]]:
    """``modes`` and ``categories`` name the codes in ``locale``."""

    def t(message: str) -> str:
        return gettext(locale, message)

    rows: list[list[Cell]] = [
        [t(N_("Period")), f"{report.start.isoformat()} – {report.end.isoformat()}", None, ""],
        [t(N_("Collected")), t(N_("Total")), report.kg_in, "kg"],
    ]
    rows += [[t(N_("Collected by mode")), modes.get(k, k), v, "kg"] for k, v in sorted(report.kg_in_by_mode.items())]
    rows += [
        [t(N_("Collected by stream")), categories.get(k, k), v, "kg"]
        for k, v in sorted(report.kg_in_by_category.items())
    ]
    rows += [
        [t(N_("Out by destination")), destination_label(k, locale), v, "kg"]
        for k, v in sorted(report.kg_out_by_destination.items())
    ]
    rows += [
        [t(N_("Out by REP channel")), channel_label(k, locale), v, "kg"]
        for k, v in by_channel(report.kg_out_by_channel)
    ]
    rows += [
        [t(N_("Re-use rate")), t(N_("kg re-used ÷ kg collected")), report.reuse_rate, "%"],
        [t(N_("Recovery rate")), t(N_("(kg re-used + kg recycled) ÷ kg collected")), report.recovery_rate, "%"],
    ]
    rows += [[t(N_("Sales")), payment_label(k, locale), v, "€"] for k, v in sorted(report.revenue_by_mode.items())]
    rows += [
        [t(N_("Sales")), t(N_("Total")), report.revenue, "€"],
        [t(N_("Receipts")), "", report.sales, ""],
        [t(N_("Intakes")), "", report.intakes, ""],
        [t(N_("Identified donors")), "", report.donors, ""],
    ]
    return [t(c) for c in COLUMNS], [[defuse(c) for c in row] for row in rows]


def channel_rows(totals: dict[str, Decimal], locale: str) -> tuple[list[str], list[list[Cell]]]:
    """Kg recycled per REP channel (from ``recycling_by_channel``, which refuses unmapped categories)."""
    header = [gettext(locale, N_("REP channel")), gettext(locale, N_("Code")), "kg"]
    rows: list[list[Cell]] = [[channel_label(code, locale), code, kg] for code, kg in totals.items()]
    return header, [[defuse(c) for c in row] for row in rows]


def filename(slug: str, kind: str, start: dt.date, end: dt.date, fmt: str) -> str:
    return f"{slug}-{kind}-{start.isoformat()}-{end.isoformat()}.{fmt}"
