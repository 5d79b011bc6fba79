"""Membership reminders."""

from __future__ import annotations

import datetime as dt

from fabcom import clock
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
