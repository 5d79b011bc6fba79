"""Accounts and API tokens."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from fabcom.db import TimestampedModel


class User(TimestampedModel):
    """A person with an account. The password is stored as an argon2 hash only."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=200, default="")
    display_name = fields.CharField(max_length=120)
    locale = fields.CharField(max_length=5, default="fr")
    is_active = fields.BooleanField(default=True)
    is_instance_admin = fields.BooleanField(default=False)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fabcom_user"

    def __str__(self) -> str:
        return self.display_name


class ApiToken(TimestampedModel):
    """A personal access token. Only its SHA-256 is kept, the token is shown once."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name="api_tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    # The first characters after "fabcom_pat_", shown in lists so people recognise a token.
    prefix = fields.CharField(max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    scopes: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        indexes = (("user_id",),)
        table = "fabcom_api_token"


class Session(Model):
    """A server-side login session. The cookie holds a random id whose SHA-256 is the
    key here, so deleting the row (logout, password change) revokes the cookie."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name="sessions", on_delete=fields.CASCADE
    )
    key_hash = fields.CharField(max_length=64, unique=True)
    csrf_token = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    user_agent = fields.CharField(max_length=300, default="")
    ip_address = fields.CharField(max_length=45, default="")

    class Meta:
        indexes = (("user_id",),)
        table = "fabcom_session"
