"""Spreadsheet exports of a list: CSV for French Excel (``;`` and a UTF-8 BOM), XLSX
(openpyxl) and ODS (odfpy). Cells that a spreadsheet would run as a formula are
defused with a leading apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fabcom.i18n import N_, gettext
from fabcom.inventory.models import Item, shown_status

Cell = str | Decimal | int | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


ITEM_COLUMNS = (
    N_("Id"),
    N_("Title"),
    N_("Category"),
    N_("Location"),
    N_("Status"),
    N_("Condition"),
    N_("Quantity"),
    N_("Unit"),
    N_("Unit weight (kg)"),
    N_("Unit value (€)"),
    N_("Visibility"),
    N_("Sharing"),
    N_("Description"),
)


def item_rows(items: Sequence[Item], locale: str) -> tuple[list[str], list[list[Cell]]]:
    """The list as the pages show it: statuses, conditions, units… in words (« Épuisé »,
    « Très bon », « pièces »), which an import reads back (``fabcom.web.imports``)."""
    from fabcom.web.templating import labels, unit_name

    words = labels(locale)
    header = [gettext(locale, c) for c in ITEM_COLUMNS]
    rows: list[list[Cell]] = []
    for item in items:
        rows.append(
            [
                item.id,
                item.title,
                item.category.label(locale) if item.category else "",
                item.location.name if item.location else "",
                words.STATUS[shown_status(item.status, item.quantity)],
                words.CONDITION[item.condition],
                Decimal(item.quantity).normalize() if item.quantity is not None else None,
                unit_name(item.unit, item.quantity, locale),
                item.unit_weight_kg,
                item.unit_value,
                words.VISIBILITY[item.visibility],
                ", ".join(words.SHARING[mode] for mode in item.sharing_modes or []),
                item.description,
            ]
        )
    return header, [[defuse(c) for c in row] for row in rows]


def write_csv(header: list[str], rows: list[list[Cell]], locale: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                ("" if c is None else format(c, "f").replace(".", ",") if locale == "fr" else format(c, "f"))
                if isinstance(c, Decimal)
                else ("" if c is None else c)
                for c in row
            ]
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def write_xlsx(header: list[str], rows: list[list[Cell]], locale: str, title: str | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = (title or gettext(locale, N_("Inventory")))[:31]
    sheet.append(header)
    for row in rows:
        sheet.append([float(c) if isinstance(c, Decimal) else c for c in row])
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_ods(header: list[str], rows: list[list[Cell]], locale: str, title: str | None = None) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name=title or gettext(locale, N_("Inventory")))

    def cell(value: Cell) -> Any:
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            c = TableCell(valuetype="float", value=str(value))
        else:
            c = TableCell(valuetype="string")
        c.addElement(P(text="" if value is None else str(value)))
        return c

    all_rows: list[list[Cell]] = [list(header), *rows]
    for values in all_rows:
        tr = TableRow()
        for value in values:
            tr.addElement(cell(value))
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class Format:
    media_type: str
    write: Callable[[list[str], list[list[Cell]], str], bytes]


FORMATS = {
    "csv": Format("text/csv; charset=utf-8", write_csv),
    "xlsx": Format("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", write_xlsx),
    "ods": Format("application/vnd.oasis.opendocument.spreadsheet", write_ods),
}
