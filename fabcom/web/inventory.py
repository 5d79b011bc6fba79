"""Inventory pages: the list (live search, filters, sort, pages), an item's page with
its ledger, create / edit with a photo, quick stock movements, QR labels, exports."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import segno
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from tortoise.transactions import in_transaction

from fabcom.errors import NotFound, ServiceError
from fabcom.i18n import N_, ngettext
from fabcom.inventory.models import (
    INCOMING,
    OUT_OF_STOCK,
    Attachment,
    Category,
    Condition,
    Item,
    ItemStatus,
    Location,
    MovementKind,
    SharingMode,
    StockMovement,
    Unit,
    Visibility,
)
from fabcom.inventory.services import (
    KeptPhoto,
    add_photo,
    create_item,
    delete_item,
    drop_kept_photo,
    get_item_for,
    keep_photo,
    kept_photo,
    record_movement,
    update_item,
)
from fabcom.orgs.models import Organization
from fabcom.permissions import Action
from fabcom.web import exports
from fabcom.web.item_list import FILTERS, CategoryLabel, ItemList, ItemRow, decode_cursor, encode_cursor
from fabcom.web.pages import confirm_page, confirmed, current_org, field_errors, fragment_org, page, together
from fabcom.web.templating import _, flash, format_number, is_htmx, render

PAGE_SIZE = 50
# Labels per printed sheet: 20 A4 pages at most, and a sheet that opens quickly (each new QR
# code costs a few milliseconds of CPU; see ``qr_svgs``).
LABELS_PER_SHEET = 60


# --- the list ---------------------------------------------------------------------------


def list_params(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip()[:200] for name in FILTERS}


Taxonomy = list[tuple[CategoryLabel, list[CategoryLabel]]]

# The taxonomy's fingerprint, computed by the database over every column the pages show:
# one row, where loading the tree is one row per category. It changes whenever a category
# is added, removed or edited, by any process (``fabcom migrate`` seeding a new taxonomy,
# another server, SQL by hand), so every process checks it and none assumes it is alone.
_TAXONOMY_FINGERPRINT = {
    "postgres": "SELECT count(*), md5(string_agg(concat_ws('|', id, code, parent_id, label_fr, label_en, position),"
    " '/' ORDER BY id)) FROM fabcom_category",
    "sqlite": "SELECT count(*), group_concat(id || '|' || code || '|' || coalesce(parent_id, '') || '|' || label_fr"
    " || '|' || label_en || '|' || position, '/') FROM (SELECT * FROM fabcom_category ORDER BY id)",
}
_taxonomy: tuple[tuple[Any, ...], Taxonomy] | None = None


async def category_tree() -> Taxonomy:
    """The taxonomy as (parent, children) pairs in display order, for the filter and item
    forms: built again only when its fingerprint in the database has changed."""
    global _taxonomy
    connection = Category._meta.db
    dialect = "sqlite" if connection.capabilities.dialect == "sqlite" else "postgres"
    _count, rows = await connection.execute_query(_TAXONOMY_FINGERPRINT[dialect])
    fingerprint = (dialect, *tuple(rows[0]))
    if _taxonomy is not None and _taxonomy[0] == fingerprint:
        return _taxonomy[1]
    categories = [
        CategoryLabel(**row)
        for row in await Category.all()
        .order_by("position", "code")
        .values("id", "code", "parent_id", "label_fr", "label_en")
    ]
    tree = [(p, [c for c in categories if c.parent_id == p.id]) for p in categories if p.parent_id is None]
    _taxonomy = (fingerprint, tree)
    return tree


async def choices(org: Organization) -> dict[str, Any]:
    categories, locations = await asyncio.gather(category_tree(), Location.filter(organization_id=org.id))
    return {
        "categories": categories,
        "locations": locations,
        "statuses": list(ItemStatus),
        # The list's status filter: out of stock comes next to the available it is cut from.
        "status_filters": [
            ItemStatus.AVAILABLE.value,
            OUT_OF_STOCK,
            ItemStatus.RESERVED.value,
            ItemStatus.UNAVAILABLE.value,
            ItemStatus.ARCHIVED.value,
        ],
        "visibilities": list(Visibility),
        "sharing_modes": list(SharingMode),
        "units": list(Unit),
        "conditions": list(Condition),
        "incoming_kinds": [k for k in MovementKind if k in INCOMING],
        "movement_kinds": list(MovementKind),
    }


COUNT_CAP = 1000  # "more than 1,000": counting further costs a scan for a number nobody pages through


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the list: its rows, the cursors of the next and previous pages (None at
    either end), and the rank of its first row when known (1 on the first page)."""

    items: list[ItemRow]
    next_cursor: str | None
    previous_cursor: str | None
    first: int | None


async def keyset_page(listed: ItemList, after: str | None, before: str | None, size: int) -> Page:
    """One page of ``listed`` after the cursor ``after`` (or before ``before``). Never an
    OFFSET: a deep page costs what the first one does. The cursors carry the rank of their
    row, so each page knows where it stands for free."""
    sort = listed.params["sort"]
    position = decode_cursor(before, sort) if before else None
    if position is not None:  # going back: read backwards from the cursor, then turn the rows around
        rows = await listed.rows(size + 1, position, forward=False)
        has_previous = len(rows) > size
        items = list(reversed(rows[:size]))
        # Back at the start, the first row is the first, whatever rows came or went meanwhile.
        first = 1 if not has_previous else (position.rank - len(items) if position.rank else None)
        if first is not None and first < 1:
            first = None
        return Page(
            items,
            encode_cursor(items[-1], sort, _rank(first, len(items))) if items else None,
            encode_cursor(items[0], sort, first) if items and has_previous else None,
            first,
        )
    position = decode_cursor(after, sort) if after else None
    first = (position.rank + 1 if position.rank else None) if position is not None else 1
    rows = await listed.rows(size + 1, position)
    items = rows[:size]
    return Page(
        items,
        encode_cursor(items[-1], sort, _rank(first, len(items))) if len(rows) > size else None,
        encode_cursor(items[0], sort, first) if position is not None and items else None,
        first,
    )


def _rank(first: int | None, count: int) -> int | None:
    """The rank of a page's last row, from the rank of its first."""
    return first + count - 1 if first is not None and count else None


@page()
async def item_list(request: Request) -> Response:
    params = list_params(request)
    after = request.query_params.get("after", "")[:400] or None
    before = request.query_params.get("before", "")[:400] or None
    count: dict[str, Any]
    if is_htmx(request):
        # Search as you type, a filter or a page changed: the rows and the pager, nothing
        # else (no layout, no filter form, no count), and the organization as who asks knows it.
        ref = await fragment_org(request, Action.INVENTORY_READ)
        rows = await keyset_page(ItemList(ref.id, params), after, before, PAGE_SIZE)
        count = fragment_count(rows.items, first_page=not (after or before), more=rows.next_cursor is not None)
        form: dict[str, Any] = {}
    else:
        org = await current_org(request, Action.INVENTORY_READ)
        listed = ItemList(org.id, params)
        # The page, the count and the filter form's choices go to the database together
        # (pooled connections on PostgreSQL). Counting stops past COUNT_CAP.
        rows, total, form = await asyncio.gather(
            keyset_page(listed, after, before, PAGE_SIZE), listed.count(COUNT_CAP + 1), choices(org)
        )
        count = {"total": min(total, COUNT_CAP), "more": total > COUNT_CAP}
    query = {k: v for k, v in params.items() if v}
    context = {
        "items": rows.items,
        "params": params,
        **count,
        # Which rows a page reached by its cursor shows (« Objets 51 à 100 »): the cursor
        # carried the rank, so a fragment says where it is without counting.
        "first": rows.first,
        "last": _rank(rows.first, len(rows.items)),
        "query": urlencode(query),
        "next_query": urlencode({**query, "after": rows.next_cursor}) if rows.next_cursor else "",
        "previous_query": urlencode({**query, "before": rows.previous_cursor}) if rows.previous_cursor else "",
        **form,
    }
    return render(request, "item_list.html", context, fragment="_item_results.html")


def fragment_count(items: list[ItemRow], *, first_page: bool, more: bool) -> dict[str, Any]:
    """What a fragment can say of the number of matches without counting them: the first
    page knows it exactly when there is no next page, and "more than a page" otherwise;
    a page reached by its cursor gives no total (the full page counts, up to COUNT_CAP)
    but says which rows it shows, from the rank its cursor carried."""
    if not first_page:
        return {"total": None, "more": False}
    return {"total": len(items), "more": more}


async def items_in_order(ids: list[int], *related: str) -> list[Item]:
    """The items of ``ids``, in that order, with ``related`` fetched (by chunks: an export
    may list the whole inventory, more than a statement's parameters)."""
    found: dict[int, Item] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update({item.id: item for item in await Item.filter(id__in=chunk).prefetch_related(*related)})
    return [found[i] for i in ids if i in found]


# --- one item ---------------------------------------------------------------------------


async def org_item(request: Request, org: Organization, action: Action | None = None) -> Item:
    """The item of the URL, only if it belongs to the organization of the URL."""
    item = await get_item_for(request.state.principal, int(request.path_params["item_id"]), action)
    if item.organization_id != org.id:  # type: ignore[attr-defined]
        raise NotFound("item")
    return item


async def stock_context(item: Item) -> dict[str, Any]:
    movements = await StockMovement.filter(item_id=item.id).prefetch_related("author").limit(50)
    return {"item": item, "movements": movements}


@page()
async def item_detail(request: Request) -> Response:
    org = await current_org(request, Action.INVENTORY_READ)
    item = await org_item(request, org)
    await item.fetch_related("category", "location", "photos")
    return render(
        request,
        "item_detail.html",
        {**await stock_context(item), **await choices(org), "movement": {}, "errors": {}},
    )


def _decimal_text(value: str) -> str:
    """Accept a French decimal comma and spaces as thousands separators."""
    return value.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")


NUMBER_FIELDS = ("unit_weight_kg", "unit_value", "initial_quantity")


def as_typed(form: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The form's values shown again after an error, numbers as the person typed them
    ("12,5", "1 200") rather than as sent to the service ("12.5", "1200")."""
    return {**values, **{name: str(form[name]) for name in NUMBER_FIELDS if name in form}}


def item_data(form: Any, create: bool) -> dict[str, Any]:
    """The service input from the form: empty optional fields become None."""
    data: dict[str, Any] = {
        "title": str(form.get("title", "")),
        "description": str(form.get("description", "")),
        "category_code": str(form.get("category_code", "")) or None,
        "location_id": str(form.get("location_id", "")) or None,
        "unit": str(form.get("unit", "")) or Unit.PIECE,
        "unit_weight_kg": _decimal_text(str(form.get("unit_weight_kg", ""))) or None,
        "unit_value": _decimal_text(str(form.get("unit_value", ""))) or None,
        "condition": str(form.get("condition", "")) or Condition.GOOD,
        "status": str(form.get("status", "")) or ItemStatus.AVAILABLE,
        "visibility": str(form.get("visibility", "")) or Visibility.PRIVATE,
        "sharing_modes": [str(v) for v in form.getlist("sharing_modes")],
    }
    if create:
        data["initial_quantity"] = _decimal_text(str(form.get("initial_quantity", ""))) or "0"
        data["initial_kind"] = str(form.get("initial_kind", "")) or MovementKind.DONATION
        data["counterparty"] = str(form.get("counterparty", ""))
    return data


@dataclass(frozen=True, slots=True)
class Photo:
    """The photo a form brings: a new upload, or one kept from a form sent back."""

    filename: str
    content: bytes
    kept: KeptPhoto | None = None


async def _form_photo(request: Request, org: Organization, form: Any) -> Photo | None:
    """The photo sent with ``form``: a new file wins over one kept from the last try."""
    settings = request.app.state.settings
    upload = form.get("photo")
    if isinstance(upload, UploadFile) and upload.filename:
        limit = settings.max_upload_mb * 1_000_000
        return Photo(upload.filename, await upload.read(limit + 1))
    token = str(form.get("kept_photo", ""))[:64]
    found = await kept_photo(request.state.principal, org.id, token, settings.uploads_dir) if token else None
    return Photo(found[0].filename, found[1], found[0]) if found else None


async def _attach(request: Request, item_id: int, photo: Photo | None) -> None:
    if photo is not None:
        settings = request.app.state.settings
        await add_photo(
            request.state.principal,
            item_id,
            filename=photo.filename,
            content=photo.content,
            uploads_dir=settings.uploads_dir,
            max_bytes=settings.max_upload_mb * 1_000_000,
        )


async def _photo_for_retry(
    request: Request, org: Organization, photo: Photo | None, errors: dict[str, str]
) -> tuple[KeptPhoto | None, dict[str, str]]:
    """The form came back with ``errors``: keep its photo for the next try (a file input
    cannot be filled again, and a volunteer would not notice the photo had gone), or say
    why the photo itself cannot be kept."""
    if photo is None or "photo" in errors:  # no photo, or the photo is what was wrong
        return None, errors
    if photo.kept is not None:  # kept last time: still waiting
        return photo.kept, errors
    settings = request.app.state.settings
    try:
        kept = await keep_photo(
            request.state.principal,
            org.id,
            filename=photo.filename,
            content=photo.content,
            uploads_dir=settings.uploads_dir,
            max_bytes=settings.max_upload_mb * 1_000_000,
        )
    except ServiceError as error:  # not an image, too large: said next to the photo field
        return None, {**errors, **field_errors(error, request.state.locale)}
    return kept, errors


async def _photo_attached(request: Request, photo: Photo | None) -> None:
    """The item is saved: a kept photo has found its item and waits no longer."""
    if photo is not None and photo.kept is not None:
        await drop_kept_photo(photo.kept.token, request.app.state.settings.uploads_dir)


@page()
async def item_create(request: Request) -> Response:
    org = await current_org(request, Action.INVENTORY_WRITE)
    values: dict[str, Any] = {"initial_kind": "donation", "unit": "piece", "condition": "good", "status": "available"}
    errors: dict[str, str] = {}
    kept: KeptPhoto | None = None
    if request.method == "POST":
        settings = request.app.state.settings
        async with request.form(max_part_size=settings.max_upload_mb * 1_000_000 + 1) as form:
            values = item_data(form, create=True)
            photo = await _form_photo(request, org, form)
            try:
                async with in_transaction():  # the item and its photo, or neither
                    # Archiving is its own action (with a confirmation), not a status to pick here.
                    item = await create_item(request.state.principal, org.id, values, allow_archived=False)
                    await _attach(request, item.id, photo)
            except ServiceError as error:
                errors = field_errors(error, request.state.locale)
                values = as_typed(form, values)
                kept, errors = await _photo_for_retry(request, org, photo, errors)
            else:
                await _photo_attached(request, photo)
                url = request.url_for("web:item_detail", slug=org.slug, item_id=item.id).path
                response = RedirectResponse(url, status_code=303)
                flash(request, response, _(request, N_("Item “{title}” recorded."), title=item.title))
                return response
    return render(
        request,
        "item_form.html",
        {"values": values, "errors": errors, "item": None, "kept_photo": kept, **await choices(org)},
        status_code=400 if errors else 200,
    )


@page()
async def item_edit(request: Request) -> Response:
    org = await current_org(request, Action.INVENTORY_WRITE)
    item = await org_item(request, org, Action.INVENTORY_WRITE)
    await item.fetch_related("category")
    errors: dict[str, str] = {}
    kept: KeptPhoto | None = None
    values: dict[str, Any] = {
        "title": item.title,
        "description": item.description,
        "category_code": item.category.code if item.category else "",
        "location_id": item.location_id,  # type: ignore[attr-defined]
        "unit": item.unit,
        # As the person would type them: "12,5", not "12.500" (twelve thousand in French).
        "unit_weight_kg": format_number(item.unit_weight_kg, request.state.locale),
        "unit_value": format_number(item.unit_value, request.state.locale),
        "condition": item.condition,
        "status": item.status,
        "visibility": item.visibility,
        "sharing_modes": item.sharing_modes,
    }
    if request.method == "POST":
        settings = request.app.state.settings
        async with request.form(max_part_size=settings.max_upload_mb * 1_000_000 + 1) as form:
            values = item_data(form, create=False)
            photo = await _form_photo(request, org, form)
            try:
                async with in_transaction():
                    await update_item(request.state.principal, item.id, values, allow_archived=False)
                    await _attach(request, item.id, photo)
            except ServiceError as error:
                errors = field_errors(error, request.state.locale)
                values = as_typed(form, values)
                kept, errors = await _photo_for_retry(request, org, photo, errors)
            else:
                await _photo_attached(request, photo)
                url = request.url_for("web:item_detail", slug=org.slug, item_id=item.id).path
                response = RedirectResponse(url, status_code=303)
                flash(request, response, _(request, N_("Changes saved.")))
                return response
    return render(
        request,
        "item_form.html",
        {"values": values, "errors": errors, "item": item, "kept_photo": kept, **await choices(org)},
        status_code=400 if errors else 200,
    )


@page()
async def item_movement(request: Request) -> Response:
    """Quick stock entry from the item's page; htmx swaps the stock block in place."""
    org = await current_org(request, Action.INVENTORY_WRITE)
    item = await org_item(request, org, Action.INVENTORY_WRITE)
    form = await request.form()
    movement = {
        "kind": str(form.get("kind", "")),
        "quantity": _decimal_text(str(form.get("quantity", ""))),
        "counterparty": str(form.get("counterparty", "")),
        "note": str(form.get("note", "")),
        "decrease": "1" if form.get("decrease") else "",
    }
    # Passed on as ticked, whatever the kind: the service refuses a decrease on anything
    # but an adjustment, so the person is told instead of the tick being ignored.
    data: dict[str, Any] = {**movement, "decrease": bool(movement["decrease"])}
    errors: dict[str, str] = {}
    try:
        await record_movement(request.state.principal, item.id, data)
    except ServiceError as error:
        errors = field_errors(error, request.state.locale)
    await item.refresh_from_db()
    if not is_htmx(request) and not errors:
        response = RedirectResponse(
            request.url_for("web:item_detail", slug=org.slug, item_id=item.id).path, status_code=303
        )
        flash(request, response, _(request, N_("Movement recorded.")))
        return response
    await item.fetch_related("category", "location", "photos")
    context = {
        **await stock_context(item),
        **await choices(org),
        "movement": {} if not errors else movement,
        "errors": errors,
        "saved": not errors,
    }
    return render(request, "item_detail.html", context, fragment="_item_stock.html", status_code=400 if errors else 200)


@page()
async def item_archive(request: Request) -> Response:
    """Take an item out of the inventory (its ledger stays: it is archived, not erased)."""
    org = await current_org(request, Action.INVENTORY_DELETE)
    item = await org_item(request, org, Action.INVENTORY_DELETE)
    if not confirmed(await request.form()):
        return confirm_page(
            request,
            title=_(request, N_("Remove “{title}” from the inventory?"), title=item.title),
            consequence=_(
                request,
                N_(
                    "It leaves the inventory, the searches and the partners' view; its history of movements is kept. "
                    "It cannot be put back from here."
                ),
            ),
            button=_(request, N_("Yes, remove it")),
            cancel_url=request.url_for("web:item_detail", slug=org.slug, item_id=item.id).path,
        )
    await delete_item(request.state.principal, item.id)
    response = RedirectResponse(request.url_for("web:item_list", slug=org.slug).path, status_code=303)
    flash(request, response, _(request, N_("“{title}” removed from the inventory."), title=item.title))
    return response


# --- photos, labels and exports ------------------------------------------------------------


async def photo(request: Request) -> Response:
    """An item's photo, to those who may see the item, with its checked content type."""
    attachment = await Attachment.get_or_none(id=int(request.path_params["attachment_id"]), item_id__isnull=False)
    if attachment is None:
        return Response(status_code=404)
    try:
        await get_item_for(request.state.principal, attachment.item_id)  # type: ignore[attr-defined]
    except ServiceError:
        return Response(status_code=404)
    path = request.app.state.settings.uploads_dir / attachment.stored_name
    if not path.is_file():
        return Response(status_code=404)
    return FileResponse(
        path,
        media_type=attachment.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=3600",
            "Content-Disposition": "inline",
        },
    )


@functools.lru_cache(maxsize=4096)
def qr_svg(data: str) -> str:
    """The QR code of ``data`` as inline SVG, with a ``viewBox`` and no size of its own: the
    sheet's CSS then scales the whole code (a fixed size was cropped, and the code could not
    be scanned). Choosing the best mask is most of segno's work (about 4 ms a code), and an
    item's URL never changes: each code is made once per process."""
    return segno.make(data, error="m", micro=False).svg_inline(scale=3, border=2, omitsize=True)


def qr_svgs(urls: list[str]) -> list[str]:
    """Many codes in one worker-thread hop (not one hop per label)."""
    return [qr_svg(url) for url in urls]


@page()
async def item_labels(request: Request) -> Response:
    """A printable sheet of QR labels: the listed items (by sheets of ``LABELS_PER_SHEET``),
    or the ones given by ``ids``."""
    org = await current_org(request, Action.INVENTORY_READ)
    ids = [int(i) for i in request.query_params.getlist("ids") if i.isdigit()][:LABELS_PER_SHEET]
    sheet, sheets, skipped = 1, 1, 0
    if ids:  # chosen one by one (an item's own « Print the label »): printed whatever its stock
        items = await Item.filter(organization_id=org.id, deleted_at__isnull=True, id__in=ids).order_by("id")
    else:
        listed = ItemList(org.id, list_params(request))
        # A label goes on a thing on a shelf: what has nothing in stock (« Épuisé ») or has
        # left the inventory gets none, and the sheet says how many it left out.
        printable = dataclasses.replace(listed, printable=True)
        total, everything = await together(printable.count(), listed.count())
        skipped = everything - total
        sheets = max(1, -(-total // LABELS_PER_SHEET))
        raw = request.query_params.get("sheet", "1")
        sheet = min(max(int(raw), 1), sheets) if raw.isdigit() and len(raw) < 6 else 1
        items = await items_in_order(await printable.ids(LABELS_PER_SHEET, (sheet - 1) * LABELS_PER_SHEET))
    base = request.app.state.settings.public_url
    urls = [base + request.url_for("web:item_detail", slug=org.slug, item_id=item.id).path for item in items]
    svgs = await asyncio.to_thread(qr_svgs, urls)
    params = {k: v for k, v in list_params(request).items() if v}
    return render(
        request,
        "item_labels.html",
        {
            "labels": list(zip(items, svgs, strict=True)),
            "per_sheet": LABELS_PER_SHEET,
            "sheet": sheet,
            "sheets": sheets,
            "skipped": ngettext(
                request.state.locale,
                "{n} item with no stock or archived is not printed.",
                "{n} items with no stock or archived are not printed.",
                skipped,
            )
            if skipped
            else "",
            "sheet_url": lambda n: "?" + urlencode({**params, "sheet": n}),
        },
    )


@page()
async def item_export(request: Request) -> Response:
    org = await current_org(request, Action.INVENTORY_READ)
    fmt = request.path_params["fmt"]
    if fmt not in exports.FORMATS:
        raise NotFound("format")
    items = await items_in_order(await ItemList(org.id, list_params(request)).ids(), "category", "location")
    locale = request.state.locale
    header, rows = exports.item_rows(items, locale)
    content = await asyncio.to_thread(exports.FORMATS[fmt].write, header, rows, locale)
    filename = f"{org.slug}-inventaire.{fmt}"
    return Response(
        content,
        media_type=exports.FORMATS[fmt].media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
