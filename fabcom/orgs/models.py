"""Organizations: the structures that run fabcom, local or mirrored from a partner site."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from fabcom.db import TimestampedModel


class OrganizationKind(StrEnum):
    RESSOURCERIE = "ressourcerie"
    FABLAB = "fablab"
    COWORKING = "coworking"
    CONCIERGERIE = "conciergerie"
    OTHER = "other"


class Organization(TimestampedModel):
    """A structure. ``is_local`` is false for a read-only mirror of a remote partner."""

    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(OrganizationKind, max_length=20, default=OrganizationKind.OTHER)
    description = fields.TextField(default="")
    address = fields.CharField(max_length=300, default="")
    postal_code = fields.CharField(max_length=20, default="")
    city = fields.CharField(max_length=120, default="")
    country = fields.CharField(max_length=2, default="FR")
    latitude = fields.DecimalField(max_digits=9, decimal_places=6, null=True)
    longitude = fields.DecimalField(max_digits=9, decimal_places=6, null=True)
    email = fields.CharField(max_length=254, default="")
    website = fields.CharField(max_length=300, default="")
    is_local = fields.BooleanField(default=True)
    # Canonical ActivityPub id for remote organizations; local ones derive it from BASE_URL.
    remote_uri = fields.CharField(max_length=500, null=True, unique=True)

    class Meta:
        table = "fabcom_organization"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
