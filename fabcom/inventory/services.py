"""Inventory services: the only code that writes categories, locations, items, movements
and photos. Each call checks the actor, validates, writes in one transaction and audits."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.db import Round
from fabcom.errors import ErrorCode, FieldError, NotFound, PermissionDenied, ServiceError, ValidationFailed
from fabcom.federation.sharing import share_item
from fabcom.i18n import N_
from fabcom.inventory.models import (
    INCOMING,
    OUTGOING,
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
from fabcom.permissions import Action, Principal
from fabcom.validation import Input, InputError, parse
from fabcom.webhooks.services import WebhookEvent, emit

TAXONOMY_FILE = Path(__file__).parent / "data" / "taxonomy.json"
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]
Weight = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=3)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


# --- taxonomy -----------------------------------------------------------------------


async def seed_categories() -> int:
    """Create or update the shipped taxonomy (idempotent); returns the number of categories."""
    data = json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    existing = {c.code: c for c in await Category.all()}
    async with in_transaction():
        for position, row in enumerate(data["categories"]):
            parent = existing.get(row["parent"]) if row["parent"] else None
            values = {
                "label_fr": row["label_fr"],
                "label_en": row["label_en"],
                "rep_channel": row["rep_channel"],
                "position": position,
                "parent_id": parent.id if parent else None,
            }
            category = existing.get(row["code"])
            if category is None:
                existing[row["code"]] = await Category.create(code=row["code"], **values)
            else:
                await Category.filter(id=category.id).update(**values)
    return len(data["categories"])


async def category_by_code(code: str | None, field: str = "category_code") -> Category | None:
    if not code:
        return None
    category = await Category.get_or_none(code=code)
    if category is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown category code {category}."), field, category=code)
    return category


# --- locations ----------------------------------------------------------------------


class LocationInput(Input):
    name: str = Field(min_length=1, max_length=120)
    parent_id: int | None = None


async def create_location(actor: Principal, organization_id: int, data: dict[str, Any] | LocationInput) -> Location:
    """Add a place where things are kept (optionally inside another one)."""
    if not actor.can(Action.INVENTORY_WRITE, organization_id):
        raise PermissionDenied()
    payload = parse(LocationInput, data)
    if payload.parent_id is not None and not await Location.exists(
        id=payload.parent_id, organization_id=organization_id
    ):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown location."), "parent_id")
    if await Location.exists(organization_id=organization_id, parent_id=payload.parent_id, name=payload.name):
        raise ValidationFailed.single(ErrorCode.ALREADY_EXISTS, N_("This location already exists."), "name")
    async with in_transaction():
        location = await Location.create(organization_id=organization_id, **payload.model_dump())
        await record(actor, "location.create", location, organization_id=organization_id, after=snapshot(location))
    return location


# --- items --------------------------------------------------------------------------


class ItemInput(Input):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    category_code: str | None = None
    location_id: int | None = None
    unit: Unit = Unit.PIECE
    unit_weight_kg: Weight | None = None
    unit_value: Money | None = None
    condition: Condition = Condition.GOOD
    status: ItemStatus = ItemStatus.AVAILABLE
    visibility: Visibility = Visibility.PRIVATE
    sharing_modes: list[SharingMode] = Field(default_factory=list, max_length=4)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _small_attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > 10_000:
            raise InputError(N_("Attributes are too large (10 kB at most)."))
        return value


class ItemCreateInput(ItemInput):
    # Optional opening stock, recorded as the item's first movement.
    initial_quantity: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=3)] = Decimal(0)
    initial_kind: MovementKind = MovementKind.DONATION
    counterparty: str = Field(default="", max_length=200)

    @field_validator("initial_kind")
    @classmethod
    def _incoming(cls, value: MovementKind) -> MovementKind:
        if value not in INCOMING:
            raise InputError(N_("The first movement of an item must bring stock in."))
        return value


async def _item_fields(organization_id: int, payload: ItemInput) -> dict[str, Any]:
    values = payload.model_dump(exclude={"category_code", "initial_quantity", "initial_kind", "counterparty"})
    category = await category_by_code(payload.category_code)
    values["category_id"] = category.id if category else None
    if payload.location_id is not None and not await Location.exists(
        id=payload.location_id, organization_id=organization_id
    ):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown location."), "location_id")
    values["sharing_modes"] = sorted({m.value for m in payload.sharing_modes})
    return values


def _archiving_refusal() -> ServiceError:
    return ValidationFailed.single(
        ErrorCode.INVALID, N_("To archive an item, use “Remove from the inventory” on its page."), "status"
    )


async def create_item(
    actor: Principal,
    organization_id: int,
    data: dict[str, Any] | ItemCreateInput,
    *,
    allow_archived: bool = True,
) -> Item:
    """Create an item, with its opening stock as a first movement when given. With
    ``allow_archived=False`` (the staff's item form) an archived status is refused: taking
    an item out of the inventory is its own, confirmed action (``delete_item``)."""
    if not actor.can(Action.INVENTORY_WRITE, organization_id):
        raise PermissionDenied()
    payload = parse(ItemCreateInput, data)
    if not allow_archived and payload.status == ItemStatus.ARCHIVED:
        raise _archiving_refusal()
    if refusal := fraction_refusal(payload.unit, payload.initial_quantity, "initial_quantity"):
        raise ValidationFailed([refusal])
    values = await _item_fields(organization_id, payload)
    async with in_transaction():
        item = await Item.create(organization_id=organization_id, created_by_id=actor.user_id, **values)
        await record(actor, "item.create", item, organization_id=organization_id, after=snapshot(item))
        if payload.initial_quantity > 0:
            await _apply_movement(
                actor,
                item,
                payload.initial_kind,
                payload.initial_quantity,
                weight_kg=_weight_of(item, payload.initial_quantity),
                occurred_at=clock.now(),
                counterparty=payload.counterparty,
            )
            await item.refresh_from_db()
        await emit(organization_id, WebhookEvent.ITEM_CREATED, snapshot(item))
        await share_item(item, None)
    return item


async def get_item_for(actor: Principal, item_id: int, action: Action | None = None) -> Item:
    """The item if ``actor`` may see it (and do ``action`` to it); otherwise NotFound or
    PermissionDenied. Invisible items are answered exactly like missing ones."""
    item = await Item.get_or_none(id=item_id, deleted_at__isnull=True)
    if item is None or not actor.sees("inventory", item.visibility, item.organization_id):  # type: ignore[attr-defined]
        raise NotFound("item")
    if action is not None and not actor.can(action, item.organization_id):  # type: ignore[attr-defined]
        raise PermissionDenied()
    return item


async def update_item(actor: Principal, item_id: int, changes: dict[str, Any], *, allow_archived: bool = True) -> Item:
    """Change some of an item's fields (quantity excepted: that is what movements are for).
    With ``allow_archived=False`` (the staff's item form) a change to the archived status is
    refused, as archiving is its own, confirmed action; an item already archived (through
    the API) may keep that status while its other fields are edited."""
    item = await get_item_for(actor, item_id, Action.INVENTORY_WRITE)
    if "quantity" in changes:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("Quantities change through stock movements, not edits."), "quantity"
        )
    current = {
        "title": item.title,
        "description": item.description,
        "category_code": (await item.category).code if item.category_id else None,  # type: ignore[attr-defined,misc]  # an unfetched relation is awaited
        "location_id": item.location_id,  # type: ignore[attr-defined]
        "unit": item.unit,
        "unit_weight_kg": item.unit_weight_kg,
        "unit_value": item.unit_value,
        "condition": item.condition,
        "status": item.status,
        "visibility": item.visibility,
        "sharing_modes": item.sharing_modes,
        "attributes": item.attributes,
    }
    payload = parse(ItemInput, {**current, **changes})
    if not allow_archived and payload.status == ItemStatus.ARCHIVED and item.status != ItemStatus.ARCHIVED:
        raise _archiving_refusal()
    values = await _item_fields(item.organization_id, payload)  # type: ignore[attr-defined]
    before = snapshot(item)
    async with in_transaction():
        await Item.filter(id=item.id).update(**values, updated_at=clock.now())
        await item.refresh_from_db()
        await record(
            actor,
            "item.update",
            item,
            organization_id=item.organization_id,  # type: ignore[attr-defined]
            before=before,
            after=snapshot(item),
        )
        await emit(item.organization_id, WebhookEvent.ITEM_UPDATED, snapshot(item))  # type: ignore[attr-defined]
        await share_item(item, before["visibility"])
    return item


async def delete_item(actor: Principal, item_id: int) -> None:
    """Remove an item from the inventory. Its ledger stays (it is append-only), so the
    item is archived and hidden rather than erased."""
    item = await get_item_for(actor, item_id, Action.INVENTORY_DELETE)
    before = snapshot(item)
    async with in_transaction():
        await Item.filter(id=item.id).update(deleted_at=clock.now(), status=ItemStatus.ARCHIVED)
        await item.refresh_from_db()
        await record(
            actor,
            "item.delete",
            item,
            organization_id=item.organization_id,  # type: ignore[attr-defined]
            before=before,
            after=snapshot(item),
        )
        await emit(item.organization_id, WebhookEvent.ITEM_DELETED, {"id": item.id})  # type: ignore[attr-defined]
        await share_item(item, before["visibility"], deleted=True)


# --- stock movements ----------------------------------------------------------------


class MovementInput(Input):
    kind: MovementKind
    quantity: Quantity  # a magnitude; the kind gives the direction
    # Adjustments only: True removes stock (an inventory count found less).
    decrease: bool = False
    weight_kg: Weight | None = None
    occurred_at: dt.datetime | None = None
    counterparty: str = Field(default="", max_length=200)
    counterparty_organization_id: int | None = None
    note: str = Field(default="", max_length=500)

    @field_validator("occurred_at")
    @classmethod
    def _aware_and_not_future(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise InputError(N_("Give the time with its time zone."))
        if value > clock.now() + dt.timedelta(minutes=5):
            raise InputError(N_("A movement cannot be in the future."))
        return value


def _weight_of(item: Item, quantity: Decimal) -> Decimal | None:
    if item.unit == Unit.KG:
        return quantity
    if item.unit_weight_kg is not None:
        return (item.unit_weight_kg * quantity).quantize(Decimal("0.001"))
    return None


def signed_quantity(kind: MovementKind, quantity: Decimal, decrease: bool = False) -> Decimal:
    if kind in OUTGOING or (kind == MovementKind.ADJUSTMENT and decrease):
        return -quantity
    return quantity


async def _apply_movement(
    actor: Principal,
    item: Item,
    kind: MovementKind,
    quantity: Decimal,
    *,
    decrease: bool = False,
    weight_kg: Decimal | None = None,
    occurred_at: dt.datetime,
    counterparty: str = "",
    counterparty_organization_id: int | None = None,
    exchange_request_id: int | None = None,
    note: str = "",
) -> StockMovement:
    """Write one ledger line and move the item's running quantity, inside the caller's
    transaction. A withdrawal is a conditional UPDATE (``quantity >= q``): of two
    concurrent withdrawals of the last unit exactly one matches a row, on SQLite and
    PostgreSQL alike, and the other is refused."""
    delta = signed_quantity(kind, quantity, decrease)
    if delta < 0:
        updated = await Item.filter(id=item.id, quantity__gte=-delta).update(quantity=Round(F("quantity") + delta, 3))
        if not updated:
            raise ValidationFailed.single(
                ErrorCode.INSUFFICIENT_STOCK,
                N_("Not enough stock: only {available} left."),
                "quantity",
                available=(await Item.get(id=item.id)).quantity,
            )
    else:
        await Item.filter(id=item.id).update(quantity=Round(F("quantity") + delta, 3))
    movement = await StockMovement.create(
        item_id=item.id,
        organization_id=item.organization_id,  # type: ignore[attr-defined]
        kind=kind,
        quantity=delta,
        weight_kg=weight_kg,
        occurred_at=occurred_at,
        author_id=actor.user_id,
        counterparty=counterparty,
        counterparty_organization_id=counterparty_organization_id,
        exchange_request_id=exchange_request_id,
        note=note,
    )
    await record(
        actor,
        "stock_movement.record",
        movement,
        organization_id=item.organization_id,  # type: ignore[attr-defined]
        after=snapshot(movement),
    )
    return movement


def archived_refusal(item: Item, field: str = "kind") -> FieldError | None:
    """Why stock cannot leave ``item``, or None: an archived item has left the inventory,
    and taking from it (selling, giving, lending it…) would spend stock it no longer counts.
    Change its status back first."""
    if item.status == ItemStatus.ARCHIVED:
        return FieldError(
            ErrorCode.INVALID,
            N_("{title} is archived: it is no longer in the inventory."),
            field,
            {"title": item.title},
        )
    return None


COUNTED_UNITS = frozenset({Unit.PIECE, Unit.SET})


def fraction_refusal(unit: str, quantity: Decimal, field: str = "quantity") -> FieldError | None:
    """Why ``quantity`` cannot move an item counted in pieces or sets, or None: half a chair
    is a slip of the keyboard (or of a script), and would leave stock nobody can hand over.
    Adjustments are exempt, to put right a count that went wrong."""
    if unit in COUNTED_UNITS and quantity != quantity.to_integral_value():
        return FieldError(ErrorCode.INVALID, N_("This item is counted in whole units: enter a whole number."), field)
    return None


async def record_movement(actor: Principal, item_id: int, data: dict[str, Any] | MovementInput) -> StockMovement:
    """Record stock coming in or going out. Refused, with nothing written, when it would
    take the quantity below zero, or take stock out of an archived item."""
    item = await get_item_for(actor, item_id, Action.INVENTORY_WRITE)
    payload = parse(MovementInput, data)
    if payload.decrease and payload.kind != MovementKind.ADJUSTMENT:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("Only an adjustment can be marked as a decrease."), "decrease"
        )
    if payload.kind in OUTGOING and (refusal := archived_refusal(item)):
        raise ValidationFailed([refusal])
    if payload.kind != MovementKind.ADJUSTMENT and (refusal := fraction_refusal(item.unit, payload.quantity)):
        raise ValidationFailed([refusal])
    async with in_transaction():
        movement = await _apply_movement(
            actor,
            item,
            payload.kind,
            payload.quantity,
            decrease=payload.decrease,
            weight_kg=payload.weight_kg if payload.weight_kg is not None else _weight_of(item, payload.quantity),
            occurred_at=payload.occurred_at or clock.now(),
            counterparty=payload.counterparty,
            counterparty_organization_id=payload.counterparty_organization_id,
            note=payload.note,
        )
        await share_item(item, str(item.visibility), refresh=True)
        return movement


# --- photos -------------------------------------------------------------------------

ALLOWED_IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


async def _image_format(content: bytes, max_bytes: int) -> str:
    """The format of an image ``content`` (a key of ALLOWED_IMAGE_FORMATS), checked by
    decoding it, not by trusting the name or the declared type; refused otherwise."""
    from PIL import Image, UnidentifiedImageError

    if len(content) > max_bytes:
        raise ValidationFailed.single(
            ErrorCode.OUT_OF_RANGE,
            N_("The file is too large ({max} MB at most)."),
            "photo",
            max=max_bytes // 1_000_000,
        )

    def detect_format() -> str:
        try:
            with Image.open(io.BytesIO(content)) as image:
                image.verify()
                return image.format or ""
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return ""

    image_format = await asyncio.to_thread(detect_format)
    if image_format not in ALLOWED_IMAGE_FORMATS:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("Only JPEG, PNG, WebP or GIF images are accepted."), "photo"
        )
    return image_format


async def add_photo(
    actor: Principal, item_id: int, *, filename: str, content: bytes, uploads_dir: Path, max_bytes: int
) -> Attachment:
    """Attach an image to an item. Only real images are kept (checked by decoding them,
    not by trusting the name or the declared type), under a generated file name."""
    item = await get_item_for(actor, item_id, Action.INVENTORY_WRITE)
    image_format = await _image_format(content, max_bytes)
    content_type = ALLOWED_IMAGE_FORMATS[image_format]
    stored_name = f"{secrets.token_hex(16)}.{image_format.lower()}"
    await asyncio.to_thread(uploads_dir.mkdir, parents=True, exist_ok=True)
    path = uploads_dir / stored_name
    await asyncio.to_thread(path.write_bytes, content)
    try:
        async with in_transaction():
            position = await Attachment.filter(item_id=item.id).count()
            attachment = await Attachment.create(
                organization_id=item.organization_id,  # type: ignore[attr-defined]
                item_id=item.id,
                original_name=Path(filename).name[:200] or "photo",
                stored_name=stored_name,
                content_type=content_type,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                position=position,
                created_by_id=actor.user_id,
            )
            await record(
                actor,
                "attachment.create",
                attachment,
                organization_id=item.organization_id,  # type: ignore[attr-defined]
                after=snapshot(attachment),
            )
    except BaseException:
        path.unlink(missing_ok=True)  # no orphan file when the row was not written
        raise
    return attachment


# --- photos kept while a form is corrected ---------------------------------------------------
#
# A volunteer photographs a donation, then the form comes back for a missing title: a file
# input cannot be filled again by the server, so the photo would be lost without a word.
# The checked image waits instead under uploads/kept/, named by a random token that only
# its sender can use, until the corrected form comes back (or a day has passed).

KEPT_DIR = "kept"
KEPT_FOR = dt.timedelta(days=1)
_TOKEN = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class KeptPhoto:
    """A photo waiting for its form: the token the form carries and the name to show."""

    token: str
    filename: str


def _kept_paths(uploads_dir: Path, token: str) -> tuple[Path, Path]:
    folder = uploads_dir / KEPT_DIR
    return folder / f"{token}.bin", folder / f"{token}.json"


def _forget_old_kept_photos(folder: Path) -> None:
    """Remove what waited longer than KEPT_FOR (a form never sent back)."""
    limit = time.time() - KEPT_FOR.total_seconds()  # the files' clock, not the app's (tests move that one)
    for path in folder.glob("*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # another process removed it first


async def keep_photo(
    actor: Principal,
    organization_id: int,
    *,
    filename: str,
    content: bytes,
    uploads_dir: Path,
    max_bytes: int,
) -> KeptPhoto:
    """Keep a photo sent with a form that came back with errors, so the corrected form
    does not need it again. The image is checked as ``add_photo`` checks it (a bad file is
    refused here, with the same message); nothing is written to the database."""
    if not actor.can(Action.INVENTORY_WRITE, organization_id):
        raise PermissionDenied()
    await _image_format(content, max_bytes)
    token = secrets.token_hex(16)
    data, meta = _kept_paths(uploads_dir, token)
    name = Path(filename).name[:200] or "photo"
    owner = {"user_id": actor.user_id, "organization_id": organization_id, "filename": name}

    def write() -> None:
        data.parent.mkdir(parents=True, exist_ok=True)
        _forget_old_kept_photos(data.parent)
        data.write_bytes(content)
        meta.write_text(json.dumps(owner), encoding="utf-8")

    await asyncio.to_thread(write)
    return KeptPhoto(token, name)


async def kept_photo(
    actor: Principal, organization_id: int, token: str, uploads_dir: Path
) -> tuple[KeptPhoto, bytes] | None:
    """The photo kept under ``token`` and its content, if ``actor`` kept it for this
    organization (anyone else's token, an old or a made-up one: None)."""
    if not _TOKEN.fullmatch(token) or actor.user_id is None:
        return None
    data, meta = _kept_paths(uploads_dir, token)

    def read() -> tuple[dict[str, Any], bytes] | None:
        try:
            return json.loads(meta.read_text(encoding="utf-8")), data.read_bytes()
        except (OSError, ValueError):
            return None

    found = await asyncio.to_thread(read)
    if found is None:
        return None
    owner, content = found
    if owner.get("user_id") != actor.user_id or owner.get("organization_id") != organization_id:
        return None
    return KeptPhoto(token, str(owner.get("filename") or "photo")), content


async def drop_kept_photo(token: str, uploads_dir: Path) -> None:
    """Forget a kept photo once it is attached to its item."""
    if not _TOKEN.fullmatch(token):
        return
    for path in _kept_paths(uploads_dir, token):
        await asyncio.to_thread(path.unlink, missing_ok=True)
