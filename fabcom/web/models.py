"""Web UI state kept in the database so that several server processes share it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fabcom.auth.models import User


class LoginAttempt(Model):
    """One login attempt from an address, kept for the rate limit (old rows are pruned)."""

    id = fields.IntField(primary_key=True)
    ip_address = fields.CharField(max_length=45)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fabcom_login_attempt"
        indexes = (("ip_address", "created_at"),)


class PasswordReset(Model):
    """A password-reset link sent by e-mail. Only the SHA-256 of its token is kept, it
    works once and expires after an hour."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name="password_resets", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fabcom_password_reset"
