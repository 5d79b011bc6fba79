"""Writing jobs into the outbox, and the admin's view of them."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.i18n import N_
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.registry import registry
from fabcom.ops.logs import request_id_var
from fabcom.permissions import Principal

logger = logging.getLogger("fabcom.jobs")


async def enqueue(job_name: str, *, key: str | None = None, delay: dt.timedelta | None = None, **args: Any) -> Job:
    """Record a job to run after the current transaction commits.

    Call it inside the service's ``in_transaction()`` block: the row is written by the
    same transaction, so a rollback leaves no job and a commit leaves exactly one. With
    ``key``, enqueueing the same key again returns the existing job instead of a second
    one (the key also travels to the receiving side, which dedupes on it).
    """
    if job_name not in registry.jobs:
        from fabcom.jobs.registry import load_jobs

        load_jobs()
    registry.get(job_name)  # an unknown name is a programming error: fail loudly, now
    json.dumps(args)  # arguments are ids and plain values, never objects
    if key is not None:
        existing = await Job.get_or_none(key=key)
        if existing is not None:
            return existing
    job = await Job.create(
        name=job_name,
        args=args,
        key=key or f"{job_name}:{uuid.uuid4().hex}",
        next_try_at=clock.now() + (delay or dt.timedelta(0)),
    )
    if request_id_var.get() is not None:
        # Joins the request's log lines to the job's (which carry job_id).
        logger.info("job enqueued: %s #%s", job_name, job.id, extra={"job_name": job_name, "enqueued_job_id": job.id})
    return job


async def enqueue_once(job_name: str, *, key: str, **args: Any) -> Job | None:
    """``enqueue`` for jobs that fan out work outside any transaction (reminders, cron):
    when two runners race on the same key, the loser gets None instead of an error."""
    try:
        return await enqueue(job_name, key=key, **args)
    except IntegrityError:
        return None


async def list_jobs(
    actor: Principal, status: JobStatus | None = None, limit: int = 50, before_id: int | None = None
) -> list[Job]:
    """Jobs for the instance's admins, newest first (dead and failed ones are what to look at);
    ``before_id`` pages back through older ones (keyset on the id)."""
    if not actor.is_instance_admin:
        raise PermissionDenied()
    query = Job.all().order_by("-id").limit(limit)
    if status is not None:
        query = query.filter(status=status)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query


async def retry_job(actor: Principal, job_id: int) -> Job:
    """Run a dead or failed job again now, with a fresh retry window."""
    if not actor.is_instance_admin:
        raise PermissionDenied()
    job = await Job.get_or_none(id=job_id)
    if job is None:
        raise NotFound("job")
    if job.status not in (JobStatus.DEAD, JobStatus.FAILED):
        raise ValidationFailed.single(ErrorCode.INVALID_STATE, N_("Only a dead or failed job can be retried."), "id")
    before = snapshot(job)
    async with in_transaction():
        await Job.filter(id=job.id, status=job.status).update(
            status=JobStatus.PENDING,
            next_try_at=clock.now(),
            first_failed_at=None,
            dispatched_at=None,
            finished_at=None,
        )
        await job.refresh_from_db()
        await record(actor, "job.retry", job, organization_id=None, before=before, after=snapshot(job))
    return job
