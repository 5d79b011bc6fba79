"""Running one outbox job: claim the row, call the function, record the outcome.

The arq worker and the embedded runner both call ``run_job``, so they share one
semantics. Retry decisions live here, not in arq: arq would only retry on
``arq.Retry`` and forgets everything when Redis restarts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from tortoise.expressions import Q

from fabcom import clock
from fabcom.errors import ServiceError
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.registry import JobRegistry, registry
from fabcom.ops.logs import job_id_var
from fabcom.settings import Settings

logger = logging.getLogger("fabcom.jobs")

TRANSIENT_HTTP = frozenset({408, 429})


class TransientError(Exception):
    """Worth trying again later (the other side is down, slow or busy)."""


class PermanentError(Exception):
    """Trying again cannot help (the other side refused the request)."""


class HTTPStatusFailure(Exception):
    """An HTTP answer that is not a success; transient for 5xx, 408 and 429."""

    def __init__(self, status_code: int, detail: str = "") -> None:
        super().__init__(f"HTTP {status_code}{': ' + detail if detail else ''}")
        self.status_code = status_code


def is_transient(exc: BaseException) -> bool:
    """Connection errors, timeouts and HTTP 5xx/408/429 are transient; refusals (other 4xx,
    validation errors) are permanent. An unexpected exception counts as transient: the job
    stays visible with its error and is tried again, possibly after a fix is deployed."""
    if isinstance(exc, PermanentError | ServiceError):
        return False
    if isinstance(exc, HTTPStatusFailure):
        return exc.status_code >= 500 or exc.status_code in TRANSIENT_HTTP
    if isinstance(exc, httpx.HTTPStatusError):
        code = exc.response.status_code
        return code >= 500 or code in TRANSIENT_HTTP
    return True


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter. A job failing transiently is tried again until
    ``window`` has passed since its first failure, so it keeps trying for at least that long."""

    base: dt.timedelta = dt.timedelta(seconds=30)
    cap: dt.timedelta = dt.timedelta(hours=6)
    window: dt.timedelta = dt.timedelta(hours=48)
    jitter: float = 0.2  # each delay is multiplied by a factor in [1 - jitter, 1 + jitter]
    rand: Callable[[], float] = random.random

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            base=dt.timedelta(seconds=settings.job_backoff_base_s),
            cap=dt.timedelta(seconds=settings.job_backoff_max_s),
            window=dt.timedelta(hours=settings.job_retry_window_h),
        )

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failed try."""
        raw = min(self.base * (2 ** max(attempts - 1, 0)), self.cap)
        return raw * (1 - self.jitter + 2 * self.jitter * self.rand())


@dataclass
class JobContext:
    """What a job function receives besides its arguments."""

    settings: Settings
    job_id: int
    key: str
    attempt: int
    http: httpx.AsyncClient
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Runtime:
    """Shared by every job a runner executes."""

    settings: Settings
    http: httpx.AsyncClient
    policy: RetryPolicy
    registry: JobRegistry = field(default_factory=lambda: registry)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the arq Redis pool
    # When set, successes are recorded in batches (the worker); otherwise one by one.
    completions: CompletionBuffer | None = None
    # When set, claims of jobs started together go in one UPDATE (the worker).
    claims: ClaimBatcher | None = None

    @classmethod
    def create(cls, settings: Settings, policy: RetryPolicy | None = None) -> Runtime:
        timeout = httpx.Timeout(settings.job_http_timeout_s)
        client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        return cls(settings, client, policy or RetryPolicy.from_settings(settings))

    async def close(self) -> None:
        await self.http.aclose()


@dataclass(frozen=True)
class JobRef:
    """What a runner knows of a row when it picks it: enough to claim and run it without
    reading it again. ``attempts`` is the count before this run."""

    id: int
    name: str
    args: dict[str, Any]
    key: str
    attempts: int

    @classmethod
    def of(cls, job: Job) -> JobRef:
        return cls(job.id, job.name, job.args, job.key, job.attempts)


REF_FIELDS = ("id", "name", "args", "key", "attempts")


async def claim(ref: JobRef, runtime: Runtime) -> bool:
    """Mark the job running if it is due (or its previous runner vanished) and still at
    the attempt the runner saw; False when another runner has it or it is finished.
    The conditional UPDATE is the lock."""
    now = clock.now()
    # The lease outlives the job's timeout: a live runner always finishes first.
    timeout = runtime.settings.job_timeout_s
    lease = now + dt.timedelta(seconds=timeout + min(timeout, 30))
    claimable = Q(status__in=[JobStatus.PENDING, JobStatus.FAILED], next_try_at__lte=now) | Q(
        status=JobStatus.RUNNING, locked_until__lt=now
    )
    updated = await Job.filter(claimable, id=ref.id, attempts=ref.attempts).update(
        status=JobStatus.RUNNING, attempts=ref.attempts + 1, locked_until=lease
    )
    return bool(updated)


async def update_own_records(set_sql: str, where_sql: str, ids: list[int], *values: Any) -> list[int]:
    """One ``UPDATE fabcom_job SET {set_sql} WHERE <id in ids> AND {where_sql} RETURNING id``
    for a runner's own records (claims, outcomes, dispatch marks); returns the ids updated.
    ``values`` fill the ``?`` of ``set_sql`` then ``where_sql``, in that order.

    Raw SQL because it is the hot path of ``fabcom worker``: one statement, one round trip,
    in its own transaction. The ids go as one parameter, so the statement's text does not
    vary with their number and PostgreSQL prepares it once. On PostgreSQL the statement
    also turns ``synchronous_commit`` off for its own transaction: a claim or an outcome
    lost in a crash only means the job runs again, which idempotent jobs allow. The jobs
    themselves are written by the services with ordinary, durable commits."""
    connection = Job._meta.db
    ids_parameter: list[int] | str
    if connection.capabilities.dialect == "postgres":
        from_sql = " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_disk_wait"
        ids_sql, ids_parameter = "id = ANY(?)", ids
    else:
        from_sql, ids_sql, ids_parameter = "", "id IN (SELECT value FROM json_each(?))", json.dumps(ids)
    sql = f"UPDATE {Job._meta.db_table} SET {set_sql}{from_sql} WHERE {ids_sql} AND {where_sql} RETURNING id"  # noqa: S608 - this module's constant SQL
    if connection.capabilities.dialect == "postgres":  # asyncpg numbers its parameters: $1, $2…
        pieces = sql.split("?")
        sql = "".join(f"{piece}${n}" for n, piece in enumerate(pieces[:-1], 1)) + pieces[-1]
    set_count = set_sql.count("?")
    parameters = [*values[:set_count], ids_parameter, *values[set_count:]]
    return [row["id"] for row in await connection.execute_query_dict(sql, parameters)]


async def claim_many(refs: list[JobRef], runtime: Runtime) -> set[int]:
    """``claim`` for many jobs in one UPDATE … RETURNING per attempt count; returns the ids
    claimed (the rows the UPDATE changed: a row another runner holds, or at another
    attempt, is not one of them)."""
    now = clock.now()
    timeout = runtime.settings.job_timeout_s
    lease = now + dt.timedelta(seconds=timeout + min(timeout, 30))
    by_attempts: dict[int, list[int]] = {}
    for ref in refs:
        by_attempts.setdefault(ref.attempts, []).append(ref.id)
    claimed: set[int] = set()
    for attempts, ids in by_attempts.items():
        claimed.update(
            await update_own_records(
                "status = ?, attempts = ?, locked_until = ?",
                "attempts = ? AND ((status IN (?, ?) AND next_try_at <= ?) OR (status = ? AND locked_until < ?))",
                ids,
                *(JobStatus.RUNNING.value, attempts + 1, lease),
                *(attempts, JobStatus.PENDING.value, JobStatus.FAILED.value, now, JobStatus.RUNNING.value, now),
            )
        )
    return claimed


class ClaimBatcher:
    """Coalesces the claims of jobs a worker starts at about the same time: while one
    claim UPDATE is in flight, the next claims wait and then go together in one. Nothing
    waits when the worker is idle, and under load a batch holds up to ``max_batch``."""

    def __init__(self, runtime: Runtime, max_batch: int = 500) -> None:
        self.runtime = runtime
        self.max_batch = max_batch
        self.waiting: list[tuple[JobRef, asyncio.Future[bool]]] = []
        self.draining = False
        self._task: asyncio.Task[None] | None = None

    async def claim(self, ref: JobRef) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.waiting.append((ref, future))
        if not self.draining:
            self.draining = True
            # kept, so the event loop's weak reference is not the only one to the task
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[: self.max_batch], self.waiting[self.max_batch :]
                try:
                    claimed = await claim_many([ref for ref, _ in batch], self.runtime)
                except Exception as exc:  # each job sees the failure, as with its own claim
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for ref, future in batch:
                        # the same job twice in one batch (a repeated entry): only the first runs
                        won = ref.id in claimed
                        claimed.discard(ref.id)
                        if not future.done():
                            future.set_result(won)
        finally:
            self.draining = False


async def run_job(job: int | JobRef, runtime: Runtime) -> JobStatus | None:
    """Run one outbox job if it can be claimed; returns its new status (None: not run).
    The success path costs two UPDATEs: the claim and the outcome."""
    if isinstance(job, int):
        row = await Job.get_or_none(id=job)
        if row is None:
            return None
        job = JobRef.of(row)
    claimed = await runtime.claims.claim(job) if runtime.claims is not None else await claim(job, runtime)
    if not claimed:
        return None
    attempt = job.attempts + 1
    spec = runtime.registry.jobs.get(job.name)
    ctx = JobContext(runtime.settings, job.id, job.key, attempt, runtime.http, runtime.extra)
    log_context = job_id_var.set(job.id)  # the job's log lines carry its id
    started = time.perf_counter()
    try:
        if spec is None:
            raise PermanentError(f"unknown job {job.name!r}")
        await asyncio.wait_for(spec.func(ctx, **job.args), runtime.settings.job_timeout_s)
    except Exception as exc:
        return await _record_failure(job.id, attempt, exc, runtime.policy)
    else:
        # A success is a debug line (FABCOM_LOG_LEVEL=DEBUG shows it): the jobs table records every
        # run, and a line per job cost the worker ~6 % of its time. A failure logs a warning.
        if logger.isEnabledFor(logging.DEBUG):
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            logger.debug(
                "job %s #%s done in %s ms (attempt %d)",
                *(job.name, job.id, duration_ms, attempt),
                extra={"job_name": job.name, "duration_ms": duration_ms},
            )
    finally:
        job_id_var.reset(log_context)
    if runtime.completions is not None:
        runtime.completions.add(job.id)
    else:
        await mark_done([job.id], attempt)
    return JobStatus.DONE


async def mark_done(job_ids: list[int], attempt: int | None = None) -> None:
    filters: dict[str, Any] = {"id__in": job_ids, "status": JobStatus.RUNNING}
    if attempt is not None:
        filters["attempts"] = attempt
    await Job.filter(**filters).update(status=JobStatus.DONE, finished_at=clock.now(), locked_until=None, last_error="")


class CompletionBuffer:
    """Records successes with one UPDATE per ``interval`` instead of one per job. A
    process killed before a flush leaves those rows ``running``: their lease runs out
    and they run again, which idempotent jobs allow."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.pending: list[int] = []

    def add(self, job_id: int) -> None:
        self.pending.append(job_id)

    async def flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:500], self.pending[500:]
            await update_own_records(
                "status = ?, finished_at = ?, locked_until = NULL, last_error = ''",
                "status = ?",
                batch,
                *(JobStatus.DONE.value, clock.now(), JobStatus.RUNNING.value),
            )

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("recording finished jobs failed; trying again")


async def _record_failure(job_id: int, attempt: int, exc: Exception, policy: RetryPolicy) -> JobStatus:
    now = clock.now()
    job = await Job.get(id=job_id)
    error = f"{type(exc).__name__}: {exc}"[:2000]
    first_failed_at = job.first_failed_at or now
    if is_transient(exc) and now - first_failed_at < policy.window:
        status, next_try = JobStatus.FAILED, now + policy.delay(attempt)
    else:
        status, next_try = JobStatus.DEAD, job.next_try_at
    logger.warning("job %s attempt %d: %s (%s)", job, attempt, error, status.value)
    await Job.filter(id=job.id, attempts=attempt).update(
        status=status,
        next_try_at=next_try,
        first_failed_at=first_failed_at,
        last_error=error,
        locked_until=None,
        dispatched_at=None,
        finished_at=now if status == JobStatus.DEAD else None,
    )
    return status


async def release_stale(now: dt.datetime | None = None) -> int:
    """Give back jobs whose runner vanished mid-run (killed process): they become due
    again at once. Their attempt stays counted."""
    now = now or clock.now()
    return await Job.filter(status=JobStatus.RUNNING, locked_until__lt=now).update(
        status=JobStatus.FAILED, next_try_at=now, locked_until=None, dispatched_at=None, last_error="runner lost"
    )
