"""Real PostgreSQL and Redis for tests: skipped with a reason when absent, or a failure
when ``FABCOM_REQUIRE_SERVICES=1`` (as in CI), so a missing service never passes silently."""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_ENV = "FABCOM_TEST_POSTGRES_URL"
REDIS_ENV = "FABCOM_TEST_REDIS_URL"


def services_required() -> bool:
    return os.environ.get("FABCOM_REQUIRE_SERVICES") == "1"


def require(env: str, what: str) -> str:
    """The service URL from ``env``, or skip (fail in CI) with a clear reason."""
    url = os.environ.get(env, "")
    if not url:
        message = f"{what} not configured: set {env} to run this test against a real {what}"
        if services_required():
            pytest.fail(message + " (FABCOM_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    if env == REDIS_ENV:
        return _redis_for_this_worker(url)
    return url


def _redis_for_this_worker(url: str) -> str:
    """Under pytest-xdist each worker gets its own Redis database (the configured one for
    the first, the ones below it for the others): job tests flush their database and
    share arq's queue name, so two workers must never use the same one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker.removeprefix("gw") or 0)
    if offset == 0:
        return url
    parts = urlsplit(url)
    database = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(database - offset) % 16}"))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def create_postgres_database(url: str, prefix: str = "fabcom_t", template: str = "") -> str:
    """Create a fresh database on the server of ``url`` (a copy of the database at URL
    ``template`` if given); returns its URL. Each test run gets its own, so parallel runs
    and server-process tests never share state."""
    import asyncpg

    name = f"{prefix}_{secrets.token_hex(4)}"
    copy = f' TEMPLATE "{urlsplit(template).path.lstrip("/")}"' if template else ""
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await conn.close()
    return with_database(url, name)


async def drop_postgres_database(url: str) -> None:
    import asyncpg

    name = urlsplit(url).path.lstrip("/")
    admin_url = os.environ.get(POSTGRES_ENV) or with_database(url, "postgres")
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]
