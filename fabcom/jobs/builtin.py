"""The job layer's own periodic work: outbox reconciliation and cleanup of old jobs."""

from __future__ import annotations

import datetime as dt

from fabcom import clock
from fabcom.jobs.execution import JobContext, release_stale
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.registry import cron, job


@job()
async def reconcile_outbox(ctx: JobContext) -> None:
    """Give back jobs whose runner vanished mid-run and, with Redis, re-dispatch jobs whose
    Redis entry was lost. The worker also does this on its own timer (every 30 s)."""
    await release_stale()
    redis = ctx.extra.get("redis")
    if redis is not None:
        from fabcom.jobs.worker import reconcile_redis

        await reconcile_redis(redis)


@job()
async def cleanup_jobs(ctx: JobContext) -> None:
    """Delete finished jobs older than ``FABCOM_JOB_KEEP_DONE_DAYS``; dead ones stay for admins."""
    cutoff = clock.now() - dt.timedelta(days=ctx.settings.job_keep_done_days)
    await Job.filter(status=JobStatus.DONE, finished_at__lt=cutoff).delete()


@job()
async def ping_worker(ctx: JobContext) -> None:
    """Does nothing: shows the job layer works end to end (checks, tests, the benchmark)."""


cron("reconcile_outbox", second=0)  # every minute
cron("cleanup_jobs", hour=3, minute=17)
