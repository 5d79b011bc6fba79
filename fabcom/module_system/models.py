"""Which modules each organization has switched off (modules declaring ``per_organization``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fabcom.orgs.models import Organization


class OrganizationModule(Model):
    """An organization's choice for one module. No row means the module's default: on.
    Only modules whose manifest says ``per_organization=True`` can be switched."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, on_delete=fields.CASCADE
    )
    module = fields.CharField(max_length=31)
    enabled = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "fabcom_organization_module"
        unique_together = (("organization", "module"),)
