"""Delivering published activities: one ``deliver_activity`` job per recipient inbox.

``fan_out`` decides where an activity goes: public and partner-only activities go to
the organization's accepted partners on other servers (their shared inbox when they
offer one, so one server gets one copy); direct activities go to their ``recipients``.
Each inbox gets a job keyed by (activity, inbox): running the fan-out again never
queues a second delivery. ``deliver`` signs and POSTs; a 2xx is done; 5xx, 408, 429 and
network errors are tried again by the jobs layer; any other answer is final.
"""

from __future__ import annotations

import hashlib
import logging

import httpx
import orjson
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from fabcom.federation import remote
from fabcom.federation.keys import organization_key
from fabcom.federation.models import Audience, OutboxActivity, RemoteActor
from fabcom.jobs.execution import HTTPStatusFailure, PermanentError, TransientError
from fabcom.jobs.outbox import enqueue
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization

logger = logging.getLogger("fabcom.federation.delivery")


async def partner_actors(organization_id: int) -> list[RemoteActor]:
    """The remote actors of the organization's accepted partners."""
    links = await Partnership.filter(
        Q(organization_id=organization_id) | Q(partner_id=organization_id), status=PartnershipStatus.ACCEPTED
    ).values_list("organization_id", "partner_id")
    others = {b if a == organization_id else a for a, b in links}
    if not others:
        return []
    uris = await Organization.filter(id__in=others, is_local=False).values_list("remote_uri", flat=True)
    return await RemoteActor.filter(uri__in=[u for u in uris if u])


def delivery_key(activity_pk: int, inbox: str) -> str:
    return f"deliver_activity:{activity_pk}:{hashlib.sha256(inbox.encode()).hexdigest()[:24]}"


async def inboxes_for(row: OutboxActivity) -> list[str]:
    if row.audience == Audience.DIRECT:
        inboxes = []
        for uri in row.recipients:
            try:
                actor = await remote.fetch_actor(uri)
            except remote.Refused as exc:
                logger.warning("activity %s: recipient %s refused: %s", row.activity_uri, uri, exc)
                continue
            except remote.FetchError as exc:
                raise TransientError(f"recipient {uri}: {exc}") from None
            inboxes.append(actor.inbox)
        return sorted(set(inboxes))
    return sorted({actor.shared_inbox or actor.inbox for actor in await partner_actors(row.organization_id)})  # type: ignore[attr-defined]


async def fan_out(activity_pk: int) -> int:
    """Queue one delivery per recipient inbox; returns how many inboxes."""
    row = await OutboxActivity.get_or_none(id=activity_pk)
    if row is None:
        return 0
    inboxes = await inboxes_for(row)
    async with in_transaction():
        for inbox in inboxes:
            await enqueue("deliver_activity", key=delivery_key(row.id, inbox), activity_pk=row.id, inbox=inbox)
    return len(inboxes)


async def still_allowed(row: OutboxActivity, inbox: str) -> bool:
    """A partner-only activity goes only to an inbox of a still accepted partner (the
    partnership may have ended between the fan-out and this try)."""
    if row.audience == Audience.DIRECT:
        return True
    owners = await RemoteActor.filter(Q(inbox=inbox) | Q(shared_inbox=inbox)).values_list("uri", flat=True)
    partners = Organization.filter(remote_uri__in=list(owners), is_local=False).values_list("id", flat=True)
    organization_id: int = row.organization_id  # type: ignore[attr-defined]
    ids = list(await partners)
    return (
        bool(ids)
        and await Partnership.filter(
            Q(organization_id=organization_id, partner_id__in=ids)
            | Q(partner_id=organization_id, organization_id__in=ids),
            status=PartnershipStatus.ACCEPTED,
        ).exists()
    )


async def deliver(activity_pk: int, inbox: str, http: httpx.AsyncClient | None = None) -> None:
    row = await OutboxActivity.get_or_none(id=activity_pk).select_related("organization")
    if row is None:
        return
    if not await still_allowed(row, inbox):
        logger.info("activity %s not delivered to %s: no longer a partner", row.activity_uri, inbox)
        return
    org = row.organization
    key = await organization_key(org.id, org.slug)
    body = orjson.dumps(row.payload)
    try:
        response = await remote.signed_post(inbox, body, key, http=http)
    except remote.Refused as exc:
        raise PermanentError(str(exc)) from None
    except remote.FetchError as exc:
        raise TransientError(str(exc)) from None
    if not response.is_success:
        raise HTTPStatusFailure(response.status_code)
