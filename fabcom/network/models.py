"""Links between organizations: partnerships and exchange requests for items."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from fabcom.db import TimestampedModel

if TYPE_CHECKING:
    from fabcom.auth.models import User
    from fabcom.inventory.models import Item
    from fabcom.orgs.models import Organization


class PartnershipStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    BLOCKED = "blocked"


class ExchangeKind(StrEnum):
    BORROW = "borrow"
    RECEIVE = "receive"
    BUY = "buy"


class ExchangeStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    HANDED_OVER = "handed_over"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class Partnership(TimestampedModel):
    """``organization`` asked ``partner`` to become partners. Once accepted the link is
    mutual: each sees what the other shares with partners."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name="partnerships_requested", on_delete=fields.CASCADE
    )
    partner: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name="partnerships_received", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(PartnershipStatus, max_length=10, default=PartnershipStatus.REQUESTED)
    message = fields.CharField(max_length=500, default="")
    requested_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    responded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    responded_at = fields.DatetimeField(null=True)

    class Meta:
        indexes = (("partner_id",),)
        table = "fabcom_partnership"
        unique_together = (("organization", "partner"),)


class ExchangeRequest(TimestampedModel):
    """A partner organization asks for an item: to borrow, receive or buy it."""

    id = fields.IntField(primary_key=True)
    item: fields.ForeignKeyRelation[Item] = fields.ForeignKeyField(
        "fabcom.Item", related_name="exchange_requests", on_delete=fields.CASCADE
    )
    owner_organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name="exchange_requests_received", on_delete=fields.CASCADE
    )
    requester_organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name="exchange_requests_sent", on_delete=fields.CASCADE
    )
    requested_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharEnumField(ExchangeKind, max_length=8)
    quantity = fields.DecimalField(max_digits=14, decimal_places=3, default=1)
    message = fields.CharField(max_length=1000, default="")
    status = fields.CharEnumField(ExchangeStatus, max_length=12, default=ExchangeStatus.PENDING)
    response_message = fields.CharField(max_length=1000, default="")
    responded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    due_back_on = fields.DateField(null=True)

    class Meta:
        indexes = (
            ("requester_organization_id",),
            ("owner_organization_id",),
            ("item_id",),
        )
        table = "fabcom_exchange_request"
        ordering = ["-created_at", "-id"]
