"""HTTP Signatures, draft-cavage-12, as Mastodon and Mobilizon sign and verify them.

A signed request carries ``Signature: keyId="…",algorithm="rsa-sha256",headers="(request-target)
host date digest",signature="…"`` and, with a body, ``Digest: SHA-256=<base64>``. The rules
fabcom verifies, each tested in tests/federation/test_signatures.py and test_inbox.py:

- the signed header list includes ``(request-target)``, ``host`` and ``date`` (and ``digest``
  when the request has a body); every listed header is present;
- ``Date`` is within ±300 seconds of our clock;
- the ``Digest`` is recomputed from the body and must match;
- the algorithm is ``rsa-sha256`` (or ``hs2019``, verified as RSA-SHA256);
- the key is fetched from its ``keyId`` (cached); when the cached key fails, it is fetched
  again once, so a rotated key is picked up.

``http-message-signatures`` does RFC 9421 only, the ``httpsig`` forks are unmaintained,
and ``apsig`` was a young 0.1.x package: hence this small module on ``cryptography``.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from fabcom import clock
from fabcom.federation.keys import SigningKey, load_private_key, load_public_key

MAX_SKEW = dt.timedelta(seconds=300)
REQUIRED = ("(request-target)", "host", "date")
ALGORITHMS = ("rsa-sha256", "hs2019")
_PARAM = re.compile(r'\s*([a-zA-Z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


class SignatureError(Exception):
    """A request whose signature cannot be accepted; ``reason`` is a stable short code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}{': ' + detail if detail else ''}")
        self.reason = reason


@dataclass(frozen=True)
class PublicKey:
    """A remote key as the verifier needs it: whose it is, and its PEM."""

    key_id: str
    owner: str
    public_key_pem: str


# (key id, refresh) -> the key; raises SignatureError("unknown_key") when it cannot be had.
KeyFetcher = Callable[[str, bool], Awaitable[PublicKey]]


@dataclass(frozen=True)
class Verified:
    key_id: str
    actor_uri: str


def digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(when: dt.datetime | None = None) -> str:
    return email.utils.format_datetime((when or clock.now()).astimezone(dt.UTC), usegmt=True)


def _signing_string(names: list[str], method: str, target: str, headers: Mapping[str, str]) -> str:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        else:
            lines.append(f"{name}: {headers[name]}")
    return "\n".join(lines)


def sign(
    key: SigningKey, method: str, url: str, body: bytes | None = None, *, content_type: str | None = None
) -> dict[str, str]:
    """The headers that sign a request to ``url``: Host, Date, (Digest, Content-Type) and Signature."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = {"host": parts.netloc, "date": http_date()}
    names = ["(request-target)", "host", "date"]
    if body is not None:
        headers["digest"] = digest(body)
        names.append("digest")
        if content_type:
            headers["content-type"] = content_type
            names.append("content-type")
    text = _signing_string(names, method, target, headers)
    signature = load_private_key(key.private_key_pem).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["signature"] = (
        f'keyId="{key.key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return headers


def parse_signature_header(value: str) -> dict[str, str]:
    if value.lower().startswith("signature "):  # the Authorization: Signature … form
        value = value[len("signature ") :]
    params = {name.lower(): content for name, content in _PARAM.findall(value)}
    for name in ("keyid", "signature"):
        if not params.get(name):
            raise SignatureError("malformed_signature", f"no {name}")
    return params


async def verify(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes | None,
    fetch_key: KeyFetcher,
    now: dt.datetime | None = None,
) -> Verified:
    """Check a received request's signature; ``target`` is its path with the query string,
    ``headers`` its headers with lower-case names. Raises ``SignatureError``."""
    raw = headers.get("signature") or headers.get("authorization", "")
    if not raw:
        raise SignatureError("unsigned")
    params = parse_signature_header(raw)
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ALGORITHMS:
        raise SignatureError("unsupported_algorithm", algorithm)
    names = params.get("headers", "date").lower().split()
    required = [*REQUIRED, "digest"] if body is not None else list(REQUIRED)
    missing = [name for name in required if name not in names]
    if missing:
        raise SignatureError("headers_not_signed", " ".join(missing))
    absent = [name for name in names if name != "(request-target)" and name not in headers]
    if absent:
        raise SignatureError("missing_header", " ".join(absent))
    try:
        sent = email.utils.parsedate_to_datetime(headers["date"])
    except (TypeError, ValueError):
        raise SignatureError("bad_date") from None
    if sent.tzinfo is None:
        raise SignatureError("bad_date")
    skew = sent - (now or clock.now())
    if skew > MAX_SKEW:
        raise SignatureError("date_in_future")
    if skew < -MAX_SKEW:
        raise SignatureError("expired")
    if body is not None:
        given = headers["digest"]
        algorithm_name, _, _ = given.partition("=")
        if algorithm_name.upper() != "SHA-256":
            raise SignatureError("unsupported_digest", algorithm_name)
        if given.split("=", 1)[1] != digest(body).split("=", 1)[1]:
            raise SignatureError("digest_mismatch")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except ValueError:
        raise SignatureError("malformed_signature", "not base64") from None
    text = _signing_string(names, method, target, headers).encode()
    key = await fetch_key(params["keyid"], False)
    if not _valid(key, signature, text):
        key = await fetch_key(params["keyid"], True)  # rotated key: fetched again, once
        if not _valid(key, signature, text):
            raise SignatureError("bad_signature")
    return Verified(key.key_id, key.owner)


def _valid(key: PublicKey, signature: bytes, text: bytes) -> bool:
    try:
        load_public_key(key.public_key_pem).verify(signature, text, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


async def signed_partner(request: Any, organization: Any) -> Any:
    """Authorized fetch: the accepted partner organization (its local mirror) that signed
    this GET request for ``organization``'s data, or None when the request is unsigned, its
    signature does not verify, or the signer is not an accepted partner. Routes that serve
    partner-only objects (the outbox, an object's id) call it and serve partner-only
    content only when it returns an organization."""
    from fabcom.federation import remote
    from fabcom.federation.models import RemoteActor
    from fabcom.network.services import are_partners

    headers = {k.lower(): v for k, v in request.headers.items()}
    if "signature" not in headers and not headers.get("authorization", "").lower().startswith("signature "):
        return None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        verified = await verify("GET", target, headers, None, remote.fetch_key)
    except SignatureError as exc:
        logging.getLogger("fabcom.federation").info("signed fetch refused: %s", exc)
        return None
    actor = await RemoteActor.get_or_none(uri=verified.actor_uri)
    if actor is None or actor.organization_id is None:  # type: ignore[attr-defined]
        return None
    if not await are_partners(organization.id, actor.organization_id):  # type: ignore[attr-defined]
        return None
    return await remote.organization_of(actor)
