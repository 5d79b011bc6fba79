"""Periodic jobs: declared once, scheduled the same by arq and by the embedded runner,
enqueued once per tick."""

from __future__ import annotations

import datetime as dt

from fabcom.jobs.models import Job
from fabcom.jobs.registry import load_jobs
from fabcom.jobs.worker import arq_cron_jobs


def test_the_worker_schedules_every_declared_cron_entry_as_declared():
    registry = load_jobs()

    scheduled = {(c.name, c.hour, c.minute, c.second) for c in arq_cron_jobs(registry)}

    core = {
        ("cron:reconcile_outbox", None, None, 0),
        ("cron:cleanup_jobs", 3, 17, 0),
        ("cron:send_notification_digests", 7, 0, 0),
        ("cron:remind_memberships", 8, 0, 0),
        ("cron:remind_tasks", 7, 30, 0),
        ("cron:reconcile_partners", None, 37, 0),
    }
    assert core <= scheduled
    # the enabled modules' entries (bookings under FABCOM_MODULES), as they declare them
    assert scheduled - core <= {
        ("cron:mark_overdue", None, 5, 0),
        ("cron:remind_bookings", None, 10, 0),
        ("cron:publish_ressourcerie_figures", 3, 30, 0),
    }


async def test_the_embedded_runner_enqueues_each_tick_once(embedded_jobs, fake_clock):
    runner = embedded_jobs.runner
    fake_clock.current = dt.datetime(2026, 11, 23, 6, 58, 30, tzinfo=dt.UTC)
    await runner.tick_crons()  # learns the next times
    assert await Job.all().count() == 0

    fake_clock.current = dt.datetime(2026, 11, 23, 7, 0, 0, tzinfo=dt.UTC)
    await runner.tick_crons()
    await runner.tick_crons()

    assert sorted(await Job.all().values_list("key", flat=True)) == [
        "cron:reconcile_outbox:2026-11-23T06:59",
        "cron:send_notification_digests:2026-11-23T07:00",
    ]


async def test_cleanup_deletes_old_finished_jobs_but_keeps_dead_ones(embedded_jobs, fake_clock):
    from fabcom.jobs.models import JobStatus
    from fabcom.jobs.outbox import enqueue

    old_done = await enqueue("ping_worker")
    old_dead = await enqueue("ping_worker")
    recent_done = await enqueue("ping_worker")
    long_ago = fake_clock.now() - dt.timedelta(days=15)
    await Job.filter(id=old_done.id).update(status=JobStatus.DONE, finished_at=long_ago)
    await Job.filter(id=old_dead.id).update(status=JobStatus.DEAD, finished_at=long_ago)
    await Job.filter(id=recent_done.id).update(status=JobStatus.DONE, finished_at=fake_clock.now())

    await enqueue("cleanup_jobs")
    await embedded_jobs.settle()

    remaining = await Job.filter(name="ping_worker").order_by("id").values_list("id", flat=True)
    assert remaining == [old_dead.id, recent_done.id]
