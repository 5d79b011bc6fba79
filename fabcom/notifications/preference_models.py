"""How each person wants to be told: in the app only, by e-mail, or in a daily digest."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from fabcom.db import TimestampedModel

if TYPE_CHECKING:
    from fabcom.auth.models import User


class Channel(StrEnum):
    IN_APP = "in_app"  # listed in the app only
    EMAIL = "email"  # listed, and one e-mail per notification
    DIGEST = "digest"  # listed, and one e-mail a day summing them up


class NotificationPreference(TimestampedModel):
    """A person's choice of channel (no row: the default, in the app only)."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "fabcom.User", related_name="notification_preference", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(Channel, max_length=8, default=Channel.IN_APP)
    last_digest_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fabcom_notification_preference"
