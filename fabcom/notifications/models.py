"""In-app notifications, one row per recipient."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Notification(Model):
    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("fabcom.User", related_name="notifications", on_delete=fields.CASCADE)
    organization = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, null=True, on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=60)  # e.g. "exchange_request.created"
    data = fields.JSONField(default=dict)  # parameters of the translated message
    url = fields.CharField(max_length=300, default="")
    read_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fabcom_notification"
        ordering = ["-id"]
        indexes = (("user_id", "read_at"),)
