"""Talking to other servers: signed GET and POST with timeouts and size bounds, never
to loopback, private or link-local addresses unless ``FABCOM_FEDERATION_ALLOW_PRIVATE_ADDRESSES``
is set; and remote actors, fetched, checked and cached in ``RemoteActor`` with a local
mirror ``Organization`` for each organization-like actor.

The federation layer is the only writer of ``RemoteActor`` and of mirror organizations.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections import defaultdict, deque
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import nh3
import orjson

from fabcom import clock
from fabcom.collector import collector_paused
from fabcom.federation import config
from fabcom.federation.keys import SigningKey, application_key
from fabcom.federation.models import RemoteActor
from fabcom.federation.signatures import PublicKey, SignatureError, sign
from fabcom.orgs.models import Organization
from fabcom.webhooks.services import resolves_to_private

logger = logging.getLogger("fabcom.federation")

ACCEPT = f"{config.AP_CONTENT_TYPE}, {config.LD_CONTENT_TYPE}"
MAX_RESPONSE_BYTES = 1024 * 1024
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ACTOR_FRESH_FOR_S = 24 * 3600
REFETCH_AFTER_S = 60  # a key that fails is fetched again at most once a minute
FETCHES_PER_HOST_PER_MINUTE = 120
ORGANIZATION_TYPES = {"Group", "Organization", "Application", "Service", "Person"}

# Tests replace the transport to talk to in-process applications.
transport: httpx.AsyncBaseTransport | None = None
_client: httpx.AsyncClient | None = None
_fetches: dict[str, deque[float]] = defaultdict(deque)
_redis_clients: dict[tuple[str, int], Any] = {}
RATE_WINDOW_S = 60


class FetchError(Exception):
    """A remote document could not be had (network, refusal, bad content); worth trying later."""


class Refused(Exception):
    """The address is not allowed (private network) or not http(s): trying again cannot help."""


def client() -> httpx.AsyncClient:
    global _client
    if _client is None or _client.is_closed:
        _client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, transport=transport)
    return _client


def reset_client() -> None:
    """Forget the shared client (tests that swap ``transport``)."""
    global _client
    _client = None
    _fetches.clear()
    _redis_clients.clear()


_PLAIN_HTTP_URL = re.compile(r"https?://([A-Za-z0-9.:\[\]-]+)(?:[/?#]|$)")


def host_of(uri: str) -> str:
    """The host (with its port) of an id, lower-cased. Checked for every activity of a
    catch-up page: a plain ``http(s)://host[:port]/…`` is read with one regex, anything
    else (user info, odd characters) by ``urlsplit``."""
    plain = _PLAIN_HTTP_URL.match(uri)
    if plain is not None:
        return plain.group(1).lower()
    return urlsplit(uri).netloc.lower()


async def check_address(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{url!r} is not an http(s) address")
    if config.allow_private():
        return
    try:
        private = await resolves_to_private(url)
    except OSError as exc:
        raise FetchError(f"{parts.hostname} does not resolve: {exc}") from None
    if private:
        raise Refused(f"{url} resolves to a private or local address")


async def _rate_limit(host: str) -> None:
    """At most ``FETCHES_PER_HOST_PER_MINUTE`` actor and key fetches from one host. With
    ``FABCOM_REDIS_URL`` the count is shared by every process of the instance (a fixed
    one-minute window per host in Redis); without Redis, or while Redis does not answer,
    each process counts for itself."""
    url = config.settings().redis_url
    if url:
        from redis.exceptions import RedisError

        try:
            count = await _count_in_redis(url, host)
        except (RedisError, OSError) as exc:
            logger.warning("fetch rate limit: Redis unavailable (%s), counting in this process", exc)
        else:
            if count > FETCHES_PER_HOST_PER_MINUTE:
                raise FetchError(f"too many fetches from {host}; try again later")
            return
    _rate_limit_in_memory(host)


async def _count_in_redis(url: str, host: str) -> int:
    import redis.asyncio as redis

    # A client per event loop: its connections belong to the loop that opened them.
    slot = (url, id(asyncio.get_running_loop()))
    client = _redis_clients.get(slot)
    if client is None:
        client = _redis_clients[slot] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    window = int(time.time() // RATE_WINDOW_S)
    key = f"fabcom:federation:fetches:{host}:{window}"
    async with client.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, RATE_WINDOW_S * 2)
        count, _ = await pipe.execute()
    return int(count)


def _rate_limit_in_memory(host: str) -> None:
    now = time.monotonic()
    window = _fetches[host]
    while window and now - window[0] > RATE_WINDOW_S:
        window.popleft()
    if len(window) >= FETCHES_PER_HOST_PER_MINUTE:
        raise FetchError(f"too many fetches from {host}; try again later")
    window.append(now)


async def _read_bounded(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(f"response larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise FetchError(f"response larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def signed_get(url: str, key: SigningKey | None = None, *, limit: int = MAX_RESPONSE_BYTES) -> Any:
    """GET an ActivityPub document, signed (by the application actor unless ``key``), as JSON."""
    await check_address(url)
    key = key or await application_key()
    headers = {**sign(key, "GET", url), "accept": ACCEPT, "user-agent": user_agent()}
    try:
        async with client().stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                raise FetchError(f"GET {url}: HTTP {response.status_code}")
            body = await _read_bounded(response, limit)
    except httpx.HTTPError as exc:
        raise FetchError(f"GET {url}: {type(exc).__name__}: {exc}") from None
    try:
        with collector_paused():  # a page of a partner's outbox is megabytes of JSON
            document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FetchError(f"GET {url}: not JSON") from None
    if not isinstance(document, dict):
        raise FetchError(f"GET {url}: not a JSON object")
    return document


async def signed_post(url: str, body: bytes, key: SigningKey, http: httpx.AsyncClient | None = None) -> httpx.Response:
    """POST an activity to an inbox, signed by ``key``; the answer's body is not read past 64 KiB."""
    await check_address(url)
    headers = {
        **sign(key, "POST", url, body, content_type=config.AP_CONTENT_TYPE),
        "user-agent": user_agent(),
    }
    try:
        async with (http or client()).stream("POST", url, content=body, headers=headers, timeout=TIMEOUT) as response:
            with contextlib.suppress(FetchError):
                await _read_bounded(response, 64 * 1024)
            return response
    except httpx.HTTPError as exc:
        raise FetchError(f"POST {url}: {type(exc).__name__}: {exc}") from None


async def get_json(url: str, *, accept: str = "application/json") -> Any:
    """An unsigned GET (WebFinger)."""
    await check_address(url)
    try:
        async with client().stream("GET", url, headers={"accept": accept, "user-agent": user_agent()}) as response:
            if response.status_code != 200:
                raise FetchError(f"GET {url}: HTTP {response.status_code}")
            body = await _read_bounded(response, 64 * 1024)
    except httpx.HTTPError as exc:
        raise FetchError(f"GET {url}: {type(exc).__name__}: {exc}") from None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FetchError(f"GET {url}: not JSON") from None


def user_agent() -> str:
    from fabcom import __version__

    return f"fabcom/{__version__} (+{config.base_url()})"


# --- remote actors --------------------------------------------------------------------------


def _text(value: Any, limit: int) -> str:
    if isinstance(value, dict):  # a language map
        value = next(iter(value.values()), "")
    if not isinstance(value, str):
        return ""
    return nh3.clean(value, tags=set()).strip()[:limit]


def _uri(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("id") or value.get("href")
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else ""


def parse_actor(document: dict[str, Any], expected_uri: str) -> dict[str, Any]:
    """The fields we keep from an actor document, after checking it is the actor we asked
    for and that its key and inbox are its own."""
    uri = _uri(document.get("id"))
    if not uri or uri != expected_uri:
        raise FetchError(f"actor document {expected_uri} names another id {uri!r}")
    host = host_of(uri)
    inbox = _uri(document.get("inbox"))
    key = document.get("publicKey")
    if isinstance(key, list):
        key = next((k for k in key if isinstance(k, dict)), None)
    if not inbox or not isinstance(key, dict):
        raise FetchError(f"actor {uri} has no inbox or no publicKey")
    key_id = _uri(key.get("id"))
    pem = key.get("publicKeyPem")
    if not key_id or host_of(key_id) != host or _uri(key.get("owner")) != uri or not isinstance(pem, str):
        raise FetchError(f"actor {uri}: its publicKey is not its own")
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    shared = _uri(endpoints.get("sharedInbox")) if endpoints else ""
    for url in (inbox, shared, _uri(document.get("outbox"))):
        if url and host_of(url) != host:
            raise FetchError(f"actor {uri}: its inbox or outbox is on another host")
    return {
        "uri": uri,
        "host": host,
        "type": str(document.get("type", ""))[:40],
        "inbox": inbox,
        "shared_inbox": shared,
        "outbox": _uri(document.get("outbox")),
        "key_id": key_id,
        "public_key_pem": pem[:10_000],
        "username": _text(document.get("preferredUsername"), 60) or "actor",
        "name": _text(document.get("name"), 200),
        "summary": _text(document.get("summary"), 5000),
        "url": _uri(document.get("url")),
    }


def _strip_fragment(uri: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


async def fetch_actor(uri: str, *, refresh: bool = False) -> RemoteActor:
    """The remote actor ``uri``, from the cache while fresh, else fetched (signed by the
    application actor), checked and stored with its mirror organization."""
    existing = await RemoteActor.get_or_none(uri=uri)
    now = clock.now()
    if existing is not None:
        age = (now - existing.fetched_at).total_seconds()
        if (not refresh and age < ACTOR_FRESH_FOR_S) or (refresh and age < REFETCH_AFTER_S):
            return existing
    await _rate_limit(host_of(uri))
    fields = parse_actor(await signed_get(uri), uri)
    return await store_actor(fields)


async def store_actor(fields: dict[str, Any]) -> RemoteActor:
    organization = await _mirror_organization(fields)
    values = {k: fields[k] for k in ("host", "type", "inbox", "shared_inbox", "outbox", "key_id", "public_key_pem")}
    actor, created = await RemoteActor.get_or_create(
        uri=fields["uri"], defaults={**values, "organization_id": organization.id, "fetched_at": clock.now()}
    )
    if not created:
        await RemoteActor.filter(id=actor.id).update(**values, organization_id=organization.id, fetched_at=clock.now())
        await actor.refresh_from_db()
    return actor


def mirror_slug(username: str, host: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", f"{username}@{host}".lower().replace("@", "-at-"))[:64]
    if len(f"{username}@{host}") > 50:
        slug = slug[:47] + "-" + hashlib.sha256(f"{username}@{host}".encode()).hexdigest()[:16]
    return slug


async def _mirror_organization(fields: dict[str, Any]) -> Organization:
    values = {
        "name": fields["name"] or fields["username"],
        "description": fields["summary"],
        "website": fields["url"][:300],
    }
    org = await Organization.get_or_none(remote_uri=fields["uri"])
    if org is None:
        return await Organization.create(
            slug=mirror_slug(fields["username"], fields["host"]), is_local=False, remote_uri=fields["uri"], **values
        )
    if any(getattr(org, k) != v for k, v in values.items()):
        await Organization.filter(id=org.id).update(**values, updated_at=clock.now())
        await org.refresh_from_db()
    return org


async def fetch_key(key_id: str, refresh: bool) -> PublicKey:
    """The signature verifier's key fetcher: a remote actor's key by its id."""
    actor = await RemoteActor.filter(key_id=key_id).first()
    try:
        if actor is None:
            document_uri = _strip_fragment(key_id)
            actor = await RemoteActor.get_or_none(uri=document_uri)
            actor = await fetch_actor(document_uri, refresh=actor is not None)
        elif refresh:
            actor = await fetch_actor(actor.uri, refresh=True)
    except (FetchError, Refused) as exc:
        raise SignatureError("key_fetch_failed", str(exc)) from None
    if actor.key_id != key_id:
        raise SignatureError("unknown_key", key_id)
    return PublicKey(actor.key_id, actor.uri, actor.public_key_pem)


async def organization_of(actor: RemoteActor) -> Organization:
    return await Organization.get(id=actor.organization_id)  # type: ignore[attr-defined]
