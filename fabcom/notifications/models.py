"""In-app notifications, one row per recipient."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fabcom.auth.models import User
    from fabcom.orgs.models import Organization


class Notification(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name="notifications", on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, null=True, on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=60)  # e.g. "exchange_request.created"
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)  # parameters of the translated message
    url = fields.CharField(max_length=300, default="")
    read_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fabcom_notification"
        ordering = ["-id"]
        indexes = (("user_id", "read_at"),)
