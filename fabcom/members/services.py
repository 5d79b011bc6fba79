"""Membership services: who belongs to an organization, with which role, and their fees."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.models import AuditEntry
from fabcom.audit.services import record, snapshot
from fabcom.auth.models import User
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.federation.members import membership_changed
from fabcom.i18n import N_
from fabcom.jobs.outbox import enqueue
from fabcom.members.models import Invitation, Membership, MembershipFee, PaymentMethod, Role
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
            raise InputError(N_("The end date must come after the start date."), field="valid_until")
        return self


def _check_may_grant(actor: Principal, organization_id: int, role: Role) -> None:
    if not actor.can(Action.MEMBERS_WRITE, organization_id):
        raise PermissionDenied()
    # Only owners make owners, so an admin cannot take over the organization.
    if role == Role.OWNER and not actor.is_system and actor.roles.get(organization_id) != Role.OWNER:
        raise PermissionDenied(N_("Only an owner can make someone an owner."))


async def add_member(actor: Principal, organization_id: int, data: dict[str, Any] | MembershipInput) -> Membership:
    """Give an account a role in the organization at once, without asking the person: only
    for an account created together with its membership by the instance's administrators
    (``fabcom.accounts.add_user_to_org``). Anyone else joins by accepting ``invite_member``."""
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
    org_id: Any = membership.organization_id if membership else None  # type: ignore[attr-defined]
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
            raise InputError(N_("The end date must come after the start date."), field="valid_until")
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
        await membership_changed(membership)
    return membership


class FeeInput(Input):
    amount: Annotated[Decimal, Field(ge=0, le=100_000, max_digits=10, decimal_places=2)]
    period_start: dt.date
    period_end: dt.date
    paid_on: dt.date | None = None
    method: PaymentMethod
    note: str = Field(default="", max_length=300)

    @field_validator("paid_on")
    @classmethod
    def _not_in_the_future(cls, paid_on: dt.date | None) -> dt.date | None:
        # a field's check, so that it is reported with the other fields' mistakes at once
        if paid_on is not None and paid_on > clock.today():
            raise InputError(N_("The payment date cannot be in the future."))
        return paid_on

    @model_validator(mode="after")
    def _period_in_order(self) -> FeeInput:
        if self.period_end < self.period_start:
            raise InputError(N_("The end date must come after the start date."), field="period_end")
        return self


async def record_fee(actor: Principal, membership_id: int, data: dict[str, Any] | FeeInput) -> MembershipFee:
    """Record a membership fee (cotisation) payment."""
    membership = await _membership_for(actor, membership_id, Action.MEMBERS_WRITE)
    payload = parse(FeeInput, data)
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


# --- invitations by e-mail ----------------------------------------------------------------

INVITATION_VALIDITY = dt.timedelta(days=7)
INVITATIONS_PER_HOUR = 20  # per organization, sends and resends together
INVITATION_LINK_INVALID = N_("This invitation link is invalid, already used, revoked or expired. Ask for a new one.")


class InvitationInput(Input):
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    role: Role = Role.MEMBER


def invitation_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _check_invitation_budget(organization_id: int) -> None:
    """Refuse when the organization already sent ``INVITATIONS_PER_HOUR`` invitations in the
    last hour: an account taken over cannot turn the instance into a spam relay."""
    since = clock.now() - dt.timedelta(hours=1)
    sent = await AuditEntry.filter(
        organization_id=organization_id,
        action__in=("invitation.create", "invitation.resend"),
        created_at__gte=since,
    ).count()
    if sent >= INVITATIONS_PER_HOUR:
        raise ValidationFailed.single(
            ErrorCode.RATE_LIMITED,
            N_("Too many invitations sent in the last hour. Try again later."),
            "email",
        )


async def invite_member(actor: Principal, organization_id: int, data: dict[str, Any] | InvitationInput) -> Invitation:
    """Invite an e-mail address to join the organization with a role: an invitation row
    and, in the same transaction, the job that e-mails its link (valid 7 days, once).
    The same whether or not an account uses the address: nobody becomes a member without
    accepting, and the answer does not tell whether the address has an account.
    Permission is checked before anything is looked up, so outsiders cannot probe addresses."""
    role = data.role if isinstance(data, InvitationInput) else data.get("role") or Role.MEMBER
    if role not in {r.value for r in Role}:
        role = Role.MEMBER  # the Input below reports the bad value
    _check_may_grant(actor, organization_id, Role(role))
    payload = parse(InvitationInput, data)
    email = payload.email.strip().lower()
    if not await Organization.exists(id=organization_id, is_local=True):
        raise NotFound("organization")
    if await Membership.exists(organization_id=organization_id, user__email=email):
        raise ValidationFailed.single(ErrorCode.ALREADY_EXISTS, N_("This person is already a member."), "email")
    if await Invitation.exists(
        organization_id=organization_id, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ):
        raise ValidationFailed.single(
            ErrorCode.ALREADY_EXISTS,
            N_("An invitation to this address is pending already: resend it from the list."),
            "email",
        )
    await _check_invitation_budget(organization_id)
    existing = await User.get_or_none(email=email)
    async with in_transaction():
        invitation = await Invitation.create(
            organization_id=organization_id,
            email=email,
            role=payload.role,
            locale=existing.locale if existing else actor.locale,
            invited_by_id=actor.user_id,
            expires_at=clock.now() + INVITATION_VALIDITY,
        )
        await enqueue("send_invitation", invitation_id=invitation.id)
        await record(
            actor, "invitation.create", invitation, organization_id=organization_id, after=_invitation_audit(invitation)
        )
    return invitation


def _invitation_audit(invitation: Invitation) -> dict[str, Any]:
    """What the audit keeps of an invitation (never its token)."""
    return {"email": invitation.email, "role": invitation.role.value, "expires_at": invitation.expires_at.isoformat()}


async def _invitation_for(actor: Principal, invitation_id: int) -> Invitation:
    invitation = await Invitation.get_or_none(id=invitation_id)
    org_id: Any = invitation.organization_id if invitation else None  # type: ignore[attr-defined]
    if invitation is None or not (actor.can(Action.MEMBERS_READ, org_id) or actor.is_system):
        raise NotFound("invitation")
    if not actor.can(Action.MEMBERS_WRITE, org_id):
        raise PermissionDenied()
    if not invitation.is_pending:
        raise ValidationFailed.single(
            ErrorCode.INVALID_STATE, N_("This invitation was already accepted or revoked."), "id"
        )
    return invitation


async def resend_invitation(actor: Principal, invitation_id: int) -> Invitation:
    """E-mail a pending invitation again with a new link (the previous link stops working
    once the new one is sent) valid 7 more days."""
    invitation = await _invitation_for(actor, invitation_id)
    org_id = invitation.organization_id  # type: ignore[attr-defined]
    await _check_invitation_budget(org_id)
    async with in_transaction():
        await Invitation.filter(id=invitation.id).update(expires_at=clock.now() + INVITATION_VALIDITY)
        await invitation.refresh_from_db()
        await enqueue("send_invitation", invitation_id=invitation.id)
        await record(
            actor, "invitation.resend", invitation, organization_id=org_id, after=_invitation_audit(invitation)
        )
    return invitation


async def revoke_invitation(actor: Principal, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation: its link stops working at once."""
    invitation = await _invitation_for(actor, invitation_id)
    org_id = invitation.organization_id  # type: ignore[attr-defined]
    async with in_transaction():
        await Invitation.filter(id=invitation.id, accepted_at__isnull=True).update(revoked_at=clock.now())
        await invitation.refresh_from_db()
        await record(
            actor, "invitation.revoke", invitation, organization_id=org_id, after=_invitation_audit(invitation)
        )
    return invitation


async def pending_invitations(actor: Principal, organization_id: int) -> list[Invitation]:
    """The organization's invitations not yet accepted nor revoked, newest first."""
    if not actor.can(Action.MEMBERS_READ, organization_id):
        raise PermissionDenied()
    return await Invitation.filter(
        organization_id=organization_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).order_by("-id")


async def invitation_for_token(token: str) -> Invitation | None:
    """The pending, unexpired invitation a link is for, with its organization, or None."""
    if not token or len(token) > 200:
        return None
    invitation = await Invitation.get_or_none(
        token_hash=invitation_digest(token), accepted_at__isnull=True, revoked_at__isnull=True
    ).prefetch_related("organization")
    if invitation is None or invitation.expires_at <= clock.now():
        return None
    return invitation


async def _use_invitation(token: str, user_id: int) -> Invitation:
    """Mark the link used, refusing it when another request used it in the meantime."""
    invitation = await invitation_for_token(token)
    if invitation is None:
        raise ValidationFailed.single(ErrorCode.INVALID, INVITATION_LINK_INVALID, "token")
    used = await Invitation.filter(
        id=invitation.id,
        token_hash=invitation_digest(token),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=clock.now(),
    ).update(accepted_at=clock.now(), accepted_by_id=user_id)
    if used != 1:
        raise ValidationFailed.single(ErrorCode.INVALID, INVITATION_LINK_INVALID, "token")
    return invitation


async def _join(invitation: Invitation, user_id: int) -> Membership:
    org_id = invitation.organization_id  # type: ignore[attr-defined]
    membership = await Membership.create(
        organization_id=org_id, user_id=user_id, role=invitation.role, valid_from=clock.today()
    )
    await record(
        Principal(user_id=user_id), "membership.create", membership, organization_id=org_id, after=snapshot(membership)
    )
    await emit(org_id, WebhookEvent.MEMBER_JOINED, _member_event(membership))
    return membership


async def accept_invitation(actor: Principal, token: str) -> Membership:
    """The logged-in person accepts an invitation: they join with the invited role."""
    if actor.user_id is None:
        raise PermissionDenied()
    invitation = await invitation_for_token(token)
    if invitation is None:
        raise ValidationFailed.single(ErrorCode.INVALID, INVITATION_LINK_INVALID, "token")
    if await Membership.exists(organization_id=invitation.organization_id, user_id=actor.user_id):  # type: ignore[attr-defined]
        raise ValidationFailed.single(ErrorCode.ALREADY_EXISTS, N_("You are already a member."), "token")
    async with in_transaction():
        invitation = await _use_invitation(token, actor.user_id)
        return await _join(invitation, actor.user_id)


class NewAccountInput(Input):
    display_name: str = Field(min_length=1, max_length=120)
    password: Annotated[str, Field(min_length=10, max_length=1000)]


async def accept_invitation_with_new_account(token: str, data: dict[str, Any] | NewAccountInput) -> Membership:
    """Someone without an account accepts: the account (with the invited address, which
    the link proves they read), its membership and the used link, all or nothing."""
    from fabcom.auth.services import create_user
    from fabcom.permissions import system_principal

    payload = parse(NewAccountInput, data)
    invitation = await invitation_for_token(token)
    if invitation is None:
        raise ValidationFailed.single(ErrorCode.INVALID, INVITATION_LINK_INVALID, "token")
    if await User.exists(email=invitation.email):
        raise ValidationFailed.single(
            ErrorCode.ALREADY_EXISTS, N_("An account uses this address already: log in to accept."), "token"
        )
    async with in_transaction():
        user = await create_user(
            system_principal(),
            {
                "email": invitation.email,
                "display_name": payload.display_name,
                "password": payload.password,
                "locale": invitation.locale,
            },
        )
        invitation = await _use_invitation(token, user.id)
        return await _join(invitation, user.id)
