"""``fabcom check``: what an operator wants to know before (re)starting an instance.

Each check answers ``{"ok": bool, "detail" or "error": str}``; the command prints one line
per check and exits 1 when any failed. Checks of optional services (Redis, SMTP) run only
when they are configured.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from tortoise import connections

from fabcom.health import TIMEOUT_S, check_database, check_redis
from fabcom.settings import Settings

# Below this much free space where uploads are written, the check fails: photos, imports
# and backups would start failing soon.
MIN_FREE_DISK_MB = 1024
# Database and application clocks further apart than this make expiries (sessions,
# tokens, job leases) and HTTP signatures unreliable.
MAX_CLOCK_SKEW_S = 5.0

Check = dict[str, Any]


def failed(exc: BaseException | str) -> Check:
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {str(exc)[:200]}"
    return {"ok": False, "error": text}


async def check_migrations(settings: Settings) -> Check:
    """Migrations on disk that the database has not applied (``fabcom migrate`` applies them)."""
    from tortoise.migrations.executor import MigrationExecutor

    from fabcom.db import tortoise_config

    try:
        executor = MigrationExecutor(connections.get("default"), tortoise_config(settings)["apps"])
        steps = await executor.plan()
    except Exception as exc:
        return failed(exc)
    pending = [f"{s.migration.app_label}.{s.migration.name}" for s in steps if not s.backward]
    if pending:
        shown = ", ".join(pending[:5]) + (f" and {len(pending) - 5} more" if len(pending) > 5 else "")
        return failed(f"{len(pending)} pending ({shown}): run `fabcom migrate`")
    return {"ok": True, "detail": "up to date"}


async def check_smtp(settings: Settings) -> Check:
    """Connect to the SMTP server and say hello (no message is sent)."""
    import aiosmtplib

    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=settings.smtp_tls == "tls",
        start_tls=settings.smtp_tls == "starttls",
        timeout=TIMEOUT_S,
    )
    try:
        await client.connect()
        if settings.smtp_username:
            await client.login(settings.smtp_username, settings.smtp_password)
        await client.quit()
    except Exception as exc:
        return failed(exc)
    return {"ok": True, "detail": f"{settings.smtp_host}:{settings.smtp_port}"}


def check_disk(settings: Settings, min_free_mb: int = MIN_FREE_DISK_MB) -> Check:
    """Free space on the file system that holds the uploads (its nearest existing folder)."""
    path: Path = settings.uploads_dir.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    usage = shutil.disk_usage(path)
    free_mb = usage.free // (1024 * 1024)
    detail = f"{free_mb} MB free for uploads ({path})"
    if free_mb < min_free_mb:
        return failed(f"only {detail}, less than {min_free_mb} MB")
    return {"ok": True, "detail": detail}


async def database_now(settings: Settings) -> dt.datetime:
    connection = connections.get("default")
    if settings.is_sqlite:
        _, rows = await connection.execute_query("SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now') AS now")
        return dt.datetime.fromisoformat(rows[0]["now"]).replace(tzinfo=dt.UTC)
    _, rows = await connection.execute_query("SELECT now() AS now")
    value = rows[0]["now"]
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def check_clock(settings: Settings, max_skew_s: float = MAX_CLOCK_SKEW_S) -> Check:
    """The database server's clock against this machine's (both should follow NTP)."""
    try:
        before = dt.datetime.now(dt.UTC)
        theirs = await database_now(settings)
        after = dt.datetime.now(dt.UTC)
    except Exception as exc:
        return failed(exc)
    ours = before + (after - before) / 2
    skew = round((theirs - ours).total_seconds(), 1) + 0.0  # + 0.0: no "-0.0"
    detail = f"database clock {skew:+.1f} s from this machine's"
    if abs(skew) > max_skew_s:
        return failed(f"{detail} (more than {max_skew_s:g} s): check NTP on both machines")
    return {"ok": True, "detail": detail}


async def run_checks(settings: Settings, min_free_mb: int = MIN_FREE_DISK_MB) -> dict[str, Check]:
    """Every check, the database's first (the others need it)."""
    checks: dict[str, Check] = {"database": await check_database()}
    if checks["database"]["ok"]:
        checks["migrations"] = await check_migrations(settings)
        checks["clock"] = await check_clock(settings)
    if settings.redis_url:
        checks["redis"] = await check_redis(settings.redis_url)
    if settings.smtp_host:
        try:
            checks["smtp"] = await asyncio.wait_for(check_smtp(settings), TIMEOUT_S * 2)
        except TimeoutError:
            checks["smtp"] = failed(f"no answer within {TIMEOUT_S * 2:g} s")
    checks["disk"] = check_disk(settings, min_free_mb)
    return checks
