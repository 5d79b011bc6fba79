"""Bare arq, the floor: a no-op job that counts itself, with the same worker settings
as ``fabcom worker`` (max_jobs, poll delay, no results kept)."""

from __future__ import annotations

import os
import time
from typing import Any

from arq.connections import RedisSettings

QUEUE = "bench:bare"
COUNTER = "bench:bare:done"
FIRST = "bench:bare:first"  # when the first job ran (for the drain measure)
LAST = "bench:bare:last"


async def noop(ctx: dict[str, Any]) -> None:
    now = str(time.time())
    async with ctx["redis"].pipeline(transaction=False) as pipe:
        pipe.incr(COUNTER)
        pipe.set(FIRST, now, nx=True)
        pipe.set(LAST, now)
        await pipe.execute()


class WorkerSettings:
    functions = [noop]
    queue_name = QUEUE
    redis_settings = RedisSettings.from_dsn(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    max_jobs = int(os.environ.get("FABCOM_WORKER_MAX_JOBS", "20"))
    poll_delay = float(os.environ.get("FABCOM_JOB_POLL_S", "0.2"))
    keep_result = 0
    handle_signals = True
