"""Inventory: the shared category taxonomy, locations, items, their ledger and photos."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from fabcom.db import TimestampedModel

if TYPE_CHECKING:
    from fabcom.auth.models import User
    from fabcom.network.models import ExchangeRequest
    from fabcom.orgs.models import Organization
    from fabcom.projects.models import Project


class Unit(StrEnum):
    PIECE = "piece"
    KG = "kg"
    M = "m"
    M2 = "m2"
    L = "l"
    SET = "set"


class Condition(StrEnum):
    NEW = "new"
    VERY_GOOD = "very_good"
    GOOD = "good"
    FAIR = "fair"
    FOR_REPAIR = "for_repair"
    FOR_PARTS = "for_parts"


class ItemStatus(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    UNAVAILABLE = "unavailable"
    ARCHIVED = "archived"


# Not a stored status: what the pages call an item still ``available`` with nothing left
# in stock (« Épuisé »). Its status stays as staff set it, so stock coming back (a donation,
# a return) makes it available again without anyone having to remember to change it.
OUT_OF_STOCK = "out_of_stock"


def shown_status(status: str, quantity: Decimal | None) -> str:
    """The status staff see: ``OUT_OF_STOCK`` for an available item with no stock, else its own."""
    if status == ItemStatus.AVAILABLE and (quantity or 0) <= 0:
        return OUT_OF_STOCK
    return str(status)


class Visibility(StrEnum):
    PRIVATE = "private"
    PARTNERS = "partners"
    PUBLIC = "public"


class SharingMode(StrEnum):
    GIVE = "give"
    LEND = "lend"
    SELL = "sell"
    USE_ON_SITE = "use_on_site"


class MovementKind(StrEnum):
    # in
    DONATION = "donation"
    PURCHASE = "purchase"
    COLLECTION = "collection"
    PRODUCTION = "production"
    TRANSFER_IN = "transfer_in"
    RETURN = "return"
    # out
    SALE = "sale"
    GIFT = "gift"
    LOAN = "loan"
    RECYCLING = "recycling"
    DISPOSAL = "disposal"
    TRANSFER_OUT = "transfer_out"
    # either sign: an inventory count that corrects the ledger
    ADJUSTMENT = "adjustment"


INCOMING = frozenset(
    {
        MovementKind.DONATION,
        MovementKind.PURCHASE,
        MovementKind.COLLECTION,
        MovementKind.PRODUCTION,
        MovementKind.TRANSFER_IN,
        MovementKind.RETURN,
    }
)
OUTGOING = frozenset(
    {
        MovementKind.SALE,
        MovementKind.GIFT,
        MovementKind.LOAN,
        MovementKind.RECYCLING,
        MovementKind.DISPOSAL,
        MovementKind.TRANSFER_OUT,
    }
)


class Category(Model):
    """A node of the shared taxonomy. Codes are stable across sites (``C_15`` = furniture)."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    parent: fields.ForeignKeyNullableRelation[Category] = fields.ForeignKeyField(
        "fabcom.Category", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    label_fr = fields.CharField(max_length=120)
    label_en = fields.CharField(max_length=120)
    # The French REP channel (filière) that takes this category at end of life, if any.
    rep_channel = fields.CharField(max_length=10, null=True)
    position = fields.IntField(default=0)

    class Meta:
        table = "fabcom_category"
        ordering = ["position", "code"]

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr


class Location(TimestampedModel):
    """Where things are kept inside an organization (a tree: building / room / shelf)."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name="locations", on_delete=fields.CASCADE
    )
    parent: fields.ForeignKeyNullableRelation[Location] = fields.ForeignKeyField(
        "fabcom.Location", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=120)

    class Meta:
        table = "fabcom_location"
        unique_together = (("organization", "parent", "name"),)
        ordering = ["name"]


class Item(TimestampedModel):
    """One thing or a bulk stock. ``quantity`` is the running total of its ledger
    (StockMovement), maintained by the inventory services only and never negative."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name="items", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    category: fields.ForeignKeyNullableRelation[Category] = fields.ForeignKeyField(
        "fabcom.Category", related_name="items", null=True, on_delete=fields.SET_NULL
    )
    location: fields.ForeignKeyNullableRelation[Location] = fields.ForeignKeyField(
        "fabcom.Location", related_name="items", null=True, on_delete=fields.SET_NULL
    )
    unit = fields.CharEnumField(Unit, max_length=8, default=Unit.PIECE)
    quantity = fields.DecimalField(max_digits=14, decimal_places=3, default=0)
    # Weight of one unit in kg (for piece/set); for bulk stocks in kg it is redundant and left empty.
    unit_weight_kg = fields.DecimalField(max_digits=12, decimal_places=3, null=True)
    # Value of one unit in euros, for the stock value and the shop price.
    unit_value = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    condition = fields.CharEnumField(Condition, max_length=12, default=Condition.GOOD)
    status = fields.CharEnumField(ItemStatus, max_length=12, default=ItemStatus.AVAILABLE)
    visibility = fields.CharEnumField(Visibility, max_length=10, default=Visibility.PRIVATE)
    sharing_modes: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    attributes: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fabcom_item"
        indexes = (
            ("location_id",),
            ("category_id",),
            ("organization_id", "status"),
            ("visibility", "id"),
            # the inventory list's keyset pages, one per sort
            ("organization_id", "updated_at", "id"),
            ("organization_id", "created_at", "id"),
            ("organization_id", "title", "id"),
        )


class StockMovement(Model):
    """One line of an item's append-only ledger. ``quantity`` is signed: + in, - out."""

    id = fields.IntField(primary_key=True)
    item: fields.ForeignKeyRelation[Item] = fields.ForeignKeyField(
        "fabcom.Item", related_name="movements", on_delete=fields.RESTRICT
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(MovementKind, max_length=14)
    quantity = fields.DecimalField(max_digits=14, decimal_places=3)
    weight_kg = fields.DecimalField(max_digits=12, decimal_places=3, null=True)
    occurred_at = fields.DatetimeField()
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    counterparty = fields.CharField(max_length=200, default="")
    counterparty_organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    exchange_request: fields.ForeignKeyNullableRelation[ExchangeRequest] = fields.ForeignKeyField(
        "fabcom.ExchangeRequest", related_name="movements", null=True, on_delete=fields.SET_NULL
    )
    note = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fabcom_stock_movement"
        ordering = ["-occurred_at", "-id"]
        indexes = (
            ("item_id",),
            ("organization_id", "occurred_at"),
        )


class Attachment(Model):
    """A stored file (an item's photo, a project document). Stored under var/uploads
    with a generated name, the original name is only displayed."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    item: fields.ForeignKeyNullableRelation[Item] = fields.ForeignKeyField(
        "fabcom.Item", related_name="photos", null=True, on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "fabcom.Project", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    original_name = fields.CharField(max_length=200)
    stored_name = fields.CharField(max_length=80, unique=True)
    content_type = fields.CharField(max_length=100)
    size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    position = fields.IntField(default=0)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        indexes = (
            ("project_id",),
            ("item_id",),
        )
        table = "fabcom_attachment"
        ordering = ["position", "id"]
