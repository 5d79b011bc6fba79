"""Where a large ``totalCount`` is kept for 30 s: in Redis when the instance has one, so
every server process shares it; in the process without Redis."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from redis.asyncio import Redis

from fabcom.app import create_app
from fabcom.gql import pagination
from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item
from fabcom.testing.services import REDIS_ENV, require

QUERY = "{ items(first: 1) { totalCount } }"


async def total(settings) -> int:
    """``totalCount`` asked of a fresh app, as another server process would."""
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        response = await http.post("/graphql", json={"query": QUERY})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["items"]["totalCount"]


def count_key() -> str:
    """The Redis key of the count QUERY runs (anonymous: public items not deleted)."""
    sql = Item.filter(visibility="public", deleted_at__isnull=True).count().sql(params_inline=True)
    return pagination.COUNT_KEY_PREFIX + hashlib.sha256(sql.encode()).hexdigest()


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CACHE_MIN", 2)
    monkeypatch.setattr(pagination, "_counts", type(pagination._counts)())


async def test_without_redis_a_large_count_is_kept_in_the_process(api_settings, org_a, staff_a, small_threshold):
    # given two public items and no Redis
    for n in range(2):
        await create_item(staff_a, org_a.id, {"title": f"Objet {n}", "visibility": "public"})
    assert api_settings.redis_url == ""
    assert await total(api_settings) == 2
    # when a third is added
    await create_item(staff_a, org_a.id, {"title": "Objet 2", "visibility": "public"})
    # then the kept count answers, from this process's memory
    assert await total(api_settings) == 2
    assert [hit[1] for hit in pagination._counts.values()] == [2]
    pagination._counts.clear()  # what 30 seconds do
    assert await total(api_settings) == 3


async def test_with_redis_a_large_count_is_kept_in_redis_for_every_process(
    api_settings, org_a, staff_a, small_threshold
):
    url = require(REDIS_ENV, "Redis")
    settings = api_settings.model_copy(update={"redis_url": url})
    redis = Redis.from_url(url)
    key = count_key()
    await redis.delete(key)
    try:
        # given two public items and Redis
        for n in range(2):
            await create_item(staff_a, org_a.id, {"title": f"Objet {n}", "visibility": "public"})
        assert await total(settings) == 2
        # then the count is in Redis for 30 s at most, and not in the process
        assert int(await redis.get(key)) == 2
        assert 0 < await redis.pttl(key) <= pagination.COUNT_CACHE_SECONDS * 1000
        assert pagination._counts == {}
        # when a third item is added, another process (a fresh app) reads the kept count
        await create_item(staff_a, org_a.id, {"title": "Objet 2", "visibility": "public"})
        assert await total(settings) == 2
        # and once the key expires, the list is counted again
        await redis.delete(key)
        assert await total(settings) == 3
        assert int(await redis.get(key)) == 3
    finally:
        await redis.delete(key)
        await redis.aclose()


async def test_with_redis_a_small_count_is_exact_and_not_kept(api_settings, org_a, staff_a, small_threshold):
    url = require(REDIS_ENV, "Redis")
    settings = api_settings.model_copy(update={"redis_url": url})
    redis = Redis.from_url(url)
    key = count_key()
    await redis.delete(key)
    try:
        await create_item(staff_a, org_a.id, {"title": "Objet", "visibility": "public"})
        assert await total(settings) == 1
        assert await redis.exists(key) == 0
        assert pagination._counts == {}
    finally:
        await redis.aclose()
