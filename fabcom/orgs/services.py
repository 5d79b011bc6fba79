"""Organization services."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.i18n import N_
from fabcom.orgs.models import Organization, OrganizationKind
from fabcom.permissions import Action, Principal
from fabcom.validation import Input, parse

Slug = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]


class OrganizationInput(Input):
    name: str = Field(min_length=1, max_length=200)
    kind: OrganizationKind = OrganizationKind.OTHER
    description: str = Field(default="", max_length=20_000)
    address: str = Field(default="", max_length=300)
    postal_code: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=120)
    country: str = Field(default="FR", min_length=2, max_length=2)
    latitude: Annotated[Decimal, Field(ge=-90, le=90, decimal_places=6)] | None = None
    longitude: Annotated[Decimal, Field(ge=-180, le=180, decimal_places=6)] | None = None
    email: str = Field(default="", max_length=254)
    website: str = Field(default="", max_length=300)


class OrganizationCreateInput(OrganizationInput):
    slug: Slug


async def create_organization(actor: Principal, data: dict[str, Any] | OrganizationCreateInput) -> Organization:
    """Open a new organization on this instance. Only instance admins may; the
    creating user becomes its owner."""
    if not actor.is_instance_admin:
        raise PermissionDenied()
    payload = parse(OrganizationCreateInput, data)
    if await Organization.exists(slug=payload.slug):
        raise ValidationFailed.single(ErrorCode.ALREADY_EXISTS, N_("This identifier is already taken."), "slug")
    async with in_transaction():
        org = await Organization.create(**payload.model_dump())
        await record(actor, "organization.create", org, organization_id=org.id, after=snapshot(org))
        if actor.user_id is not None:
            from fabcom.members.models import Membership, Role

            await Membership.create(
                user_id=actor.user_id, organization_id=org.id, role=Role.OWNER, valid_from=clock.today()
            )
    return org


async def find_organization(slug: str, *, local_only: bool = False) -> Organization | None:
    """The organization with this slug, or None. A slug that cannot exist (too long for
    the column, or holding a NUL byte, which PostgreSQL refuses) is not looked up, so
    hostile input is answered "unknown" instead of a driver error."""
    if len(slug) > 64 or "\x00" in slug:
        return None
    query = Organization.filter(slug=slug)
    if local_only:
        query = query.filter(is_local=True)
    return await query.first()


async def get_organization(slug: str) -> Organization:
    org = await find_organization(slug)
    if org is None:
        raise NotFound("organization")
    return org


async def update_organization(actor: Principal, organization_id: int, changes: dict[str, Any]) -> Organization:
    """Edit an organization's public profile (owners and admins)."""
    if not actor.can(Action.ORG_MANAGE, organization_id):
        raise PermissionDenied()
    org = await Organization.get(id=organization_id)
    fields = OrganizationInput.model_fields
    current = {name: getattr(org, name) for name in fields}
    payload = parse(OrganizationInput, {**current, **changes})
    before = snapshot(org)
    async with in_transaction():
        await Organization.filter(id=org.id).update(**payload.model_dump(), updated_at=clock.now())
        await org.refresh_from_db()
        await record(actor, "organization.update", org, organization_id=org.id, before=before, after=snapshot(org))
    return org
