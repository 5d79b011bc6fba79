"""Webhook endpoints registered by organizations, and the deliveries made to them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from fabcom.db import TimestampedModel

if TYPE_CHECKING:
    from fabcom.auth.models import User
    from fabcom.orgs.models import Organization


class WebhookEvent(StrEnum):
    ITEM_CREATED = "item.created"
    ITEM_UPDATED = "item.updated"
    ITEM_DELETED = "item.deleted"
    EXCHANGE_REQUEST_CHANGED = "exchange_request.changed"
    PROJECT_UPDATED = "project.updated"
    MEMBER_JOINED = "member.joined"


class WebhookEndpoint(TimestampedModel):
    """A partner's URL that receives the organization's events, signed with ``secret``
    (Standard Webhooks: whsec_ followed by the base64 key)."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=500)
    events: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    secret = fields.CharField(max_length=100)
    description = fields.CharField(max_length=200, default="")
    is_active = fields.BooleanField(default=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        indexes = (("organization_id",),)
        table = "fabcom_webhook_endpoint"


class WebhookDelivery(Model):
    """One event for one endpoint. ``message_id`` is the ``webhook-id`` header: the same
    on every try, so the receiver can ignore a repeat."""

    id = fields.BigIntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "fabcom.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    event = fields.CharField(max_length=60)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField()
    message_id = fields.CharField(max_length=60, unique=True)
    attempts = fields.IntField(default=0)
    last_status_code = fields.IntField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        indexes = (("endpoint_id",),)
        table = "fabcom_webhook_delivery"
