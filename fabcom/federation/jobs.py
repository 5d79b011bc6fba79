"""Federation jobs: fan-out and delivery of published activities, processing of received
ones, and catching up with partners' outboxes."""

from __future__ import annotations

from fabcom.jobs.execution import JobContext
from fabcom.jobs.registry import cron, job


@job()
async def fan_out_activity(ctx: JobContext, *, activity_pk: int) -> None:
    """Deliver one published activity: one signed POST job per recipient inbox (the
    shared inbox when a peer offers one)."""
    from fabcom.federation.delivery import fan_out

    await fan_out(activity_pk)


@job()
async def deliver_activity(ctx: JobContext, *, activity_pk: int, inbox: str) -> None:
    """POST one activity to one inbox, signed by its organization. 2xx: done; 5xx, 408,
    429 and network errors: tried again with backoff (48 h); other answers: dead."""
    from fabcom.federation.delivery import deliver

    await deliver(activity_pk, inbox)


@job()
async def process_inbox_message(ctx: JobContext, *, message_id: int) -> None:
    """Apply one received activity (already verified and stored) through its handler."""
    from fabcom.federation.inbox import process

    await process(message_id)


@job()
async def catch_up_partner(ctx: JobContext, *, partner_org_id: int) -> None:
    """Read a partner's outbox from where we stopped, one page at a time, and apply each page."""
    from fabcom.federation.catchup import catch_up

    await catch_up(partner_org_id)


@job()
async def reconcile_partners(ctx: JobContext) -> None:
    """Periodic repair: catch up with every accepted remote partner."""
    from fabcom.federation.catchup import reconcile

    await reconcile()


cron("reconcile_partners", minute=37)
