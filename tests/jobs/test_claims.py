"""The worker's batched claims: jobs started together are claimed in one UPDATE, each
exactly once, and a stale attempt or a job another runner holds is refused, as with the
one-by-one claim the embedded runner uses."""

from __future__ import annotations

import asyncio
import datetime as dt

from tortoise.transactions import in_transaction

from fabcom.jobs.execution import ClaimBatcher, CompletionBuffer, JobRef, Runtime, run_job
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.outbox import enqueue
from fabcom.jobs.registry import load_jobs
from fabcom.testing.jobs import fake_clock, settings_for_tests

__all__ = ["fake_clock"]  # the fixture, imported for this module


async def test_jobs_started_together_are_each_claimed_once(db, fake_clock):
    load_jobs()
    async with in_transaction():
        jobs = [await enqueue("ping_worker") for _ in range(30)]
    runtime = Runtime.create(settings_for_tests(db))
    runtime.claims = ClaimBatcher(runtime)
    runtime.completions = CompletionBuffer()
    refs = [JobRef.of(job) for job in jobs]
    try:
        # every job handed to two runs at once (a repeated Redis entry): one of each pair runs
        outcomes = await asyncio.gather(*(run_job(ref, runtime) for ref in refs + refs))
        await runtime.completions.flush()
    finally:
        await runtime.close()
    assert outcomes.count(JobStatus.DONE) == 30
    assert outcomes.count(None) == 30
    assert await Job.filter(status=JobStatus.DONE, attempts=1).count() == 30


async def test_a_stale_attempt_and_a_held_job_are_refused(db, fake_clock):
    load_jobs()
    async with in_transaction():
        done, held = await enqueue("ping_worker"), await enqueue("ping_worker")
    runtime = Runtime.create(settings_for_tests(db))
    runtime.claims = ClaimBatcher(runtime)
    try:
        assert await run_job(JobRef.of(done), runtime) == JobStatus.DONE
        await Job.filter(id=held.id).update(status=JobStatus.RUNNING, locked_until=fake_clock.now().replace(year=2999))
        again = await asyncio.gather(run_job(JobRef.of(done), runtime), run_job(JobRef.of(held), runtime))
    finally:
        await runtime.close()
    assert again == [None, None]
    assert (await Job.get(id=done.id)).attempts == 1
    assert (await Job.get(id=held.id)).attempts == 0


async def test_a_failed_job_due_again_and_a_job_whose_runner_vanished_are_claimed_together(db, fake_clock):
    load_jobs()
    async with in_transaction():
        retry, lost, later = [await enqueue("ping_worker") for _ in range(3)]
    now = fake_clock.now()
    await Job.filter(id=retry.id).update(status=JobStatus.FAILED, attempts=1, next_try_at=now)
    await Job.filter(id=lost.id).update(status=JobStatus.RUNNING, attempts=2, locked_until=now.replace(year=2000))
    await Job.filter(id=later.id).update(status=JobStatus.FAILED, attempts=1, next_try_at=now.replace(year=2999))
    runtime = Runtime.create(settings_for_tests(db))
    runtime.claims = ClaimBatcher(runtime)
    refs = [JobRef.of(await Job.get(id=job.id)) for job in (retry, lost, later)]
    try:
        outcomes = await asyncio.gather(*(run_job(ref, runtime) for ref in refs))
    finally:
        await runtime.close()
    assert outcomes == [JobStatus.DONE, JobStatus.DONE, None]
    assert [(job.status, job.attempts) for job in await Job.filter(id__in=[retry.id, lost.id, later.id])] == [
        (JobStatus.DONE, 2),
        (JobStatus.DONE, 3),
        (JobStatus.FAILED, 1),
    ]


async def test_the_embedded_runner_gives_back_jobs_whose_runner_vanished(embedded_jobs, fake_clock):
    """``fabcom serve`` without Redis: a job left running by a killed process runs again,
    at the runner's first pass and then within ``FABCOM_JOB_RECONCILE_S``."""
    runner = embedded_jobs.runner
    first, second = await enqueue("ping_worker"), await enqueue("ping_worker")
    expired = fake_clock.now() - dt.timedelta(minutes=1)
    await Job.filter(id=first.id).update(status=JobStatus.RUNNING, attempts=1, locked_until=expired)
    await runner.run_due()
    assert (await Job.get(id=first.id)).status == JobStatus.DONE

    # another process dies mid-run: its job runs again once the runner looks at stale jobs
    await Job.filter(id=second.id).update(status=JobStatus.RUNNING, attempts=1, locked_until=expired)
    await runner.run_due()
    fake_clock.advance(dt.timedelta(seconds=runner.settings.job_reconcile_s))
    await runner.run_due()
    assert (await Job.get(id=second.id)).status == JobStatus.DONE
