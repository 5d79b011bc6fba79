"""``make run``'s path as real processes: migrate, demo, serve, then health and readiness."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from fabcom.testing.services import (
    POSTGRES_ENV,
    REDIS_ENV,
    create_postgres_database,
    drop_postgres_database,
    require,
)

FABCOM = [sys.executable, "-m", "fabcom"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fabcom(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(FABCOM + args, env=env, capture_output=True, text=True, timeout=300, check=False)


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """Run ``fabcom serve`` on a free loopback port until the block ends (stopped by PID)."""
    port = free_port()
    process = subprocess.Popen(
        [*FABCOM, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"fabcom serve exited early:\n{process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("fabcom serve did not answer /healthz within 30 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "FABCOM_VAR_DIR": str(tmp_path / "var"),
        "FABCOM_DATABASE_URL": "",
        "FABCOM_REDIS_URL": "",
        **extra,
    }


def test_make_run_path_on_sqlite_serves_health_readiness_and_the_demo(tmp_path):
    env = base_env(tmp_path)
    # migrate + demo, as `make run` does
    assert fabcom(["migrate"], env).returncode == 0
    demo = fabcom(["demo", "--if-empty"], env)
    assert demo.returncode == 0, demo.stderr
    assert "demo loaded: 3 organizations, 8 accounts, 320 items, 3 projects" in demo.stdout
    assert "admin@fabcom.example" in demo.stdout
    assert "password: fabcom-demo-2026" in demo.stdout
    # a second `make run` keeps the data
    again = fabcom(["demo", "--if-empty"], env)
    assert "demo skipped: the database already has organizations" in again.stdout
    with serving(env) as base:
        health = httpx.get(base + "/healthz")
        assert health.json()["status"] == "ok"
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "checks": {"database": {"ok": True}}}
    # the generated secret key is kept in var/, readable by the owner only
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_readiness_includes_redis_when_configured(tmp_path):
    redis_url = require(REDIS_ENV, "Redis")
    env = base_env(tmp_path, FABCOM_REDIS_URL=redis_url)
    assert fabcom(["migrate"], env).returncode == 0
    with serving(env) as base:
        assert httpx.get(base + "/readyz").json() == {
            "status": "ok",
            "checks": {"database": {"ok": True}, "redis": {"ok": True}},
        }


def test_readiness_fails_when_redis_is_unreachable(tmp_path):
    env = base_env(tmp_path, FABCOM_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert fabcom(["migrate"], env).returncode == 0
    with serving(env) as base:
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == {"ok": True}
        assert body["checks"]["redis"]["ok"] is False
        assert httpx.get(base + "/healthz").status_code == 200


def test_make_run_path_on_postgresql(tmp_path):
    url = asyncio.run(create_postgres_database(require(POSTGRES_ENV, "PostgreSQL"), "fabcom_serve"))
    try:
        env = base_env(tmp_path, FABCOM_DATABASE_URL=url)
        assert fabcom(["migrate"], env).returncode == 0
        demo = fabcom(["demo", "--if-empty"], env)
        assert demo.returncode == 0, demo.stderr
        assert "320 items" in demo.stdout
        with serving(env) as base:
            assert httpx.get(base + "/readyz").json()["checks"]["database"] == {"ok": True}
    finally:
        asyncio.run(drop_postgres_database(url))
