"""Federation test helpers: fake remote servers ("peers") reached through an httpx
transport, each with its own RSA key, actor document, WebFinger, inbox and outbox; and
requests signed by hand. The fixtures ``fed_settings``, ``network`` and ``peer`` are
re-exported by tests/federation/conftest.py (import them in a module's conftest too)."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from fabcom import clock
from fabcom.federation import config, remote
from fabcom.federation.keys import SigningKey, generate_keypair, load_private_key
from fabcom.federation.signatures import digest, http_date
from fabcom.settings import Settings

_ids = itertools.count(1)


@lru_cache(maxsize=8)
def keypair(n: int) -> tuple[str, str]:
    """RSA keys are slow to make: a few, shared by the whole session."""
    return generate_keypair()


@dataclass
class Peer:
    """An organization on another server, as far as the tests need one."""

    host: str = "peer.example"
    slug: str = "peer"
    key_number: int = 1
    inbox_statuses: list[int] = field(default_factory=list)
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    outbox_pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetches: list[str] = field(default_factory=list)
    actor_status: int = 200
    shared_inbox: bool = True

    @property
    def uri(self) -> str:
        return f"https://{self.host}/ap/o/{self.slug}"

    @property
    def key(self) -> SigningKey:
        private, public = keypair(self.key_number)
        return SigningKey(f"{self.uri}#main-key", private, public)

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    def actor_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.uri,
            "type": "Group",
            "preferredUsername": self.slug,
            "name": f"Peer {self.slug} <script>x</script>",
            "summary": "<p>Un <b>atelier</b></p>",
            "inbox": self.inbox,
            "outbox": f"{self.uri}/outbox",
            "publicKey": {"id": self.key.key_id, "owner": self.uri, "publicKeyPem": self.key.public_key_pem},
        }
        if self.shared_inbox:
            doc["endpoints"] = {"sharedInbox": f"https://{self.host}/ap/inbox"}
        return doc

    def activity(self, type_: str = "Follow", obj: Any = None, **extra: Any) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"https://{self.host}/ap/activities/{next(_ids)}",
            "type": type_,
            "actor": self.uri,
            "object": obj,
            **extra,
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.fetches.append(f"{request.method} {url}")
        if request.method == "POST":
            self.received.append((url, {k.lower(): v for k, v in request.headers.items()}, request.content))
            status = self.inbox_statuses.pop(0) if self.inbox_statuses else 202
            return httpx.Response(status)
        if request.url.path == "/.well-known/webfinger":
            return httpx.Response(
                200,
                json={
                    "subject": f"acct:{self.slug}@{self.host}",
                    "links": [{"rel": "self", "type": "application/activity+json", "href": self.uri}],
                },
            )
        if url.split("#")[0] == self.uri:
            if self.actor_status != 200:
                return httpx.Response(self.actor_status)
            return httpx.Response(200, json=self.actor_document())
        if url in self.outbox_pages:
            return httpx.Response(200, json=self.outbox_pages[url])
        return httpx.Response(404)

    def posted(self) -> list[dict[str, Any]]:
        return [orjson.loads(body) for _, _, body in self.received]


class Network:
    """Routes outgoing requests to the peers by host (and, on a shared host, by actor
    path; the host's first peer takes its shared inbox); anything else is unreachable."""

    def __init__(self) -> None:
        self.peers: list[Peer] = []

    def add(self, peer: Peer) -> Peer:
        self.peers.append(peer)
        return peer

    def handle(self, request: httpx.Request) -> httpx.Response:
        here = [p for p in self.peers if p.host == request.url.host]
        if not here:
            raise httpx.ConnectError("unreachable", request=request)
        url = str(request.url)
        peer = next(
            (p for p in here if url == p.uri or url.startswith(p.uri + "/") or url.startswith(p.uri + "#")), here[0]
        )
        return peer.handle(request)


@pytest.fixture
def fed_settings(db: Settings, app: Any) -> Iterator[Settings]:
    """Federation reads these settings (fetches to test hosts allowed, as the app was built)."""
    settings = db.model_copy(update={"federation_allow_private_addresses": True})
    config.use(settings)
    yield settings
    config.use(None)


@pytest.fixture
def network(fed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Network]:
    net = Network()
    monkeypatch.setattr(remote, "transport", httpx.MockTransport(net.handle))
    remote.reset_client()
    yield net
    remote.reset_client()


@pytest.fixture
def peer(network: Network) -> Peer:
    return network.add(Peer())


def sign_request(
    key: SigningKey,
    method: str,
    url: str,
    body: bytes | None,
    *,
    names: list[str] | None = None,
    date: dt.datetime | None = None,
    content_type: str = "application/activity+json",
    algorithm: str = "rsa-sha256",
) -> dict[str, str]:
    """Headers of a request signed by hand (independently of fabcom's ``sign``), with
    every knob a negative test needs."""
    parts = httpx.URL(url)
    target = parts.raw_path.decode()
    headers = {"host": parts.netloc.decode(), "date": http_date(date or clock.now())}
    if body is not None:
        headers["digest"] = digest(body)
        headers["content-type"] = content_type
    names = names or (["(request-target)", "host", "date"] + (["digest", "content-type"] if body is not None else []))
    lines = [
        f"(request-target): {method.lower()} {target}" if n == "(request-target)" else f"{n}: {headers[n]}"
        for n in names
    ]
    signature = load_private_key(key.private_key_pem).sign(
        "\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    headers["signature"] = (
        f'keyId="{key.key_id}",algorithm="{algorithm}",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return headers
