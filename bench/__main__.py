"""5,000 no-op jobs through fabcom's outbox (enqueue in a transaction → dispatcher → arq →
``fabcom worker``) against bare arq (``enqueue_job`` → arq worker) on the same Redis.

Each run starts its worker process first, then enqueues the jobs one by one (as services
would, one transaction each) and stops the clock when the last job has run. Run with
``make bench``; set FABCOM_BENCH_POSTGRES_URL (or FABCOM_TEST_POSTGRES_URL) to add a
PostgreSQL run beside SQLite."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arq.connections import RedisSettings, create_pool

N = int(os.environ.get("BENCH_JOBS", "5000"))
# Concurrent producers, as a web server's requests would be; the same number for bare arq and fabcom.
PRODUCERS = int(os.environ.get("BENCH_PRODUCERS", "1"))
ROOT = Path(__file__).resolve().parent.parent


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    from fabcom.testing.processes import free_port

    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return process, f"redis://127.0.0.1:{port}/0"


async def produce(one) -> None:
    """Runs ``one()`` N times from PRODUCERS concurrent tasks."""

    async def producer(count: int) -> None:
        for _ in range(count):
            await one()

    share, extra = divmod(N, PRODUCERS)
    await asyncio.gather(*(producer(share + (i < extra)) for i in range(PRODUCERS)))


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


async def bench_bare_arq(redis_url: str, env: dict[str, str]) -> dict[str, float]:
    from bench.bare_arq import COUNTER, QUEUE

    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=QUEUE)
    await pool.flushdb()
    worker = subprocess.Popen(
        [sys.executable, "-m", "arq", "bench.bare_arq.WorkerSettings"],
        env={**env, "BENCH_REDIS_URL": redis_url},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await asyncio.sleep(1.5)
    latencies = []

    async def one() -> None:
        t = time.perf_counter()
        await pool.enqueue_job("noop")
        latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    await produce(one)
    produced = time.perf_counter() - started
    while int(await pool.get(COUNTER) or 0) < N:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    stop(worker)
    await pool.aclose()
    return {
        "jobs_per_s": N / elapsed,
        "enqueue_p50_ms": statistics.median(latencies) * 1000,
        "seconds": elapsed,
        "produced_s": produced,
    }


async def bench_fabcom(redis_url: str, database_url: str, var_dir: Path, env: dict[str, str]) -> dict[str, float]:
    from tortoise.transactions import in_transaction

    from fabcom.db import close_database, open_database
    from fabcom.jobs.models import Job, JobStatus
    from fabcom.jobs.outbox import enqueue
    from fabcom.migrations_api import apply_migrations
    from fabcom.settings import Settings

    settings = Settings(var_dir=var_dir, database_url=database_url, secret_key="bench")
    await apply_migrations(settings)
    await open_database(settings)
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    await pool.flushdb()
    await pool.aclose()
    worker = subprocess.Popen(
        [sys.executable, "-m", "fabcom", "worker"],
        env={
            **env,
            "FABCOM_REDIS_URL": redis_url,
            "FABCOM_DATABASE_URL": settings.effective_database_url,
            "FABCOM_VAR_DIR": str(var_dir),
            "FABCOM_SECRET_KEY": "bench",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await asyncio.sleep(2)
    latencies = []  # the enqueue call inside the service's transaction
    transactions = []  # the whole transaction, BEGIN to COMMIT, with only the enqueue in it

    async def one() -> None:
        t0 = time.perf_counter()
        async with in_transaction():
            t1 = time.perf_counter()
            await enqueue("ping_worker")
            latencies.append(time.perf_counter() - t1)
        transactions.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await produce(one)
    produced = time.perf_counter() - started
    while await Job.filter(name="ping_worker", status=JobStatus.DONE).count() < N:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    stop(worker)
    await close_database()
    return {
        "jobs_per_s": N / elapsed,
        "enqueue_p50_ms": statistics.median(latencies) * 1000,
        "transaction_p50_ms": statistics.median(transactions) * 1000,
        "seconds": elapsed,
        "produced_s": produced,
    }


async def bench_bare_arq_drain(redis_url: str, env: dict[str, str]) -> dict[str, float]:
    """The worker side alone: N jobs queued first, then one worker drains them; the rate
    is taken between the first and the last job run (the process start-up is left out),
    and so is the worker's CPU time per job, which a busy machine disturbs less."""
    from bench.bare_arq import COUNTER, FIRST, LAST, QUEUE

    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=QUEUE)
    await pool.flushdb()
    for _ in range(N):
        await pool.enqueue_job("noop")
    worker = subprocess.Popen(
        [sys.executable, "-m", "arq", "bench.bare_arq.WorkerSettings"],
        env={**env, "BENCH_REDIS_URL": redis_url},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not (started := int(await pool.get(COUNTER) or 0)):
        await asyncio.sleep(0.005)
    cpu_at_start = cpu_seconds(worker.pid)
    while int(await pool.get(COUNTER) or 0) < N:
        await asyncio.sleep(0.01)
    cpu = cpu_seconds(worker.pid) - cpu_at_start
    first, last = float(await pool.get(FIRST)), float(await pool.get(LAST))
    stop(worker)
    await pool.aclose()
    return {"jobs_per_s": (N - 1) / (last - first), "cpu_ms_per_job": cpu * 1000 / (N - started)}


async def bench_fabcom_drain(redis_url: str, database_url: str, var_dir: Path, env: dict[str, str]) -> dict[str, float]:
    """The worker side alone: N rows in the outbox first (one transaction), then one
    ``fabcom worker`` drains them; the rate is taken between the first and the last
    finished_at (recorded in 50 ms batches)."""
    from tortoise.functions import Max, Min
    from tortoise.transactions import in_transaction

    from fabcom.db import close_database, open_database
    from fabcom.jobs.models import Job, JobStatus
    from fabcom.jobs.outbox import enqueue
    from fabcom.migrations_api import apply_migrations
    from fabcom.settings import Settings

    settings = Settings(var_dir=var_dir, database_url=database_url, secret_key="bench")
    await apply_migrations(settings)
    await open_database(settings)
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    await pool.flushdb()
    await pool.aclose()
    async with in_transaction():
        for _ in range(N):
            await enqueue("ping_worker")
    worker = subprocess.Popen(
        [sys.executable, "-m", "fabcom", "worker"],
        env={
            **env,
            "FABCOM_REDIS_URL": redis_url,
            "FABCOM_DATABASE_URL": settings.effective_database_url,
            "FABCOM_VAR_DIR": str(var_dir),
            "FABCOM_SECRET_KEY": "bench",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not (started := await Job.filter(name="ping_worker", status=JobStatus.DONE).count()):
        await asyncio.sleep(0.005)
    cpu_at_start = cpu_seconds(worker.pid)
    while await Job.filter(name="ping_worker", status=JobStatus.DONE).count() < N:
        await asyncio.sleep(0.2)  # the rate comes from finished_at: polling often would only load the database
    cpu = cpu_seconds(worker.pid) - cpu_at_start
    span = await Job.all().annotate(first=Min("finished_at"), last=Max("finished_at")).first().values("first", "last")
    stop(worker)
    await close_database()
    seconds = (span["last"] - span["first"]).total_seconds()
    return {"jobs_per_s": (N - 1) / seconds, "cpu_ms_per_job": cpu * 1000 / (N - started)}


async def main() -> None:
    # The same worker settings for both: concurrency and poll delay bound arq's throughput.
    env = {"FABCOM_WORKER_MAX_JOBS": "100", "FABCOM_JOB_POLL_S": "0.05", **os.environ}
    rounds = int(env.get("BENCH_ROUNDS", "3"))
    drain = env.get("BENCH_DRAIN", "1") == "1"  # also the worker side alone (jobs queued first)
    postgres = env.get("FABCOM_BENCH_POSTGRES_URL") or env.get("FABCOM_TEST_POSTGRES_URL", "")
    print(
        f"{N} no-op jobs from {PRODUCERS} producer(s), max_jobs={env['FABCOM_WORKER_MAX_JOBS']}, poll={env['FABCOM_JOB_POLL_S']} s, {rounds} rounds"
    )
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        redis, redis_url = start_redis(Path(tmp))
        try:
            # Rounds interleave bare arq and fabcom so a busy machine slows both alike.
            for round_no in range(rounds):
                print(f"round {round_no + 1}: load average {os.getloadavg()[0]:.1f}", flush=True)
                results.setdefault("bare arq", []).append(await bench_bare_arq(redis_url, env))
                if drain:
                    results.setdefault("drain: bare arq", []).append(await bench_bare_arq_drain(redis_url, env))
                runs = [("sqlite", "")]
                if postgres:
                    from fabcom.testing.services import create_postgres_database

                    runs.append(
                        (
                            "postgresql",
                            await create_postgres_database(postgres, prefix="fabcom_bench")
                            + env.get("BENCH_PG_OPTIONS", ""),
                        )
                    )
                for name, url in runs:
                    var_dir = Path(tmp) / f"{name}-{round_no}"
                    var_dir.mkdir()
                    try:
                        result = await bench_fabcom(redis_url, url, var_dir, env)
                        if drain:
                            drain_dir = Path(tmp) / f"{name}-{round_no}-drain"
                            drain_dir.mkdir()
                            if url:
                                from fabcom.testing.services import drop_postgres_database

                                await drop_postgres_database(url)
                                url = await create_postgres_database(postgres, prefix="fabcom_bench") + env.get(
                                    "BENCH_PG_OPTIONS", ""
                                )
                            results.setdefault(f"drain: fabcom ({name})", []).append(
                                await bench_fabcom_drain(redis_url, url, drain_dir, env)
                            )
                    finally:
                        if url:
                            from fabcom.testing.services import drop_postgres_database

                            await drop_postgres_database(url)
                    results.setdefault(f"fabcom ({name})", []).append(result)
        finally:
            stop(redis)
    print(
        f"{'':26} {'jobs/s':>8} {'ratio':>6} {'enqueue p50':>12} {'transaction p50':>16} {'enqueued in':>12}  (medians)"
    )
    for name, runs_of in sorted(results.items(), key=lambda kv: kv[0].startswith("drain")):
        bare = statistics.median(r["jobs_per_s"] for r in results["drain: bare arq" if "drain" in name else "bare arq"])
        rate = statistics.median(r["jobs_per_s"] for r in runs_of)
        if "enqueue_p50_ms" not in runs_of[0]:
            cpu = statistics.median(r["cpu_ms_per_job"] for r in runs_of)
            print(f"{name:26} {rate:8.0f} {rate / bare:5.2f}x   worker CPU {cpu:.2f} ms/job")
            continue
        enqueue_ms = statistics.median(r["enqueue_p50_ms"] for r in runs_of)
        transaction = [r["transaction_p50_ms"] for r in runs_of if "transaction_p50_ms" in r]
        whole = f"{statistics.median(transaction):13.3f} ms" if transaction else f"{'-':>16}"
        produced = statistics.median(r["produced_s"] for r in runs_of)
        print(f"{name:26} {rate:8.0f} {rate / bare:5.2f}x {enqueue_ms:9.3f} ms {whole} {produced:10.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
