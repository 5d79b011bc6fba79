"""The embedded runner: ``fabcom serve`` without Redis runs the outbox itself.

Same job functions, same claim/retry semantics (``run_job``) and the same cron
schedule as the arq worker, so ``make run`` needs no Redis. Several ``fabcom serve``
processes may each run one: claiming a row is a conditional UPDATE, and a cron tick
is enqueued under a key naming the tick, so it runs once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from arq.cron import next_cron
from tortoise.exceptions import IntegrityError

from fabcom import clock
from fabcom.jobs.execution import REF_FIELDS, JobRef, Runtime, release_stale, run_job
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.outbox import enqueue
from fabcom.jobs.registry import CronSpec
from fabcom.settings import Settings

logger = logging.getLogger("fabcom.jobs")

IDLE_POLL_S = 1.0  # the slowest the embedded runner polls when no job comes


def cron_key(spec: CronSpec, at: dt.datetime) -> str:
    """The idempotency key of one cron tick, the same in the worker and the embedded runner."""
    return f"cron:{spec.job_name}:{at.astimezone(dt.UTC):%Y-%m-%dT%H:%M}"


async def enqueue_cron(spec: CronSpec, at: dt.datetime) -> None:
    with contextlib.suppress(IntegrityError):  # another process enqueued the same tick first
        await enqueue(spec.job_name, key=cron_key(spec, at))


class EmbeddedRunner:
    """Polls the outbox for due jobs and runs them in this process."""

    def __init__(self, settings: Settings, runtime: Runtime | None = None, *, concurrency: int = 4) -> None:
        self.settings = settings
        self.runtime = runtime or Runtime.create(settings)
        self.concurrency = concurrency
        self.next_cron: dict[str, dt.datetime] = {}
        self._released_at: dt.datetime | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="fabcom-embedded-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.runtime.close()

    async def tick_crons(self) -> None:
        now = clock.now()
        for spec in self.runtime.registry.crons:
            due = self.next_cron.get(spec.job_name)
            if due is None:
                self.next_cron[spec.job_name] = next_cron(now, **spec.schedule())
            elif due <= now:
                await enqueue_cron(spec, due)
                self.next_cron[spec.job_name] = next_cron(now, **spec.schedule())

    async def run_due(self, limit: int = 100) -> int:
        """One pass: run the due jobs, after giving back stale ones (at the first pass, then
        every ``FABCOM_JOB_RECONCILE_S``, as the worker does: a lease runs for minutes, so
        looking at every poll was an UPDATE five times a second for nothing); returns how
        many ran."""
        now = clock.now()
        if self._released_at is None or now - self._released_at >= dt.timedelta(seconds=self.settings.job_reconcile_s):
            await release_stale(now)
            self._released_at = now
        rows = await (
            Job.filter(status__in=[JobStatus.PENDING, JobStatus.FAILED], next_try_at__lte=clock.now())
            .order_by("next_try_at", "id")
            .limit(limit)
            .values_list(*REF_FIELDS)
        )
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(ref: JobRef) -> bool:
            async with semaphore:
                return await run_job(ref, self.runtime) is not None

        results = await asyncio.gather(*(one(JobRef(*row)) for row in rows))
        return sum(results)

    async def run_until_idle(self, max_passes: int = 1000) -> int:
        """Run passes until nothing is due (tests and the CLI use it); returns jobs run."""
        total = 0
        for _ in range(max_passes):
            ran = await self.run_due()
            total += ran
            if not ran:
                break
        return total

    async def _loop(self) -> None:
        # Idle, the poll slows down to once a second (``IDLE_POLL_S``): an idle ``fabcom
        # serve`` made five queries a second for nothing. A pass that runs jobs polls again
        # at once, then at ``FABCOM_JOB_POLL_S``.
        delay = self.settings.job_poll_s
        while True:
            try:
                await self.tick_crons()
                ran = await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("embedded job runner pass failed")
                ran = 0
            if ran:
                delay = self.settings.job_poll_s
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, max(self.settings.job_poll_s, IDLE_POLL_S))
