"""Membership services: who belongs to an organization, with which role, and their fees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, model_validator
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.auth.models import User
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.i18n import N_
from fabcom.members.models import Membership, MembershipFee, PaymentMethod, Role
from fabcom.orgs.models import Organization
from fabcom.permissions import Action, Principal
from fabcom.validation import Input, InputError, parse
from fabcom.webhooks.services import WebhookEvent, emit


class MembershipInput(Input):
    user_id: int
    role: Role = Role.MEMBER
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> MembershipInput:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise InputError(N_("The end date must come after the start date."))
        return self


def _check_may_grant(actor: Principal, organization_id: int, role: Role) -> None:
    if not actor.can(Action.MEMBERS_WRITE, organization_id):
        raise PermissionDenied()
    # Only owners make owners, so an admin cannot take over the organization.
    if role == Role.OWNER and not actor.is_system and actor.roles.get(organization_id) != Role.OWNER:
        raise PermissionDenied(N_("Only an owner can make someone an owner."))


async def add_member(actor: Principal, organization_id: int, data: dict[str, Any] | MembershipInput) -> Membership:
    """Give an existing account a role in the organization."""
    payload = parse(MembershipInput, data)
    _check_may_grant(actor, organization_id, payload.role)
    if not await Organization.exists(id=organization_id, is_local=True):
        raise NotFound("organization")
    if not await User.exists(id=payload.user_id):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown account."), "user_id")
    if await Membership.exists(user_id=payload.user_id, organization_id=organization_id):
        raise ValidationFailed.single(ErrorCode.ALREADY_EXISTS, N_("This person is already a member."), "user_id")
    async with in_transaction():
        membership = await Membership.create(
            organization_id=organization_id,
            user_id=payload.user_id,
            role=payload.role,
            valid_from=payload.valid_from or clock.today(),
            valid_until=payload.valid_until,
        )
        await record(
            actor, "membership.create", membership, organization_id=organization_id, after=snapshot(membership)
        )
        await emit(organization_id, WebhookEvent.MEMBER_JOINED, _member_event(membership))
    return membership


def _member_event(membership: Membership) -> dict[str, Any]:
    """What partners are told about a new member: the membership, not the person's details."""
    return {
        "membership_id": membership.id,
        "user_id": membership.user_id,  # type: ignore[attr-defined]
        "role": membership.role.value,
        "valid_from": membership.valid_from.isoformat(),
    }


async def _membership_for(actor: Principal, membership_id: int, action: Action) -> Membership:
    membership = await Membership.get_or_none(id=membership_id)
    org_id = membership.organization_id if membership else None  # type: ignore[attr-defined]
    if membership is None or not (actor.can(Action.MEMBERS_READ, org_id) or actor.is_system):
        raise NotFound("membership")
    if not actor.can(action, org_id):
        raise PermissionDenied()
    return membership


class MembershipChangeInput(Input):
    role: Role
    valid_from: dt.date
    valid_until: dt.date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> MembershipChangeInput:
        if self.valid_until and self.valid_until < self.valid_from:
            raise InputError(N_("The end date must come after the start date."))
        return self


async def update_membership(actor: Principal, membership_id: int, changes: dict[str, Any]) -> Membership:
    """Change a member's role or validity dates. The last owner cannot be demoted."""
    membership = await _membership_for(actor, membership_id, Action.MEMBERS_WRITE)
    org_id = membership.organization_id  # type: ignore[attr-defined]
    current = {"role": membership.role, "valid_from": membership.valid_from, "valid_until": membership.valid_until}
    payload = parse(MembershipChangeInput, {**current, **changes})
    if payload.role != membership.role:
        _check_may_grant(actor, org_id, payload.role)
        if membership.role == Role.OWNER:
            _check_may_grant(actor, org_id, Role.OWNER)
            if await Membership.filter(organization_id=org_id, role=Role.OWNER).count() == 1:
                raise ValidationFailed.single(
                    ErrorCode.INVALID_STATE, N_("An organization keeps at least one owner."), "role"
                )
    before = snapshot(membership)
    async with in_transaction():
        await Membership.filter(id=membership.id).update(**payload.model_dump(), updated_at=clock.now())
        await membership.refresh_from_db()
        await record(
            actor, "membership.update", membership, organization_id=org_id, before=before, after=snapshot(membership)
        )
    return membership


class FeeInput(Input):
    amount: Annotated[Decimal, Field(ge=0, le=100_000, max_digits=10, decimal_places=2)]
    period_start: dt.date
    period_end: dt.date
    paid_on: dt.date | None = None
    method: PaymentMethod
    note: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _period_in_order(self) -> FeeInput:
        if self.period_end < self.period_start:
            raise InputError(N_("The end date must come after the start date."))
        return self


async def record_fee(actor: Principal, membership_id: int, data: dict[str, Any] | FeeInput) -> MembershipFee:
    """Record a membership fee (cotisation) payment."""
    membership = await _membership_for(actor, membership_id, Action.MEMBERS_WRITE)
    payload = parse(FeeInput, data)
    if payload.paid_on and payload.paid_on > clock.today():
        raise ValidationFailed.single(ErrorCode.INVALID, N_("The payment date cannot be in the future."), "paid_on")
    async with in_transaction():
        fee = await MembershipFee.create(
            membership_id=membership.id,
            recorded_by_id=actor.user_id,
            **{**payload.model_dump(), "paid_on": payload.paid_on or clock.today()},
        )
        await record(
            actor,
            "membership_fee.record",
            fee,
            organization_id=membership.organization_id,  # type: ignore[attr-defined]
            after=snapshot(fee),
        )
    return fee


async def add_member_by_email(actor: Principal, organization_id: int, email: str, role: Role) -> Membership:
    """Give the existing account with ``email`` a role in the organization (what the API
    calls an invitation, until invitations of people without an account exist).
    Permission is checked before the address is looked up, so outsiders cannot probe it."""
    _check_may_grant(actor, organization_id, role)
    user = await User.get_or_none(email=email.strip().lower())
    if user is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("No account uses this e-mail address."), "email")
    return await add_member(actor, organization_id, {"user_id": user.id, "role": role})
