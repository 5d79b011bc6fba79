"""Dependency checks shared by ``/readyz`` and ``fabcom check``."""

from __future__ import annotations

import asyncio
from typing import Any

from tortoise import connections

from fabcom.settings import Settings

TIMEOUT_S = 3.0


async def check_database() -> dict[str, Any]:
    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"), TIMEOUT_S)
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__ + ": " + str(exc)[:200]}
    return {"ok": True}


async def check_redis(url: str) -> dict[str, Any]:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
    try:
        await client.ping()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__ + ": " + str(exc)[:200]}
    finally:
        await client.aclose()
    return {"ok": True}


async def check_dependencies(settings: Settings) -> dict[str, dict[str, Any]]:
    """Database always; Redis only when configured (empty REDIS_URL = embedded jobs)."""
    checks = {"database": await check_database()}
    if settings.redis_url:
        checks["redis"] = await check_redis(settings.redis_url)
    return checks
