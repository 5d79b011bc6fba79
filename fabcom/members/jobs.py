"""Membership reminders."""

from __future__ import annotations

import datetime as dt

from fabcom import clock
from fabcom.jobs.registry import cron, job
from fabcom.members.models import Membership
from fabcom.notifications.models import Notification
from fabcom.notifications.services import notify

REMIND_BEFORE_DAYS = (14, 1)


@job()
async def remind_memberships(ctx: object) -> None:
    """Tell people whose membership ends in 14 days or tomorrow. Running it twice the
    same day notifies once (a reminder already recorded is not repeated)."""
    today = clock.today()
    for days in REMIND_BEFORE_DAYS:
        ends = today + dt.timedelta(days=days)
        memberships = await Membership.filter(valid_until=ends).prefetch_related("organization")
        for membership in memberships:
            data = {
                "membership_id": membership.id,
                "organization": membership.organization.name,
                "date": ends.isoformat(),
            }
            user_id = membership.user_id  # type: ignore[attr-defined]
            already = await Notification.filter(user_id=user_id, kind="membership.expiring").values_list(
                "data", flat=True
            )
            if data in already:
                continue
            await notify([user_id], "membership.expiring", data, organization_id=membership.organization.id)


cron("remind_memberships", hour=8, minute=0)
