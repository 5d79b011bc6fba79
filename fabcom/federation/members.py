"""Members across sites: consent to be recognised by one's organization's partners,
and the partners' lookup of a recognised member.

Only with the member's consent is a minimal profile (display name, organization,
membership validity) published to the organization's partners; withdrawing the
consent (or erasing the account: ``forget_member``) sends ``Delete`` and the partners
purge it from their mirror.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.auth.models import User
from fabcom.errors import NotFound, PermissionDenied
from fabcom.federation import vocab
from fabcom.federation.mirror_models import MirrorMember, SharedProfile
from fabcom.federation.models import Audience
from fabcom.federation.publish import publish
from fabcom.gql.search import folded_sql
from fabcom.i18n import fold
from fabcom.members.models import Membership
from fabcom.orgs.models import Organization
from fabcom.permissions import Principal


async def _profile_activity(kind: str, profile: SharedProfile, membership: Membership | None) -> dict:
    org = await Organization.get(id=profile.organization_id)  # type: ignore[attr-defined]
    actor = vocab.actor_id(org.slug)
    if kind == "Delete" or membership is None:
        obj: dict = vocab.tombstone(vocab.member_id(profile.token), "Profile", clock.now())
    else:
        user = await User.get(id=profile.user_id)  # type: ignore[attr-defined]
        obj = vocab.member_profile(
            token=profile.token,
            actor=actor,
            display_name=user.display_name,
            organization_name=org.name,
            valid_from=membership.valid_from,
            valid_until=membership.valid_until,
            updated=clock.now(),
        )
    return vocab.activity(kind, actor=actor, obj=obj, audience=Audience.PARTNERS, published=clock.now())


async def set_partner_recognition(actor: Principal, organization_id: int, consent: bool) -> SharedProfile | None:
    """The member gives (``consent=True``) or withdraws their consent to be recognised
    by the partners of ``organization_id``. Only the member themselves decides."""
    if actor.user_id is None or actor.is_system:
        raise PermissionDenied()
    membership = await Membership.get_or_none(user_id=actor.user_id, organization_id=organization_id)
    if membership is None or not await Organization.exists(id=organization_id, is_local=True):
        raise NotFound("membership")
    profile = await SharedProfile.get_or_none(user_id=actor.user_id, organization_id=organization_id)
    async with in_transaction():
        if consent and profile is None:
            profile = await SharedProfile.create(
                user_id=actor.user_id, organization_id=organization_id, token=secrets.token_urlsafe(18)
            )
            await record(
                actor, "member.share_with_partners", profile, organization_id=organization_id, after=snapshot(profile)
            )
            await publish(
                organization_id, await _profile_activity("Create", profile, membership), audience=Audience.PARTNERS
            )
        elif not consent and profile is not None:
            await _withdraw(actor, profile)
            profile = None
    return profile


async def _withdraw(actor: Principal, profile: SharedProfile) -> None:
    organization_id = profile.organization_id  # type: ignore[attr-defined]
    before = snapshot(profile)
    await publish(organization_id, await _profile_activity("Delete", profile, None), audience=Audience.PARTNERS)
    await profile.delete()
    await record(actor, "member.stop_sharing_with_partners", profile, organization_id=organization_id, before=before)


async def membership_changed(membership: Membership) -> None:
    """Re-publish a consenting member's profile after their membership changed (its
    validity is part of it); withdraw it when the membership is gone."""
    profile = await SharedProfile.get_or_none(
        user_id=membership.user_id,  # type: ignore[attr-defined]
        organization_id=membership.organization_id,  # type: ignore[attr-defined]
    )
    if profile is not None:
        activity = await _profile_activity("Update", profile, membership)
        await publish(profile.organization_id, activity, audience=Audience.PARTNERS)  # type: ignore[attr-defined]


async def forget_member(actor: Principal, user_id: int) -> int:
    """For the account's erasure: withdraw every consent of ``user_id`` (partners get
    ``Delete`` and purge the profile). Call it inside the erasure's transaction."""
    profiles = await SharedProfile.filter(user_id=user_id)
    for profile in profiles:
        await _withdraw(actor, profile)
    return len(profiles)


@dataclass(frozen=True)
class LocalMember:
    """A recognised member of a partner organization on this instance: their consent
    (``SharedProfile``, whose id is ``id``) read in place, since no mirror row is made for
    an organization of the same server. The same minimal profile as a ``MirrorMember``."""

    id: int
    uri: str
    display_name: str
    organization: Organization
    valid_from: dt.date | None
    valid_until: dt.date | None


async def accepted_partners(organization_id: int) -> set[int]:
    """The ids of the organizations in an accepted partnership with ``organization_id``."""
    from fabcom.network.models import Partnership, PartnershipStatus

    links = await Partnership.filter(
        Q(organization_id=organization_id) | Q(partner_id=organization_id), status=PartnershipStatus.ACCEPTED
    ).values_list("organization_id", "partner_id")
    return {b if a == organization_id else a for a, b in links}


async def local_members(profile_ids: list[int], organizations: set[int]) -> dict[int, LocalMember]:
    """The consenting local members of ``profile_ids`` (``SharedProfile`` ids) whose
    organization is in ``organizations``, by profile id, whatever their membership's dates;
    a withdrawn consent (the profile is deleted) or a membership gone answers nothing."""
    profiles = await SharedProfile.filter(
        id__in=profile_ids or [0], organization_id__in=sorted(organizations) or [0], user__is_active=True
    ).prefetch_related("user", "organization")
    memberships = {
        (m.user_id, m.organization_id): m  # type: ignore[attr-defined]
        for m in await Membership.filter(
            user_id__in=[p.user_id for p in profiles] or [0],  # type: ignore[attr-defined]
            organization_id__in=[p.organization_id for p in profiles] or [0],  # type: ignore[attr-defined]
        )
    }
    found = {}
    for profile in profiles:
        membership = memberships.get((profile.user_id, profile.organization_id))  # type: ignore[attr-defined]
        if membership is None:
            continue
        found[profile.id] = LocalMember(
            id=profile.id,
            uri=vocab.member_id(profile.token),
            display_name=profile.user.display_name,
            organization=profile.organization,
            valid_from=membership.valid_from,
            valid_until=membership.valid_until,
        )
    return found


async def recognised_members(
    actor: Principal, organization_id: int, name: str, *, partner_id: int | None = None, on: dt.date | None = None
) -> list[MirrorMember | LocalMember]:
    """The partners' members recognisable by ``organization_id`` staff: those whose
    display name contains ``name`` (case-insensitive), of an accepted partner (or of
    ``partner_id``), whose membership is valid on ``on`` (today by default). A booking
    or loan "under partner rules" starts here. A partner on another server: its members'
    mirrored profiles (``MirrorMember``); a partner on this one: its members who consent
    (``LocalMember``, read from their consent and membership: nothing is mirrored)."""
    from fabcom.permissions import Action

    if not actor.can(Action.MEMBERS_READ, organization_id):
        raise PermissionDenied()
    day = on or clock.today()
    partners = await accepted_partners(organization_id)
    if partner_id is not None:
        partners &= {partner_id}
    search = fold(name.strip())[:120]
    query = (
        MirrorMember.filter(organization_id__in=sorted(partners), search_text__contains=search)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
    )
    found: list[MirrorMember | LocalMember] = list(
        await query.order_by("display_name", "id").limit(50).prefetch_related("organization")
    )
    local: set[int] = set(
        await Organization.filter(id__in=sorted(partners) or [0], is_local=True).values_list("id", flat=True)  # type: ignore[arg-type]
    )
    if local:
        # Those whose name holds the search, folded in SQL as the mirror's ``search_text``
        # is, and whose membership is valid on ``day``: the partners' other members are
        # not read.
        named = Subquery(
            User.annotate(folded_name=RawSQL(folded_sql(User, "display_name")))
            .filter(folded_name__contains=search)
            .values("id")
        )
        valid = Membership.filter(organization_id__in=sorted(local), user_id__in=named, valid_from__lte=day).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )
        pairs = set(await valid.values_list("user_id", "organization_id"))
        profiles = await SharedProfile.filter(
            organization_id__in=sorted(local), user_id__in=[user_id for user_id, _ in pairs] or [0]
        ).values_list("id", "user_id", "organization_id")
        ids = [pk for pk, user_id, org_id in profiles if (user_id, org_id) in pairs]
        found += list((await local_members(ids, local)).values())
        found.sort(key=lambda m: (m.display_name, isinstance(m, LocalMember), m.id))
    return found[:50]
