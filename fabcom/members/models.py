"""Memberships (a user's role in an organization) and membership fees (cotisations)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from fabcom.db import TimestampedModel

if TYPE_CHECKING:
    from fabcom.auth.models import User
    from fabcom.orgs.models import Organization


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    STAFF = "staff"
    VOLUNTEER = "volunteer"
    MEMBER = "member"


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"
    CHEQUE = "cheque"
    TRANSFER = "transfer"
    LOCAL_CURRENCY = "local_currency"
    OTHER = "other"


class Membership(TimestampedModel):
    """A user's role in an organization between two dates (open-ended when ``valid_until`` is null)."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name="memberships", on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=12, default=Role.MEMBER)
    valid_from = fields.DateField()
    valid_until = fields.DateField(null=True)

    class Meta:
        indexes = (("organization_id",),)
        table = "fabcom_membership"
        unique_together = (("user", "organization"),)


class MembershipFee(TimestampedModel):
    """A fee paid for a membership over a period. Amounts are Decimal euros."""

    id = fields.IntField(primary_key=True)
    membership: fields.ForeignKeyRelation[Membership] = fields.ForeignKeyField(
        "fabcom.Membership", related_name="fees", on_delete=fields.CASCADE
    )
    amount = fields.DecimalField(max_digits=10, decimal_places=2)
    period_start = fields.DateField()
    period_end = fields.DateField()
    paid_on = fields.DateField()
    method = fields.CharEnumField(PaymentMethod, max_length=16)
    note = fields.CharField(max_length=300, default="")
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        indexes = (("membership_id",),)
        table = "fabcom_membership_fee"
        ordering = ["-paid_on"]


class Invitation(Model):
    """An invitation to join an organization sent to an e-mail address. Only the SHA-256
    of the link's token is kept (set by the job that e-mails it, replaced on each resend);
    the link works once, until ``expires_at``, unless revoked."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name="invitations", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254)
    role = fields.CharEnumField(Role, max_length=12, default=Role.MEMBER)
    locale = fields.CharField(max_length=5, default="fr")  # of the e-mail, when the address has no account
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    token_hash = fields.CharField(max_length=64, unique=True, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    send_count = fields.IntField(default=0)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    accepted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fabcom_invitation"
        indexes = (("organization_id", "email"),)

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
