"""Operators' view of the jobs: ``fabcom jobs list/retry``, ``fabcom worker`` without
Redis, and ``fabcom serve`` running jobs itself when no Redis is configured."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fabcom.testing.cache import prepare_var_dir
from fabcom.testing.processes import free_port

FABCOM = [sys.executable, "-m", "fabcom"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        FABCOM + args, env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def instance(tmp_path: Path) -> dict[str, str]:
    env = {
        "FABCOM_VAR_DIR": str(tmp_path / "var"),
        "FABCOM_DATABASE_URL": "",
        "FABCOM_REDIS_URL": "",
        "LANG": "en_US.UTF-8",
    }
    prepare_var_dir(tmp_path / "var", os.environ.get("FABCOM_MODULES", ""))  # as `fabcom migrate` leaves it
    return env


def sql(env: dict[str, str], query: str, *params: object) -> list[tuple]:
    db = sqlite3.connect(Path(env["FABCOM_VAR_DIR"]) / "fabcom.sqlite3")
    try:
        rows = db.execute(query, params).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


def add_job(env: dict[str, str], key: str, status: str, error: str = "") -> int:
    sql(
        env,
        "INSERT INTO fabcom_job (name, args, key, status, attempts, next_try_at, last_error, created_at)"
        " VALUES ('ping_worker', '{}', ?, ?, 1, '2026-01-01 00:00:00+00:00', ?, '2026-01-01 00:00:00+00:00')",
        key,
        status,
        error,
    )
    return sql(env, "SELECT id FROM fabcom_job WHERE key = ?", key)[0][0]


def test_dead_jobs_are_listed_and_one_can_be_retried(instance):
    dead = add_job(instance, "a", "dead", "HTTPStatusFailure: HTTP 404: Not Found")
    add_job(instance, "b", "done")

    listed = run(["jobs", "list", "--status", "dead"], instance)
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [
        f"{dead}\tdead\t1\tping_worker\t2026-01-01 00:00:00\tHTTPStatusFailure: HTTP 404: Not Found"
    ]

    retried = run(["jobs", "retry", str(dead)], instance)
    assert retried.returncode == 0
    assert retried.stdout.strip() == f"job {dead} (ping_worker) will run again"
    assert sql(instance, "SELECT status FROM fabcom_job WHERE id = ?", dead) == [("pending",)]
    assert sql(instance, "SELECT action FROM fabcom_audit_entry") == [("job.retry",)]
    assert run(["jobs", "list", "--status", "dead"], instance).stdout.strip() == "no jobs"


def test_retrying_a_job_that_is_not_dead_is_refused_and_changes_nothing(instance):
    done = add_job(instance, "b", "done")

    refused = run(["jobs", "retry", str(done)], instance)
    missing = run(["jobs", "retry", "999"], instance)

    assert (refused.returncode, refused.stderr.strip()) == (1, "error: id: Only a dead or failed job can be retried.")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: Not found.")
    assert sql(instance, "SELECT status FROM fabcom_job") == [("done",)]


def test_a_bad_status_filter_exits_2(instance):
    result = run(["jobs", "list", "--status", "zombie"], instance)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --status must be one of: pending, running, done, failed, dead"


def test_worker_without_redis_explains_that_serve_runs_the_jobs(instance):
    result = run(["worker"], instance)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: FABCOM_REDIS_URL is not set: without Redis, `fabcom serve` runs the jobs itself"
    )


def test_serve_without_redis_runs_the_outbox_itself(instance):
    # given a job waiting in the outbox
    job_id = add_job(instance, "c", "pending")

    # when `fabcom serve` runs (stopped by its PID)
    server = subprocess.Popen(
        [*FABCOM, "serve", "--port", str(free_port())],
        env={**os.environ, **instance},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sql(instance, "SELECT status FROM fabcom_job WHERE id = ?", job_id) == [("done",)]:
                break
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)

    # then its embedded runner ran the job
    assert sql(instance, "SELECT status, attempts FROM fabcom_job WHERE id = ?", job_id) == [("done", 2)]
