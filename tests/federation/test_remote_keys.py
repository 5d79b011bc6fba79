"""Remote actors and keys: the per-host fetch limit (in memory, or shared through Redis by
every process), and a cached key that stops verifying (rotated or revoked)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets

import orjson
import pytest

from fabcom.federation import config, remote
from fabcom.federation.models import InboxMessage, RemoteActor
from fabcom.testing.federation import Peer, keypair, sign_request
from fabcom.testing.services import REDIS_ENV, require

PATH = "/ap/o/recyclerie-a/inbox"


async def post_follow(client, peer: Peer):
    activity = peer.activity("Follow", config.org_actor_uri("recyclerie-a"))
    body = orjson.dumps(activity)
    headers = sign_request(peer.key, "POST", f"http://testserver{PATH}", body)
    return await client.post(PATH, content=body, headers=headers)


def actor_fetches(peer: Peer) -> int:
    return sum(1 for fetch in peer.fetches if fetch == f"GET {peer.uri}")


def peers_on_one_host(network, host: str, count: int) -> list[Peer]:
    return [network.add(Peer(host=host, slug=f"atelier{n}")) for n in range(count)]


# --- the per-host fetch limit -----------------------------------------------------------------------


async def test_without_redis_each_process_counts_the_fetches_of_a_host(network, monkeypatch):
    monkeypatch.setattr(remote, "FETCHES_PER_HOST_PER_MINUTE", 2)
    first, second, third = peers_on_one_host(network, "busy.example", 3)

    await remote.fetch_actor(first.uri)
    await remote.fetch_actor(second.uri)
    with pytest.raises(remote.FetchError, match=r"too many fetches from busy\.example"):
        await remote.fetch_actor(third.uri)

    assert actor_fetches(third) == 0
    assert await RemoteActor.filter(uri=third.uri).count() == 0
    other = network.add(Peer(host="quiet.example"))
    assert (await remote.fetch_actor(other.uri)).uri == other.uri  # another host has its own count


@pytest.fixture
def redis_settings(fed_settings):
    settings = fed_settings.model_copy(update={"redis_url": require(REDIS_ENV, "Redis")})
    config.use(settings)
    yield settings
    config.use(fed_settings)


async def test_with_redis_the_fetches_of_a_host_are_counted_across_processes(network, redis_settings, monkeypatch):
    monkeypatch.setattr(remote, "FETCHES_PER_HOST_PER_MINUTE", 2)
    host = f"shared-{secrets.token_hex(4)}.example"  # a fresh counter in the shared Redis
    first, second, third = peers_on_one_host(network, host, 3)

    await remote.fetch_actor(first.uri)
    remote._fetches.clear()  # another process: nothing counted in its memory
    await remote.fetch_actor(second.uri)
    remote._fetches.clear()
    with pytest.raises(remote.FetchError, match=f"too many fetches from {re.escape(host)}"):
        await remote.fetch_actor(third.uri)

    assert actor_fetches(third) == 0
    import redis.asyncio as redis

    client = redis.Redis.from_url(redis_settings.redis_url)
    try:
        keys = [key async for key in client.scan_iter(f"fabcom:federation:fetches:{host}:*")]
        assert len(keys) == 1
        assert int(await client.get(keys[0])) == 3
        assert 0 < await client.ttl(keys[0]) <= 2 * remote.RATE_WINDOW_S
    finally:
        await client.aclose()


async def test_an_unreachable_redis_falls_back_to_counting_in_memory(network, fed_settings, monkeypatch, caplog):
    config.use(fed_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    monkeypatch.setattr(remote, "FETCHES_PER_HOST_PER_MINUTE", 1)
    first, second = peers_on_one_host(network, "fallback.example", 2)

    with caplog.at_level(logging.WARNING, logger="fabcom.federation"):
        await remote.fetch_actor(first.uri)
        with pytest.raises(remote.FetchError, match="too many fetches"):
            await remote.fetch_actor(second.uri)

    assert "Redis unavailable" in caplog.text
    assert actor_fetches(first) == 1
    assert actor_fetches(second) == 0


# --- a cached key that stops verifying --------------------------------------------------------------


async def test_a_rotated_key_is_fetched_again_once_and_the_message_accepted(client, org_a, peer, fake_clock):
    assert (await post_follow(client, peer)).status_code == 202
    peer.key_number = 2  # the peer rotates its key; ours is cached
    fake_clock.advance(dt.timedelta(seconds=remote.REFETCH_AFTER_S + 1))

    response = await post_follow(client, peer)

    assert response.status_code == 202
    assert actor_fetches(peer) == 2
    assert (await RemoteActor.get(uri=peer.uri)).public_key_pem == keypair(2)[1]
    assert await InboxMessage.all().count() == 2


async def test_a_key_failing_again_within_a_minute_is_not_fetched_again(client, org_a, peer, fake_clock):
    assert (await post_follow(client, peer)).status_code == 202
    peer.key_number = 2

    response = await post_follow(client, peer)

    assert (response.status_code, response.json()) == (401, {"error": "bad_signature"})
    assert actor_fetches(peer) == 1  # the refetch is rate-limited: the actor was fetched just now
    assert await InboxMessage.all().count() == 1
    fake_clock.advance(dt.timedelta(seconds=remote.REFETCH_AFTER_S + 1))
    assert (await post_follow(client, peer)).status_code == 202
    assert actor_fetches(peer) == 2


async def test_a_revoked_key_is_refused_once_its_actor_is_gone(client, org_a, peer, fake_clock):
    assert (await post_follow(client, peer)).status_code == 202
    peer.key_number = 3  # signed with a key the actor no longer publishes…
    peer.actor_status = 410  # …and the actor is gone
    fake_clock.advance(dt.timedelta(seconds=remote.REFETCH_AFTER_S + 1))

    response = await post_follow(client, peer)

    assert (response.status_code, response.json()) == (401, {"error": "key_fetch_failed"})
    assert actor_fetches(peer) == 2
    assert (await RemoteActor.get(uri=peer.uri)).public_key_pem == keypair(1)[1]
    assert await InboxMessage.all().count() == 1
