"""Fixtures for testing code that enqueues jobs: a controllable clock, and two ways of
running the outbox with one interface — the embedded runner in the test process (the
clock jumps to each retry instead of waiting) and a real ``fabcom worker`` process on a
real Redis (with millisecond backoff). Behavioural tests take ``jobs`` and run on both."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fabcom import clock
from fabcom.jobs.embedded import EmbeddedRunner
from fabcom.jobs.execution import RetryPolicy, Runtime
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.registry import load_jobs
from fabcom.settings import Settings
from fabcom.testing.processes import WorkerProcess
from fabcom.testing.services import REDIS_ENV, require

UNFINISHED = [JobStatus.PENDING, JobStatus.FAILED, JobStatus.RUNNING]


class FakeClock:
    """``fabcom.clock`` under the test's control: time moves only when told."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def today(self) -> dt.date:
        return self.current.date()

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta

    def advance_to(self, moment: dt.datetime) -> None:
        self.current = max(self.current, moment)


def settings_for_tests(settings: Settings, **overrides: Any) -> Settings:
    """The database settings of the test, with webhooks to loopback allowed."""
    return settings.model_copy(update={"webhooks_allow_private": True, **overrides})


def worker_env(settings: Settings, redis_url: str, var_dir: Path) -> dict[str, str]:
    """``fabcom worker`` on the test's database, with millisecond backoff, a 3 s job
    timeout (so a killed worker's job is given back within 6 s) and a 1 s reconciler."""
    return {
        **os.environ,
        "FABCOM_DATABASE_URL": settings.effective_database_url,
        "FABCOM_VAR_DIR": str(var_dir),
        "FABCOM_SECRET_KEY": "test-secret",
        "FABCOM_REDIS_URL": redis_url,
        "FABCOM_JOB_BACKOFF_BASE_S": "0.01",
        "FABCOM_JOB_BACKOFF_MAX_S": "0.05",
        "FABCOM_JOB_POLL_S": "0.05",
        "FABCOM_JOB_RECONCILE_S": "1",
        "FABCOM_JOB_TIMEOUT_S": "3",
        "FABCOM_WEBHOOKS_ALLOW_PRIVATE": "1",
    }


class EmbeddedJobs:
    kind = "embedded"

    def __init__(self, settings: Settings, fake: FakeClock) -> None:
        # A fixed jitter draw (factor 1.0) makes every delay exact.
        self.policy = RetryPolicy.from_settings(settings)
        self.policy = replace(self.policy, rand=lambda: 0.5)
        self.runner = EmbeddedRunner(settings, Runtime.create(settings, self.policy))
        self.clock = fake

    async def settle(self, limit_s: float = 60) -> None:
        """Run every job to an end, jumping the clock to each retry."""
        for _ in range(10_000):
            await self.runner.run_until_idle()
            waiting = await Job.filter(status__in=UNFINISHED).order_by("next_try_at").first()
            if waiting is None:
                return
            self.clock.advance_to(waiting.next_try_at)
        raise AssertionError("jobs did not settle")

    async def wait_for(self, predicate: Callable[[], Awaitable[bool]], limit_s: float = 60) -> None:
        """Run due jobs, jumping the clock from one try to the next, until ``predicate``."""
        for _ in range(10_000):
            if await predicate():
                return
            if not await self.runner.run_due():
                waiting = await Job.filter(status__in=UNFINISHED).order_by("next_try_at").first()
                if waiting is None:
                    break
                self.clock.advance_to(waiting.next_try_at)
        raise AssertionError("the condition never held")

    async def close(self) -> None:
        await self.runner.runtime.close()


class WorkerJobs:
    kind = "arq"

    def __init__(self, settings: Settings, redis_url: str, log: Path) -> None:
        self.redis_url = redis_url
        self.env = worker_env(settings, redis_url, log.parent)
        self.worker = WorkerProcess(self.env, log)

    async def settle(self, limit_s: float = 60) -> None:
        """Wait for the worker to bring every job to an end."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if not await Job.filter(status__in=UNFINISHED).exists():
                return
            if self.worker.process is not None and self.worker.process.poll() is not None:
                raise AssertionError("fabcom worker exited:\n" + self.worker.output())
            await asyncio.sleep(0.05)
        raise AssertionError("jobs did not settle; worker output:\n" + self.worker.output())

    async def wait_for(self, predicate: Callable[[], Awaitable[bool]], limit_s: float = 60) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if await predicate():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the condition never held; worker output:\n" + self.worker.output())

    async def close(self) -> None:
        self.worker.stop()


async def flush_redis(url: str) -> None:
    """Forget the job queue's keys (only those: the Redis database may be shared)."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        for pattern in ("fabcom:*", "arq:*"):
            keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
            if keys:
                await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    monkeypatch.setattr(clock, "now", fake.now)
    monkeypatch.setattr(clock, "today", fake.today)
    return fake


@pytest.fixture
def embedded_jobs(db: Settings, fake_clock: FakeClock) -> EmbeddedJobs:
    load_jobs()
    return EmbeddedJobs(settings_for_tests(db), fake_clock)


@pytest.fixture(params=["embedded", "arq"])
async def jobs(
    request: pytest.FixtureRequest, db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[EmbeddedJobs | WorkerJobs]:
    """The outbox's two runners behind one interface (``await jobs.settle()``)."""
    load_jobs()
    backend: EmbeddedJobs | WorkerJobs
    if request.param == "embedded":
        fake = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
        monkeypatch.setattr(clock, "now", fake.now)
        monkeypatch.setattr(clock, "today", fake.today)
        backend = EmbeddedJobs(settings_for_tests(db), fake)
    else:
        redis_url = require(REDIS_ENV, "Redis")
        await flush_redis(redis_url)
        backend = WorkerJobs(db, redis_url, tmp_path / "worker.log")
        backend.worker.start()
    try:
        yield backend
    finally:
        await backend.close()
