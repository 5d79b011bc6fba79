"""One Redis client per URL and event loop, shared by what keeps state in Redis (the API's
rate budget, the ``totalCount`` cache): a connection pool instead of a connection per
request. A client belongs to the loop that created it (its connections do), so a new
loop — a test, a CLI command — gets its own."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Any]] = weakref.WeakKeyDictionary()


def redis_client(url: str) -> Any:
    """The shared ``redis.asyncio.Redis`` of ``url`` for the running loop."""
    import redis.asyncio as redis

    per_url = _clients.setdefault(asyncio.get_running_loop(), {})
    client = per_url.get(url)
    if client is None:
        client = per_url[url] = redis.Redis.from_url(url)
    return client
