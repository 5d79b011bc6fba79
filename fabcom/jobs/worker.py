"""``fabcom worker``: arq workers fed by the outbox.

Three loops share one process:

- the **dispatcher** moves due outbox rows into arq's queue, a batch per Redis
  round-trip (one pipeline of ``SET NX`` + ``ZADD NX``), and marks them dispatched;
- the **reconciler** (every ``FABCOM_JOB_RECONCILE_S``, 30 s by default) clears the
  mark of rows whose Redis entry is gone (Redis restarted without persistence) so the
  dispatcher sends them again, and gives back jobs whose worker died mid-run;
- the **arq worker** runs ``run_outbox_job(job_id)``, which claims the row and runs
  the job with ``run_job``, the same code as the embedded runner.

The arq job id names the row and its attempt (``fabcom:<id>:<attempt>``), so sending a
row twice never queues it twice, and claiming the row in the database makes a second
run of the same attempt a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from typing import Any

from arq import cron as arq_cron
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import job_key_prefix
from arq.jobs import serialize_job
from arq.worker import Worker, func
from redis.exceptions import RedisError

from fabcom import clock
from fabcom.jobs.embedded import enqueue_cron
from fabcom.jobs.execution import (
    REF_FIELDS,
    ClaimBatcher,
    CompletionBuffer,
    JobRef,
    Runtime,
    release_stale,
    run_job,
    update_own_records,
)
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.registry import CronSpec, JobRegistry
from fabcom.settings import Settings

logger = logging.getLogger("fabcom.jobs")

QUEUE = "fabcom:queue"
FUNCTION = "run_outbox_job"
EXPIRES_MS = 7 * 24 * 3600 * 1000  # a queued entry outlives any Redis outage worth waiting for


def arq_job_id(job_id: int, attempt: int) -> str:
    return f"fabcom:{job_id}:{attempt}"


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


async def dispatch_due(redis: ArqRedis, limit: int = 1000) -> int:
    """Move up to ``limit`` due outbox rows into arq's queue in one Redis round-trip."""
    now = clock.now()
    rows = await (
        Job.filter(status__in=[JobStatus.PENDING, JobStatus.FAILED], next_try_at__lte=now, dispatched_at__isnull=True)
        .order_by("next_try_at", "id")
        .limit(limit)
        .values_list(*REF_FIELDS)
    )
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    # Marked first: a row that fails fast clears the mark itself, and must not have it
    # put back after. If Redis refuses, the mark is cleared again below.
    await update_own_records(
        "dispatched_at = ?", "dispatched_at IS NULL", ids, now
    )  # a lost mark only means sending it again
    enqueue_ms = int(now.timestamp() * 1000)
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for row in rows:
                job_id, attempts = row[0], row[-1]
                arq_id = arq_job_id(job_id, attempts + 1)
                # The row travels with the entry so the worker claims it without reading it first.
                payload = serialize_job(FUNCTION, row, {}, None, enqueue_ms)
                pipe.set(job_key_prefix + arq_id, payload, px=EXPIRES_MS, nx=True)
                pipe.zadd(QUEUE, {arq_id: enqueue_ms}, nx=True)
            await pipe.execute()
    except BaseException:
        await Job.filter(id__in=ids, dispatched_at=now).update(dispatched_at=None)
        raise
    return len(rows)


async def reconcile_redis(redis: ArqRedis, grace_s: float = 5, batch: int = 1000) -> int:
    """Clear the dispatch mark of rows whose arq entry is gone; returns how many. Rows
    dispatched in the last ``grace_s`` are left alone (their entry may be on its way)."""
    await release_stale()
    cutoff = clock.now() - dt.timedelta(seconds=grace_s)
    lost = 0
    last_id = 0
    while True:
        rows = await (
            Job.filter(
                status__in=[JobStatus.PENDING, JobStatus.FAILED],
                dispatched_at__lt=cutoff,
                id__gt=last_id,
            )
            .order_by("id")
            .limit(batch)
            .values_list("id", "attempts", "dispatched_at")
        )
        if not rows:
            return lost
        last_id = rows[-1][0]
        async with redis.pipeline(transaction=False) as pipe:
            for job_id, attempts, _ in rows:
                pipe.exists(job_key_prefix + arq_job_id(job_id, attempts + 1))
            present = await pipe.execute()
        for (job_id, _, dispatched_at), exists in zip(rows, present, strict=True):
            if not exists:
                lost += await Job.filter(id=job_id, dispatched_at=dispatched_at).update(dispatched_at=None)
        if lost:
            logger.warning("reconciler: %d job(s) lost by Redis sent again", lost)


async def run_outbox_job(
    ctx: dict[str, Any], job_id: int, name: str, args: dict[str, Any], key: str, attempts: int
) -> None:
    """The only arq function: run outbox row ``job_id`` at attempt ``attempts + 1`` (a
    no-op if another runner has it, or it moved on since it was dispatched)."""
    runtime: Runtime = ctx["fabcom_runtime"]
    runtime.extra["redis"] = ctx.get("redis")
    await run_job(JobRef(job_id, name, args, key, attempts), runtime)


def arq_cron_jobs(registry: JobRegistry) -> list[Any]:
    """One arq cron entry per declared cron: it enqueues the job into the outbox under the
    tick's key, so the job itself gets the outbox's retries and runs once per tick."""

    def make(spec: CronSpec) -> Any:
        async def tick(ctx: dict[str, Any]) -> None:
            await enqueue_cron(spec, clock.now())

        tick.__qualname__ = f"cron_{spec.job_name}"
        return arq_cron(tick, name=f"cron:{spec.job_name}", unique=True, **spec.schedule())

    return [make(spec) for spec in registry.crons]


async def _dispatcher_loop(settings: Settings) -> None:
    """Dispatch forever, reconciling on a timer; survive Redis outages."""
    redis: ArqRedis | None = None
    last_reconcile = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            if redis is None:
                redis = await create_pool(redis_settings(settings.redis_url), default_queue_name=QUEUE)
            if loop.time() - last_reconcile >= settings.job_reconcile_s:
                await reconcile_redis(redis, grace_s=min(5, settings.job_reconcile_s / 2))
                last_reconcile = loop.time()
            moved = await dispatch_due(redis)
        except asyncio.CancelledError:
            raise
        except (RedisError, OSError) as exc:
            logger.warning("dispatcher: Redis unavailable (%s), trying again", exc)
            if redis is not None:
                with contextlib.suppress(Exception):
                    await redis.aclose()
            redis = None
            last_reconcile = 0.0  # reconcile as soon as Redis is back
            moved = 0
            await asyncio.sleep(1)
        except Exception:
            logger.exception("dispatcher pass failed")
            moved = 0
        if moved == 0:
            await asyncio.sleep(settings.job_poll_s)


def build_worker(settings: Settings, runtime: Runtime, registry: JobRegistry) -> Worker:
    return Worker(
        functions=[func(run_outbox_job, name=FUNCTION)],
        cron_jobs=arq_cron_jobs(registry),
        queue_name=QUEUE,
        redis_settings=redis_settings(settings.redis_url),
        handle_signals=False,
        max_jobs=settings.worker_max_jobs,
        # arq's own timeout is a backstop: run_job stops the job first and records it.
        job_timeout=settings.job_timeout_s + 10,
        keep_result=0,
        poll_delay=settings.job_poll_s,
        max_tries=1000,  # retries are the outbox's business, never arq's
        ctx={"fabcom_runtime": runtime},
        timezone=dt.UTC,
    )


async def serve_worker(settings: Settings) -> None:
    """Run the dispatcher, the reconciler and an arq worker until SIGINT/SIGTERM."""
    from fabcom.db import close_database, open_database
    from fabcom.jobs.registry import load_jobs

    registry = load_jobs(enabled=settings.modules)
    registry.freeze()
    await open_database(settings)
    runtime = Runtime.create(settings)
    runtime.completions = CompletionBuffer()
    runtime.claims = ClaimBatcher(runtime)
    flusher = asyncio.create_task(runtime.completions.run(), name="fabcom-completions")
    main = asyncio.current_task()
    assert main is not None  # called from asyncio.run
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, main.cancel)
    dispatcher = asyncio.create_task(_dispatcher_loop(settings), name="fabcom-dispatcher")
    logger.info(
        "worker started: %d job(s), %d cron(s), up to %d jobs at once",
        *(len(registry.jobs), len(registry.crons), settings.worker_max_jobs),
    )
    worker: Worker | None = None
    try:
        while True:
            worker = build_worker(settings, runtime, registry)
            try:
                await worker.main()
            except (RedisError, OSError) as exc:
                logger.warning("worker: Redis unavailable (%s), restarting in 1 s", exc)
                with contextlib.suppress(Exception):
                    await worker.close()
                await asyncio.sleep(1)
    except asyncio.CancelledError:
        logger.info("worker stopping")
    finally:
        if worker is not None:
            with contextlib.suppress(Exception):
                await worker.close()
        for task in (dispatcher, flusher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await runtime.completions.flush()
        await runtime.close()
        await close_database()
