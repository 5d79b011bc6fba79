"""Inventory pages: the list (live search, filters, sort, pages), an item's page with
its ledger, create / edit with a photo, quick stock movements, QR labels, exports."""

from __future__ import annotations

import asyncio
import math
from typing import Any
from urllib.parse import urlencode

import segno
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from fabcom.errors import NotFound, ServiceError
from fabcom.i18n import N_
from fabcom.inventory.models import (
    INCOMING,
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
from fabcom.inventory.services import add_photo, create_item, get_item_for, record_movement, update_item
from fabcom.orgs.models import Organization
from fabcom.permissions import Action
from fabcom.web import exports
from fabcom.web.pages import current_org, field_errors, page
from fabcom.web.templating import _, flash, is_htmx, render

PAGE_SIZE = 50
SORTS = {
    "title": ("title", "id"),
    "-updated": ("-updated_at", "-id"),
    "-created": ("-created_at", "-id"),
    "quantity": ("quantity", "id"),
    "-quantity": ("-quantity", "-id"),
}
FILTERS = ("q", "category", "status", "location", "visibility", "sharing", "sort")
LABEL_LIMIT = 200


# --- the list ---------------------------------------------------------------------------


def list_params(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip()[:200] for name in FILTERS}


async def filtered_items(org: Organization, params: dict[str, str]) -> QuerySet[Item]:
    """The organization's items matching the list's filters, sorted."""
    qs = Item.filter(organization_id=org.id, deleted_at__isnull=True)
    if params["q"]:
        qs = qs.filter(Q(title__icontains=params["q"]) | Q(description__icontains=params["q"]))
    if params["category"]:
        category = await Category.get_or_none(code=params["category"])
        ids = (
            [category.id, *await Category.filter(parent_id=category.id).values_list("id", flat=True)]
            if category
            else [-1]
        )
        qs = qs.filter(category_id__in=ids)
    if params["status"] in ItemStatus.__members__.values():
        qs = qs.filter(status=params["status"])
    elif not params["status"]:
        qs = qs.filter(status__not=ItemStatus.ARCHIVED)
    if params["location"].isdigit():
        qs = qs.filter(location_id=int(params["location"]))
    if params["visibility"] in Visibility.__members__.values():
        qs = qs.filter(visibility=params["visibility"])
    if params["sharing"] in SharingMode.__members__.values():
        # sharing_modes is a small sorted JSON list of known words: a text match is exact enough.
        qs = qs.filter(id__in=await _ids_sharing(org.id, params["sharing"]))
    return qs.order_by(*SORTS.get(params["sort"], SORTS["-updated"]))


async def _ids_sharing(organization_id: int, mode: str) -> list[int]:
    rows = await Item.filter(organization_id=organization_id, deleted_at__isnull=True).values_list(
        "id", "sharing_modes"
    )
    return [item_id for item_id, modes in rows if mode in (modes or [])]


async def choices(org: Organization) -> dict[str, Any]:
    categories = await Category.all()
    parents = [c for c in categories if c.parent_id is None]  # type: ignore[attr-defined]
    return {
        "categories": [
            (p, [c for c in categories if c.parent_id == p.id])  # type: ignore[attr-defined]
            for p in parents
        ],
        "locations": await Location.filter(organization_id=org.id),
        "statuses": list(ItemStatus),
        "visibilities": list(Visibility),
        "sharing_modes": list(SharingMode),
        "units": list(Unit),
        "conditions": list(Condition),
        "incoming_kinds": [k for k in MovementKind if k in INCOMING],
        "movement_kinds": list(MovementKind),
    }


@page()
async def item_list(request: Request) -> Response:
    org = await current_org(request, Action.INVENTORY_READ)
    params = list_params(request)
    try:
        page_number = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page_number = 1
    qs = await filtered_items(org, params)
    total = await qs.count()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page_number = min(page_number, pages)
    items = await qs.offset((page_number - 1) * PAGE_SIZE).limit(PAGE_SIZE).prefetch_related("category", "location")
    query = {k: v for k, v in params.items() if v}
    context = {
        "items": items,
        "params": params,
        "total": total,
        "page": page_number,
        "pages": pages,
        "query": urlencode(query),
        "page_query": lambda n: urlencode({**query, "page": n}),
        **await choices(org),
    }
    return render(request, "item_list.html", context, fragment="_item_results.html")


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


async def _photo_upload(request: Request, form: Any, item_id: int) -> None:
    upload = form.get("photo")
    if isinstance(upload, UploadFile) and upload.filename:
        settings = request.app.state.settings
        limit = settings.max_upload_mb * 1_000_000
        content = await upload.read(limit + 1)
        await add_photo(
            request.state.principal,
            item_id,
            filename=upload.filename,
            content=content,
            uploads_dir=settings.uploads_dir,
            max_bytes=limit,
        )


@page()
async def item_create(request: Request) -> Response:
    org = await current_org(request, Action.INVENTORY_WRITE)
    values: dict[str, Any] = {"initial_kind": "donation", "unit": "piece", "condition": "good", "status": "available"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        settings = request.app.state.settings
        async with request.form(max_part_size=settings.max_upload_mb * 1_000_000 + 1) as form:
            values = item_data(form, create=True)
            try:
                async with in_transaction():  # the item and its photo, or neither
                    item = await create_item(request.state.principal, org.id, values)
                    await _photo_upload(request, form, item.id)
            except ServiceError as error:
                errors = field_errors(error, request.state.locale)
            else:
                url = request.url_for("web:item_detail", slug=org.slug, item_id=item.id).path
                response = RedirectResponse(url, status_code=303)
                flash(request, response, _(request, N_("Item “{title}” recorded."), title=item.title))
                return response
    return render(
        request,
        "item_form.html",
        {"values": values, "errors": errors, "item": None, **await choices(org)},
        status_code=400 if errors else 200,
    )


@page()
async def item_edit(request: Request) -> Response:
    org = await current_org(request, Action.INVENTORY_WRITE)
    item = await org_item(request, org, Action.INVENTORY_WRITE)
    await item.fetch_related("category")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "title": item.title,
        "description": item.description,
        "category_code": item.category.code if item.category else "",
        "location_id": item.location_id,  # type: ignore[attr-defined]
        "unit": item.unit,
        "unit_weight_kg": item.unit_weight_kg,
        "unit_value": item.unit_value,
        "condition": item.condition,
        "status": item.status,
        "visibility": item.visibility,
        "sharing_modes": item.sharing_modes,
    }
    if request.method == "POST":
        settings = request.app.state.settings
        async with request.form(max_part_size=settings.max_upload_mb * 1_000_000 + 1) as form:
            values = item_data(form, create=False)
            try:
                async with in_transaction():
                    await update_item(request.state.principal, item.id, values)
                    await _photo_upload(request, form, item.id)
            except ServiceError as error:
                errors = field_errors(error, request.state.locale)
            else:
                url = request.url_for("web:item_detail", slug=org.slug, item_id=item.id).path
                response = RedirectResponse(url, status_code=303)
                flash(request, response, _(request, N_("Changes saved.")))
                return response
    return render(
        request,
        "item_form.html",
        {"values": values, "errors": errors, "item": item, **await choices(org)},
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
    }
    data: dict[str, Any] = dict(movement)
    if data["kind"] == MovementKind.ADJUSTMENT and form.get("decrease"):
        data["decrease"] = True
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


def qr_svg(data: str) -> str:
    return segno.make(data, error="m").svg_inline(scale=3, border=2, omitsize=False)


@page()
async def item_labels(request: Request) -> Response:
    """A printable sheet of QR labels: the listed items, or the ones given by ``ids``."""
    org = await current_org(request, Action.INVENTORY_READ)
    ids = [int(i) for i in request.query_params.getlist("ids") if i.isdigit()]
    if ids:
        items = await Item.filter(organization_id=org.id, deleted_at__isnull=True, id__in=ids).order_by("id")
    else:
        items = await (await filtered_items(org, list_params(request))).limit(LABEL_LIMIT)
    base = request.app.state.settings.public_url
    labels = []
    for item in items:
        url = base + request.url_for("web:item_detail", slug=org.slug, item_id=item.id).path
        labels.append((item, await asyncio.to_thread(qr_svg, url)))
    return render(request, "item_labels.html", {"labels": labels, "limit": LABEL_LIMIT})


@page()
async def item_export(request: Request) -> Response:
    org = await current_org(request, Action.INVENTORY_READ)
    fmt = request.path_params["fmt"]
    if fmt not in exports.FORMATS:
        raise NotFound("format")
    items = await (await filtered_items(org, list_params(request))).prefetch_related("category", "location")
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
