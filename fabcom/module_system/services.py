"""Switching a module on or off for one organization, and asking whether it is on.

A module whose manifest declares ``per_organization=True`` is on for every organization
until an owner or admin switches it off in the organization's settings. Its pages for
that organization answer 404, its menu entry disappears, and its services and GraphQL
fields treat the organization's objects as if the module did not know them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from tortoise.transactions import in_transaction

from fabcom.audit.services import record
from fabcom.errors import ErrorCode, PermissionDenied, ValidationFailed
from fabcom.i18n import N_
from fabcom.module_system.hooks import call_async_except
from fabcom.module_system.manifest import Module
from fabcom.module_system.models import OrganizationModule
from fabcom.module_system.registry import active_registry
from fabcom.orgs.models import Organization
from fabcom.permissions import Action, Principal
from fabcom.validation import Input, parse


class ModuleSwitchInput(Input):
    module: str = Field(min_length=1, max_length=31)
    enabled: bool


def switchable_modules() -> list[Module]:
    """The enabled modules an organization may switch on or off, in dependency order."""
    registry = active_registry()
    return [m for m in registry if m.per_organization] if registry is not None else []


def _switchable(slug: str) -> bool:
    registry = active_registry()
    manifest = registry.get(slug) if registry is not None else None
    return manifest is not None and manifest.per_organization


async def disabled_organizations(slug: str) -> set[int]:
    """The organizations that switched module ``slug`` off (one query; few rows)."""
    if not _switchable(slug):
        return set()
    return set(
        await OrganizationModule.filter(module=slug, enabled=False).values_list("organization_id", flat=True)  # type: ignore[arg-type]
    )


async def module_enabled(slug: str, organization_id: int) -> bool:
    """Whether module ``slug`` is on for the organization (always, for a module that
    cannot be switched per organization; never, for a module that is not enabled)."""
    registry = active_registry()
    if registry is None or slug not in registry:
        return False
    if not _switchable(slug):
        return True
    return not await OrganizationModule.exists(module=slug, organization_id=organization_id, enabled=False)


async def switched_off(organization_id: int) -> set[str]:
    """The slugs of the modules the organization switched off (one query, none when no
    enabled module can be switched)."""
    if not switchable_modules():
        return set()
    return set(
        await OrganizationModule.filter(organization_id=organization_id, enabled=False).values_list(  # type: ignore[arg-type]
            "module", flat=True
        )
    )


async def call_for_organization(hook: Any, organization_id: int, **kwargs: Any) -> list[Any]:
    """Call ``hook`` for one organization: the implementations of modules it switched off
    are left out, and so are ``None`` results (awaitables are awaited)."""
    return await call_async_except(hook, await switched_off(organization_id), **kwargs)


async def modules_for(organization_id: int) -> list[tuple[Module, bool]]:
    """Each switchable module with whether the organization has it on."""
    off = await switched_off(organization_id)
    return [(m, m.slug not in off) for m in switchable_modules()]


async def set_module_enabled(actor: Principal, organization_id: int, data: dict[str, Any]) -> OrganizationModule:
    """Switch a module on or off for one organization (its owners and admins). The
    module's data is kept: switching it on again brings everything back."""
    if not actor.can(Action.ORG_MANAGE, organization_id):
        raise PermissionDenied()
    payload = parse(ModuleSwitchInput, data)
    if not _switchable(payload.module):
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("This module cannot be switched on or off for an organization."), "module"
        )
    org = await Organization.get(id=organization_id)
    async with in_transaction():
        row, _ = await OrganizationModule.get_or_create(organization_id=org.id, module=payload.module)
        before = {"module": row.module, "enabled": row.enabled}
        row.enabled = payload.enabled
        await row.save()
        await record(
            actor,
            "organization.module_switch",
            row,
            organization_id=org.id,
            before=before,
            after={"module": row.module, "enabled": row.enabled},
        )
    return row
