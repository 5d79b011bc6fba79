"""What an organization published over ActivityPub, in order."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fabcom.orgs.models import Organization


class Audience(StrEnum):
    PUBLIC = "public"  # anyone, and the organization's followers
    PARTNERS = "partners"  # the organization's accepted partners (its followers) only
    DIRECT = "direct"  # the actors listed in ``recipients`` only


class OutboxActivity(Model):
    """One activity published by a local organization. ``id`` orders the outbox: a
    partner catching up asks for everything after the last id it has seen."""

    id = fields.BigIntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    activity_uri = fields.CharField(max_length=500, unique=True)
    type = fields.CharField(max_length=40)
    # The id of the object the activity is about, so the latest state of an object is easy to find.
    object_uri = fields.CharField(max_length=500, db_index=True)
    audience = fields.CharEnumField(Audience, max_length=10)
    recipients: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField()
    published_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fabcom_outbox_activity"
        indexes = (("organization_id", "id"),)


class ActorKey(Model):
    """The keys of a local actor: ``owner`` is ``org:<id>`` for an organization,
    ``application`` for the instance's own actor. The RSA keypair signs (HTTP Signatures);
    the Ed25519 keypair is published as a FEP-521a ``Multikey`` (``assertionMethod``).
    Generated on first need; the private keys never leave this table."""

    id = fields.IntField(primary_key=True)
    owner = fields.CharField(max_length=40, unique=True)
    private_key_pem = fields.TextField()
    public_key_pem = fields.TextField()
    # Empty until first needed (rows from before 0013 get theirs then).
    ed25519_private_key_pem = fields.TextField(default="")
    ed25519_public_multibase = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fabcom_actor_key"


class RemoteActor(Model):
    """What we know of an actor on another server: where to deliver, how to check its
    signatures, and how far its outbox has been read. Refreshed from its actor document."""

    id = fields.IntField(primary_key=True)
    uri = fields.CharField(max_length=500, unique=True)
    host = fields.CharField(max_length=255, db_index=True)
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    type = fields.CharField(max_length=40, default="")
    inbox = fields.CharField(max_length=500, default="")
    shared_inbox = fields.CharField(max_length=500, default="")
    outbox = fields.CharField(max_length=500, default="")
    key_id = fields.CharField(max_length=500, db_index=True, default="")
    public_key_pem = fields.TextField(default="")
    fetched_at = fields.DatetimeField()
    # Catch-up: the next outbox page to read (empty = from the start).
    catch_up_next = fields.CharField(max_length=1000, default="")
    caught_up_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fabcom_remote_actor"


class InboxStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"  # no handler took it


class InboxMessage(Model):
    """An activity received in an inbox, stored as received (after its signature was
    checked) before it is processed by a job. The unique activity id makes a replay or a
    duplicate delivery a no-op."""

    id = fields.BigIntField(primary_key=True)
    activity_uri = fields.CharField(max_length=500, unique=True)
    type = fields.CharField(max_length=40)
    actor_uri = fields.CharField(max_length=500, db_index=True)
    # The inbox it arrived in: an organization's, or the shared inbox (null).
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, null=True, on_delete=fields.CASCADE
    )
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField()
    status = fields.CharEnumField(InboxStatus, max_length=10, default=InboxStatus.RECEIVED)
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fabcom_inbox_message"
