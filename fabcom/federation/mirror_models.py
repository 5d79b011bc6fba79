"""What partners share with us, mirrored read-only; members' consent to be recognised;
exchanges that cross sites.

Mirror rows are written only by the federation handlers (``fabcom.federation.mirror``)
from activities a partner sent, keyed by the remote object's id; nothing local edits
them. Each keeps the object (``document``) it was built from and the ``updated`` time of that
object, so an older update never overwrites a newer one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from fabcom.db import TimestampedModel

if TYPE_CHECKING:
    from fabcom.auth.models import User
    from fabcom.inventory.models import Item
    from fabcom.network.models import ExchangeRequest
    from fabcom.orgs.models import Organization


class MirrorItem(Model):
    """An item a partner shares (its ``Page`` with its ``EconomicResource``)."""

    id = fields.IntField(primary_key=True)
    uri = fields.CharField(max_length=500, unique=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    content = fields.TextField(default="")  # sanitised HTML
    search_text = fields.TextField(default="")  # title + plain text of the content, folded (fabcom.i18n.fold)
    category_code = fields.CharField(max_length=40, null=True)
    quantity = fields.DecimalField(max_digits=14, decimal_places=3, default=0)
    unit = fields.CharField(max_length=8, default="piece")
    condition = fields.CharField(max_length=20, default="")
    status = fields.CharField(max_length=20, default="available")
    sharing_modes: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    visibility = fields.CharField(max_length=10, default="partners")
    url = fields.CharField(max_length=500, default="")
    image_url = fields.CharField(max_length=500, default="")
    remote_updated_at = fields.DatetimeField()
    document: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    received_at = fields.DatetimeField()

    class Meta:
        table = "fabcom_mirror_item"
        indexes = (("organization_id", "title"), ("category_code", "title"))


class MirrorProject(Model):
    """A project a partner shares (its ``Page`` with its ``Plan``)."""

    id = fields.IntField(primary_key=True)
    uri = fields.CharField(max_length=500, unique=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    summary = fields.CharField(max_length=500, default="")
    content = fields.TextField(default="")
    search_text = fields.TextField(default="")
    status = fields.CharField(max_length=20, default="")
    visibility = fields.CharField(max_length=10, default="partners")
    url = fields.CharField(max_length=500, default="")
    remote_updated_at = fields.DatetimeField()
    document: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    received_at = fields.DatetimeField()

    class Meta:
        table = "fabcom_mirror_project"
        indexes = (("organization_id", "title"),)


class MirrorMember(Model):
    """A partner's member who consented to be recognised by its partners: display name,
    organization and membership validity, nothing more."""

    id = fields.IntField(primary_key=True)
    uri = fields.CharField(max_length=500, unique=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    display_name = fields.CharField(max_length=120)
    search_text = fields.CharField(max_length=120, default="")
    valid_from = fields.DateField(null=True)
    valid_until = fields.DateField(null=True)
    remote_updated_at = fields.DatetimeField()
    document: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    received_at = fields.DatetimeField()

    class Meta:
        table = "fabcom_mirror_member"
        indexes = (("organization_id", "search_text"),)


class SharedProfile(TimestampedModel):
    """A member's consent to be recognised by their organization's partners. The row
    exists while the consent holds; ``token`` names the shared profile
    (``<base>/ap/members/<token>``) without revealing the account's id."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    token = fields.CharField(max_length=40, unique=True)

    class Meta:
        table = "fabcom_shared_profile"
        unique_together = (("user", "organization"),)


class ExchangeDirection(StrEnum):
    OUTGOING = "outgoing"  # we ask a partner for one of its items
    INCOMING = "incoming"  # a partner asks for one of ours (the core ExchangeRequest holds it)


class FederatedExchange(TimestampedModel):
    """An exchange across sites, one row on each side, linked by the agreement's id.

    The requester's side (outgoing) keeps here what it asked for a mirrored item; the
    owner's side (incoming) links the agreement to the core ``ExchangeRequest`` its
    staff answer on the usual pages."""

    id = fields.IntField(primary_key=True)
    agreement_uri = fields.CharField(max_length=500, unique=True)
    offer_uri = fields.CharField(max_length=500)
    direction = fields.CharEnumField(ExchangeDirection, max_length=8)
    local_organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    remote_organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    exchange_request: fields.ForeignKeyNullableRelation[ExchangeRequest] = fields.ForeignKeyField(
        "fabcom.ExchangeRequest", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    mirror_item: fields.ForeignKeyNullableRelation[MirrorItem] = fields.ForeignKeyField(
        "fabcom.MirrorItem", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    item_uri = fields.CharField(max_length=500)
    item_title = fields.CharField(max_length=200)
    kind = fields.CharField(max_length=8)
    quantity = fields.DecimalField(max_digits=14, decimal_places=3)
    unit = fields.CharField(max_length=8, default="piece")
    message = fields.CharField(max_length=1000, default="")
    status = fields.CharField(max_length=12, default="pending")
    due_back_on = fields.DateField(null=True)
    requested_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # The item received into the requester's inventory when a gift or sale was handed over.
    received_item: fields.ForeignKeyNullableRelation[Item] = fields.ForeignKeyField(
        "fabcom.Item", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "fabcom_federated_exchange"
        ordering = ["-created_at", "-id"]


class MirrorTombstone(Model):
    """A mirrored object the partner deleted (or stopped sharing), and when: a late or
    replayed older ``Create``/``Update`` of it is not mirrored again. Only the id and the
    time are kept, nothing of the object."""

    id = fields.IntField(primary_key=True)
    uri = fields.CharField(max_length=500, unique=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    deleted_at = fields.DatetimeField()

    class Meta:
        table = "fabcom_mirror_tombstone"
