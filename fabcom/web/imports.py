"""Import items from CSV, XLSX or ODS: upload, map the columns, preview with per-row
errors, then write every row in one transaction — or nothing at all.

The preview runs the real service calls inside a transaction that is rolled back, so
the errors it shows are exactly those the import would meet."""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import re
import secrets
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.transactions import in_transaction

from fabcom.errors import ServiceError
from fabcom.i18n import LOCALES, N_, fold
from fabcom.inventory.models import OUT_OF_STOCK, Category, ItemStatus
from fabcom.inventory.services import create_item
from fabcom.permissions import Action
from fabcom.web.inventory import _decimal_text
from fabcom.web.pages import current_org, page
from fabcom.web.templating import _, flash, labels, render, unit_names

MAX_ROWS = 5000
# fabcom field -> its label and the header names recognised automatically
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "title": (N_("Title"), ("title", "titre", "nom", "name", "objet")),
    "description": (N_("Description"), ("description",)),
    "category_code": (N_("Category code"), ("category_code", "category", "catégorie", "categorie", "code")),
    "initial_quantity": (N_("Quantity"), ("quantity", "quantité", "quantite", "qté", "qte")),
    "unit": (N_("Unit"), ("unit", "unité", "unite")),
    "unit_weight_kg": (
        N_("Unit weight (kg)"),
        ("unit_weight_kg", "poids", "weight", "poids unitaire (kg)", "unit weight (kg)"),
    ),
    "unit_value": (
        N_("Unit value (€)"),
        ("unit_value", "valeur", "value", "prix", "valeur unitaire (€)", "unit value (€)"),
    ),
    "condition": (N_("Condition"), ("condition", "état", "etat")),
    "status": (N_("Status"), ("status", "statut")),
    "visibility": (N_("Visibility"), ("visibility", "visibilité", "visibilite")),
    "counterparty": (N_("Given by (optional)"), ("counterparty", "donateur", "provenance")),
}
TOKEN_RE = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx|ods)$")


class _Rollback(Exception):
    """Raised to undo a preview's writes."""


def read_table(name: str, content: bytes) -> list[list[str]]:
    """The rows of the first sheet as text (the first row is the header)."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("cp1252")
        dialect = csv.excel
        if text:
            try:
                dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")  # type: ignore[assignment]
            except csv.Error:
                dialect = csv.excel
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)][: MAX_ROWS + 1]
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        rows = []
        for row in book.worksheets[0].iter_rows(values_only=True):
            rows.append(["" if v is None else str(v).strip() for v in row])
            if len(rows) > MAX_ROWS:
                break
        return rows
    if suffix == ".ods":
        from odf.opendocument import load
        from odf.table import Table, TableCell, TableRow
        from odf.teletype import extractText

        doc = load(io.BytesIO(content))
        table = doc.spreadsheet.getElementsByType(Table)[0]
        rows = []
        for tr in table.getElementsByType(TableRow):
            cells: list[str] = []
            for cell in tr.getElementsByType(TableCell):
                repeat = min(int(cell.getAttribute("numbercolumnsrepeated") or 1), 100)
                cells.extend([extractText(cell).strip()] * repeat)
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                rows.append(cells)
            if len(rows) > MAX_ROWS:
                break
        return rows
    raise ValueError(suffix)


def guess_mapping(header: list[str]) -> dict[str, str]:
    lowered = [h.strip().lower() for h in header]
    mapping = {}
    for field, (_label, names) in FIELDS.items():
        for index, name in enumerate(lowered):
            if name in names:
                mapping[field] = str(index)
                break
    return mapping


@functools.cache
def words_to_codes() -> dict[str, dict[str, str]]:
    """For each field an export writes in words (« Très bon », « pièces », « Épuisé »), the
    code of each word in either language and of each code itself, accents and case ignored:
    an exported list imports back, and so does a sheet typed by hand."""
    found: dict[str, dict[str, str]] = {"status": {}, "condition": {}, "visibility": {}, "unit": {}}
    for locale in LOCALES:
        words = labels(locale)
        for field, names in (
            ("status", words.STATUS),
            ("condition", words.CONDITION),
            ("visibility", words.VISIBILITY),
        ):
            for code, word in names.items():
                code = ItemStatus.AVAILABLE.value if code == OUT_OF_STOCK else code  # a state of the stock
                found[field].update({fold(word): code, fold(code): code})
        for code, (one, many) in unit_names(locale).items():
            found["unit"].update({fold(one): code, fold(many): code, fold(code): code})
    return found


def row_data(row: list[str], mapping: dict[str, str], categories: dict[str, str]) -> dict[str, Any]:
    """The item a row describes; ``categories``: the code of each category's code and labels
    (folded). A word no field knows is passed on as it is, for the service to refuse."""
    codes = {**words_to_codes(), "category_code": categories}
    data: dict[str, Any] = {}
    for field, column in mapping.items():
        if not column.isdigit() or int(column) >= len(row):
            continue
        value = row[int(column)].strip()
        if value == "":
            continue
        if field in ("initial_quantity", "unit_weight_kg", "unit_value"):
            value = _decimal_text(value)
        elif field in codes:
            value = codes[field].get(fold(value), value)
        data[field] = value
    return data


async def run_import(
    request: Request, organization_id: int, rows: list[list[str]], mapping: dict[str, str], commit: bool
) -> list[tuple[int, dict[str, Any], str]]:
    """Create every row; returns (row number, data, error) for each. Nothing stays
    written unless ``commit`` is true and every row succeeded."""
    results: list[tuple[int, dict[str, Any], str]] = []
    categories: dict[str, str] = {}
    for category in await Category.all():  # the first of two categories with one label wins
        for word in (category.label_en, category.label_fr, category.code):
            categories.setdefault(fold(word), category.code)
    try:
        async with in_transaction():
            for number, row in enumerate(rows, start=2):
                data = row_data(row, mapping, categories)
                try:
                    await create_item(request.state.principal, organization_id, data)
                except ServiceError as error:
                    results.append((number, data, error.text(request.state.locale, with_fields=True)))
                else:
                    results.append((number, data, ""))
            if not commit or any(error for _n, _d, error in results):
                raise _Rollback()
    except _Rollback:
        pass
    return results


def _imports_dir(request: Request) -> Path:
    return request.app.state.settings.var_dir / "imports"


@page()
async def item_import(request: Request) -> Response:
    org = await current_org(request, Action.INVENTORY_WRITE)
    context: dict[str, Any] = {"fields": FIELDS, "error": "", "token": "", "header": [], "mapping": {}, "results": None}
    if request.method == "GET":
        return render(request, "item_import.html", context)
    settings = request.app.state.settings
    async with request.form(max_part_size=settings.max_upload_mb * 1_000_000 + 1) as form:
        upload = form.get("file")
        token = str(form.get("token", ""))
        if isinstance(upload, UploadFile) and upload.filename:
            suffix = Path(upload.filename).suffix.lower().lstrip(".")
            content = await upload.read(settings.max_upload_mb * 1_000_000 + 1)
            if suffix not in ("csv", "xlsx", "ods"):
                context["error"] = _(request, N_("Choose a CSV, XLSX or ODS file."))
                return render(request, "item_import.html", context, status_code=400)
            token = f"{secrets.token_hex(16)}.{suffix}"
            await asyncio.to_thread(_imports_dir(request).mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread((_imports_dir(request) / token).write_bytes, content)
            mapping = None
        elif TOKEN_RE.match(token) and (_imports_dir(request) / token).is_file():
            mapping = {field: str(form.get(f"map_{field}", "")) for field in FIELDS}
        else:
            context["error"] = _(request, N_("Choose a CSV, XLSX or ODS file."))
            return render(request, "item_import.html", context, status_code=400)
        commit = form.get("action") == "import"
    path = _imports_dir(request) / token
    try:
        table = await asyncio.to_thread(read_table, token, await asyncio.to_thread(path.read_bytes))
    except Exception:
        context["error"] = _(request, N_("This file could not be read."))
        return render(request, "item_import.html", context, status_code=400)
    if len(table) < 2:
        context["error"] = _(request, N_("The file has no rows under its header."))
        return render(request, "item_import.html", context, status_code=400)
    header, rows = table[0], table[1 : MAX_ROWS + 1]
    mapping = mapping if mapping is not None else guess_mapping(header)
    results = await run_import(request, org.id, rows, mapping, commit=commit)
    failed = sum(1 for _n, _d, error in results if error)
    if commit and not failed:
        path.unlink(missing_ok=True)
        response = RedirectResponse(request.url_for("web:item_list", slug=org.slug).path, status_code=303)
        flash(request, response, _(request, N_("{n} items imported."), n=len(results)))
        return response
    context.update(token=token, header=header, mapping=mapping, results=results, failed=failed, shown=results[:200])
    return render(request, "item_import.html", context, status_code=400 if commit and failed else 200)
