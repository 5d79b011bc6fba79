"""``fabcom worker`` as real processes on real Redis: nothing is lost when Redis or the
worker dies."""

from __future__ import annotations

import asyncio
import json
import signal
import time

from arq.connections import RedisSettings, create_pool

from fabcom.inventory.services import create_item
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.outbox import enqueue
from fabcom.jobs.worker import QUEUE, arq_job_id, dispatch_due
from fabcom.members.models import Role
from fabcom.testing.jobs import flush_redis, worker_env
from fabcom.testing.processes import RedisServer, WorkerProcess
from fabcom.testing.receiver import WebhookReceiver
from fabcom.testing.services import REDIS_ENV, require
from fabcom.webhooks.models import WebhookDelivery
from fabcom.webhooks.services import create_endpoint


async def wait_until(condition, worker: WorkerProcess, limit_s: float = 180) -> None:
    """Poll ``condition``; the generous bound only stops a hung test (a busy CI machine is slow)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition never held; worker output:\n" + worker.output())


async def test_redis_killed_with_200_queued_jobs_loses_none(db, tmp_path):
    require(REDIS_ENV, "Redis")
    redis = RedisServer(tmp_path)
    redis.start()
    worker = WorkerProcess(worker_env(db, redis.url, tmp_path), tmp_path / "worker.log")
    worker.start()
    try:
        # given a running worker, paused while 200 jobs are handed to Redis
        warm_up = await enqueue("ping_worker")

        async def warmed_up() -> bool:
            return (await Job.get(id=warm_up.id)).status == JobStatus.DONE

        await wait_until(warmed_up, worker)
        worker.signal(signal.SIGSTOP)
        queued = [await enqueue("ping_worker") for _ in range(200)]
        pool = await create_pool(RedisSettings.from_dsn(redis.url), default_queue_name=QUEUE)
        try:
            assert await dispatch_due(pool) == 200
            in_redis = {m.decode() for m in await pool.zrange(QUEUE, 0, -1)}
            assert {arq_job_id(job.id, 1) for job in queued} <= in_redis
        finally:
            await pool.aclose()

        # when Redis is killed (no persistence: the queue is gone) and restarted
        redis.kill()
        redis.start()
        worker.signal(signal.SIGCONT)

        # then the reconciler sends them again and all 200 run, each once (the worker's
        # own cron, such as the reconciliation every minute, adds jobs of other names)
        pings = Job.filter(name="ping_worker")

        async def all_done() -> bool:
            return await pings.filter(status=JobStatus.DONE).count() == 201

        await wait_until(all_done, worker)
        assert await pings.exclude(status=JobStatus.DONE).count() == 0
        assert set(await pings.values_list("attempts", flat=True)) == {1}
        assert "job(s) lost by Redis sent again" in worker.output()
    finally:
        worker.stop()
        redis.kill()


async def test_a_worker_killed_mid_job_is_replaced_and_the_webhook_has_one_effect(db, tmp_path, org_a, make_member):
    redis_url = require(REDIS_ENV, "Redis")
    await flush_redis(redis_url)
    admin = await make_member(org_a, role=Role.ADMIN)
    env = worker_env(db, redis_url, tmp_path)
    async with WebhookReceiver(hold_first=True) as receiver:
        await create_endpoint(admin, org_a.id, {"url": receiver.url, "events": ["item.created"]}, allow_private=True)
        worker = WorkerProcess(env, tmp_path / "worker-1.log")
        worker.start()
        try:
            # given a worker sending a webhook, killed before the partner answers
            await create_item(admin, org_a.id, {"title": "Perceuse"})
            await asyncio.wait_for(receiver.got_first.wait(), 30)
            worker.kill()
            receiver.release()
            assert (await Job.get(name="deliver_webhook")).status == JobStatus.RUNNING

            # when another worker starts
            worker = WorkerProcess(env, tmp_path / "worker-2.log")
            worker.start()

            async def done() -> bool:
                return (await Job.get(name="deliver_webhook")).status == JobStatus.DONE

            await wait_until(done, worker)
        finally:
            worker.stop()

        # then the job completed on its second try, and the partner acted once
        job = await Job.get(name="deliver_webhook")
        delivery = await WebhookDelivery.get()
        assert job.attempts == 2
        assert delivery.attempts == 2
        assert len(receiver.requests) == 2
        assert receiver.effects == [delivery.message_id]


async def test_job_runs_log_a_debug_line_with_their_id_and_duration_and_arq_stays_quiet(db, tmp_path):
    redis_url = require(REDIS_ENV, "Redis")
    await flush_redis(redis_url)
    workers = {}
    try:
        for level in ("INFO", "DEBUG"):
            env = {**worker_env(db, redis_url, tmp_path), "FABCOM_LOG_LEVEL": level}
            workers[level] = worker = WorkerProcess(env, tmp_path / f"worker-{level}.log")
            worker.start()
            job = await enqueue("ping_worker")

            async def done(job_id: int = job.id) -> bool:
                return (await Job.get(id=job_id)).status == JobStatus.DONE

            await wait_until(done, worker)
            worker.stop()
            lines = [json.loads(line) for line in worker.output().splitlines() if line.startswith("{")]
            mine = [line for line in lines if line.get("job_id") == job.id]
            assert any(line["message"].startswith("worker started:") for line in lines)
            # arq's own "→ run_outbox_job(…)" / "← run_outbox_job ●" lines, without fabcom's id
            assert not [line for line in lines if "run_outbox_job" in line["message"]]
            if level == "INFO":  # a success leaves no line at the default level: the jobs table has it
                assert mine == []
            else:
                assert [line["message"].split(" in ")[0] for line in mine] == [f"job ping_worker #{job.id} done"]
                assert mine[0]["level"] == "DEBUG"
                assert mine[0]["job_name"] == "ping_worker"
                assert isinstance(mine[0]["duration_ms"], float)
    finally:
        for worker in workers.values():
            worker.stop()
