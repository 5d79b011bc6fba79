"""Membership reminders."""

from __future__ import annotations

import datetime as dt

from fabcom import clock
from fabcom.i18n import N_
from fabcom.jobs.execution import JobContext
from fabcom.jobs.outbox import enqueue_once
from fabcom.jobs.registry import cron, job
from fabcom.members.models import Membership
from fabcom.notifications.services import notify

REMIND_BEFORE_DAYS = (14, 1)


@job()
async def remind_memberships(ctx: JobContext) -> None:
    """Find memberships ending in 14 days or tomorrow and queue one reminder each. The
    reminder's key names the membership and the date, so it is sent once however often
    this runs."""
    today = clock.today()
    for days in REMIND_BEFORE_DAYS:
        ends = today + dt.timedelta(days=days)
        for membership_id in await Membership.filter(valid_until=ends).values_list("id", flat=True):
            await enqueue_once(
                "notify_membership_expiring",
                key=f"membership-expiring:{membership_id}:{ends.isoformat()}",
                membership_id=membership_id,
            )


@job()
async def notify_membership_expiring(ctx: JobContext, *, membership_id: int) -> None:
    """Tell a person their membership ends soon."""
    membership = await Membership.get_or_none(id=membership_id).prefetch_related("organization")
    if membership is None or membership.valid_until is None:
        return
    data = {
        "membership_id": membership.id,
        "organization": membership.organization.name,
        "date": membership.valid_until.isoformat(),
    }
    await notify(
        [membership.user_id],  # type: ignore[attr-defined]
        "membership.expiring",
        data,
        organization_id=membership.organization.id,
    )


cron("remind_memberships", hour=8, minute=0)


@job()
async def send_invitation(ctx: JobContext, *, invitation_id: int) -> None:
    """E-mail the link of an invitation to join an organization. The link's token is
    derived from this job's key (HMAC with the instance's secret), so a run repeated after
    a crash sends the same link with the same Message-ID; only its SHA-256 is stored."""
    import hashlib
    import hmac

    from fabcom.i18n import gettext
    from fabcom.members.models import Invitation
    from fabcom.members.services import invitation_digest
    from fabcom.notifications.email import send_email

    invitation = await Invitation.get_or_none(id=invitation_id).prefetch_related("organization", "invited_by")
    if invitation is None or not invitation.is_pending or invitation.expires_at <= clock.now():
        return
    secret = ctx.settings.ensure_secret_key().encode()
    token = hmac.new(secret, f"invitation:{ctx.key}".encode(), hashlib.sha256).hexdigest()
    await Invitation.filter(id=invitation.id).update(
        token_hash=invitation_digest(token), sent_at=clock.now(), send_count=invitation.send_count + 1
    )
    locale = invitation.locale
    org = invitation.organization
    inviter = invitation.invited_by.display_name if invitation.invited_by else org.name
    role = gettext(locale, ROLE_NAMES[invitation.role.value])
    body = "\n".join(
        [
            gettext(locale, N_("Hello,")),
            "",
            gettext(
                locale,
                N_("{inviter} invites you to join {organization} on fabcom as {role}. Open this link within 7 days:"),
                inviter=inviter,
                organization=org.name,
                role=role,
            ),
            f"{ctx.settings.public_url}/invitations/{token}",
            "",
            gettext(locale, N_("If you do not know this organization, ignore this e-mail.")),
        ]
    )
    subject = gettext(locale, N_("Join {organization} on fabcom"), organization=org.name)
    await send_email(ctx.settings, invitation.email, subject, body + "\n", ctx.key)


ROLE_NAMES = {
    "owner": N_("owner"),
    "admin": N_("administrator"),
    "staff": N_("staff"),
    "volunteer": N_("volunteer"),
    "member": N_("member"),
}
