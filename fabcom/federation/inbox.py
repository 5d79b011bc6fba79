"""Receiving activities: verify, store, answer 202; the work happens in a job.

``receive`` applies every rule before anything is written (see docs/federation.md,
"Inbox rules"): content type, size, JSON shape, the HTTP Signature, the activity's
actor being the signer, objects on the signer's host, the signer not blocked. A
message that passes is stored once (its activity id is unique: a replay or a second
delivery is answered 202 and has no second effect) with its ``process_inbox_message`` job.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.federation import config, remote
from fabcom.federation.handlers import Sender, dispatch
from fabcom.federation.models import InboxMessage, InboxStatus, RemoteActor
from fabcom.federation.signatures import SignatureError, verify
from fabcom.jobs.outbox import enqueue
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization

logger = logging.getLogger("fabcom.federation.inbox")

MAX_BODY_BYTES = 256 * 1024
# What only an accepted partner may send (objects, exchanges): from anyone else it is
# stored (answered 202 like any message) but ignored. Follow, Accept, Reject, Undo and
# Block are how partnerships start and end, so they come from anyone.
PARTNERS_ONLY = {"Create", "Update", "Delete", "Offer", "Announce", "Add", "Remove", "Move"}
ACCEPTED_TYPES = ("application/activity+json", "application/ld+json")


@dataclass
class Refusal(Exception):
    status: int
    reason: str

    def __str__(self) -> str:
        return f"{self.status} {self.reason}"


def _uri(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refusal(413, "too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refusal(413, "too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def check_content_type(value: str) -> None:
    media = value.split(";")[0].strip().lower()
    if media not in ACCEPTED_TYPES:
        raise Refusal(415, "content_type")
    if media == "application/ld+json" and "activitystreams" not in value:
        raise Refusal(415, "content_type")


def parse_activity(body: bytes) -> dict[str, Any]:
    try:
        activity = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Refusal(400, "malformed_json") from None
    if not isinstance(activity, dict):
        raise Refusal(400, "malformed_json")
    if not _uri(activity.get("id")) or not isinstance(activity.get("type"), str) or not _uri(activity.get("actor")):
        raise Refusal(400, "incomplete_activity")
    if len(activity["type"]) > 40 or len(_uri(activity["id"])) > 500:
        raise Refusal(400, "incomplete_activity")
    return activity


def check_origin(activity: dict[str, Any], signer: str) -> None:
    """The activity's actor is the signer, and what it carries comes from the signer's host
    (or is one of our own objects it refers to: our Follow it accepts, our agreement it
    moves on; handlers never let a sender overwrite what is not its own). Runs for every
    activity of a catch-up page: the signer's host and ours are read once, not per activity."""
    if _uri(activity["actor"]) != signer:
        raise Refusal(401, "actor_is_not_signer")
    host = _host_of(signer)
    if remote.host_of(_uri(activity["id"])) != host:
        raise Refusal(401, "activity_on_another_host")
    obj = activity.get("object")
    object_id = _uri(obj)
    inner_actor = _uri(obj.get("actor") or obj.get("attributedTo")) if isinstance(obj, dict) else ""
    named = object_id or inner_actor
    if not named:
        return
    named_host = remote.host_of(named)
    # ours: an id on our host, or (an activity quoted without its id) our actor's
    ours = named_host == _host_of(config.base_url())
    if object_id and named_host != host and not ours:
        raise Refusal(401, "object_on_another_host")
    if not ours and inner_actor and inner_actor != signer:
        raise Refusal(401, "object_of_another_actor")


@functools.lru_cache(maxsize=256)
def _host_of(uri: str) -> str:
    """``remote.host_of`` of the few ids asked again and again (signers, our base URL)."""
    return remote.host_of(uri)


async def is_blocked(remote_org_id: int, local_org: Organization | None) -> bool:
    links = Partnership.filter(
        Q(organization_id=remote_org_id) | Q(partner_id=remote_org_id), status=PartnershipStatus.BLOCKED
    )
    if local_org is not None:
        links = links.filter(Q(organization_id=local_org.id) | Q(partner_id=local_org.id))
    return await links.exists()


async def receive(request: Request, organization: Organization | None) -> InboxMessage | None:
    """Accept one POST to an inbox (``organization``'s, or the shared one when None).
    Returns the stored message, None for a duplicate; raises ``Refusal``."""
    check_content_type(request.headers.get("content-type", ""))
    body = await read_body(request)
    activity = parse_activity(body)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        verified = await verify("POST", target, headers, body, remote.fetch_key)
    except SignatureError as exc:
        logger.info("inbox refused a message from %s: %s", _uri(activity.get("actor")), exc)
        raise Refusal(401, exc.reason) from None
    check_origin(activity, verified.actor_uri)
    actor = await RemoteActor.get(uri=verified.actor_uri)
    if await is_blocked(actor.organization_id, organization):  # type: ignore[attr-defined]
        raise Refusal(403, "blocked")
    try:
        async with in_transaction():
            message = await InboxMessage.create(
                activity_uri=_uri(activity["id"]),
                type=activity["type"],
                actor_uri=verified.actor_uri,
                organization_id=organization.id if organization else None,
                payload=activity,
            )
            await enqueue("process_inbox_message", key=f"inbox:{message.id}", message_id=message.id)
    except IntegrityError:
        return None  # seen already: processed once
    return message


async def _is_partner(remote_org_id: int) -> bool:
    return await Partnership.filter(
        Q(organization_id=remote_org_id) | Q(partner_id=remote_org_id), status=PartnershipStatus.ACCEPTED
    ).exists()


async def process(message_id: int) -> InboxStatus | None:
    """Hand a stored message to its handler (``handlers.dispatch``); unknown types are
    ignored with a log line."""
    message = await InboxMessage.get_or_none(id=message_id)
    if message is None or message.status != InboxStatus.RECEIVED:
        return None
    actor = await RemoteActor.get(uri=message.actor_uri)
    sender = Sender(actor.uri, actor.organization_id)  # type: ignore[attr-defined]
    if message.type in PARTNERS_ONLY and not await _is_partner(sender.organization_id):
        logger.info("ignored a %s from %s: not a partner", message.type, message.actor_uri)
        handled = False
    else:
        handled = await dispatch(message.payload, sender)
    status = InboxStatus.PROCESSED if handled else InboxStatus.IGNORED
    if not handled:
        logger.info("ignored a %s from %s (%s): no handler", message.type, message.actor_uri, message.activity_uri)
    await InboxMessage.filter(id=message.id, status=InboxStatus.RECEIVED).update(
        status=status, processed_at=clock.now()
    )
    return status
