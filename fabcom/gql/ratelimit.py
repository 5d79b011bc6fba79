"""The API's cost budget per caller, GitHub-style: points per hour, a fixed window.

Stored where every server process sees it: Redis when configured (INCRBY + EXPIRE),
otherwise the database (one upsert per request, table ``fabcom_api_budget``, committed
without waiting for the disk on PostgreSQL).
Never in process memory, so several ``fabcom serve`` workers share one budget."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tortoise import connections

from fabcom.permissions import Principal
from fabcom.redis_clients import redis_client
from fabcom.settings import Settings

WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class Budget:
    limit: int
    used: int
    reset_at: int  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-resource": "graphql",
        }


def budget_key(principal: Principal, client_host: str) -> tuple[str, bool]:
    """Who pays: the token, else the user (session), else the client address."""
    if principal.token_id is not None:
        return f"token:{principal.token_id}", True
    if principal.user_id is not None:
        return f"user:{principal.user_id}", True
    return f"ip:{client_host[:60]}", False


_UPSERT = (
    "INSERT INTO fabcom_api_budget (key, window_start, spent) {source} "
    "ON CONFLICT (key) DO UPDATE SET "
    "spent = CASE WHEN fabcom_api_budget.window_start = excluded.window_start "
    "THEN fabcom_api_budget.spent + excluded.spent ELSE excluded.spent END, "
    "window_start = excluded.window_start "
    "RETURNING spent"
)
_UPSERT_SQLITE = _UPSERT.format(source="VALUES (?, ?, ?)")
# On PostgreSQL the charge commits without waiting for the disk (``synchronous_commit``
# off for this one statement's transaction, set by the statement itself): the upsert is
# a write on every API request, and a durable commit cost ~5 ms of it on a busy machine
# against ~0.2 ms. A crash can forget the last fraction of a second of charges, which a
# rate limit can afford; the row is still shared by every server process.
_UPSERT_POSTGRES = _UPSERT.format(
    source="SELECT $1, $2, $3 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_disk_wait"
)


async def _charge_database(key: str, window: int, cost: int, is_sqlite: bool) -> int:
    sql = _UPSERT_SQLITE if is_sqlite else _UPSERT_POSTGRES
    rows = await connections.get("default").execute_query_dict(sql, [key, window, cost])
    return int(rows[0]["spent"])


async def _charge_redis(url: str, key: str, window: int, cost: int) -> int:
    client = redis_client(url)
    redis_key = f"fabcom:api_budget:{key}:{window}"
    async with client.pipeline(transaction=True) as pipe:
        pipe.incrby(redis_key, cost)
        pipe.expire(redis_key, WINDOW_SECONDS + 60)
        spent, _ = await pipe.execute()
    return int(spent)


async def charge(settings: Settings, key: str, authenticated: bool, cost: int, now: float | None = None) -> Budget:
    """Add ``cost`` to the caller's window and return the budget after it."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    limit = settings.api_rate_limit if authenticated else settings.api_rate_limit_anonymous
    if settings.redis_url:
        used = await _charge_redis(settings.redis_url, key, window, cost)
    else:
        used = await _charge_database(key, window, cost, settings.is_sqlite)
    return Budget(limit=limit, used=used, reset_at=window + WINDOW_SECONDS)
