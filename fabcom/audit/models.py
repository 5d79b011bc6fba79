"""The audit trail: who changed what, when, with the state before and after."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fabcom.auth.models import ApiToken, User
    from fabcom.orgs.models import Organization


class AuditEntry(Model):
    id = fields.IntField(primary_key=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    api_token: fields.ForeignKeyNullableRelation[ApiToken] = fields.ForeignKeyField(
        "fabcom.ApiToken", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, null=True, on_delete=fields.CASCADE
    )
    action = fields.CharField(max_length=60)  # "<object>.<verb>", e.g. "item.update"
    object_type = fields.CharField(max_length=40)
    object_id = fields.CharField(max_length=40)
    before: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    after: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fabcom_audit_entry"
        ordering = ["-id"]
        indexes = (
            ("organization_id",),
            ("object_type", "object_id"),
        )
