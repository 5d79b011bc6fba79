"""Partnerships over ActivityPub: ``Follow`` / ``Accept`` / ``Reject`` / ``Undo`` / ``Block``.

A fabcom partnership is mutual, an ActivityPub follow is not; so when an organization
accepts a remote request it sends ``Accept`` and follows back, and the requester, already
partner, accepts that ``Follow`` at once. The core network service calls
``partnership_requested`` and ``partnership_answered`` inside its transaction; the
handlers below apply what partners send, through the same ``Partnership`` rows, audited
as the instance (the remote staff are not users here).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import nh3
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.federation import config
from fabcom.federation.actors import local_organization
from fabcom.federation.handlers import Activity, Sender, handles
from fabcom.federation.models import Audience, InboxMessage, OutboxActivity
from fabcom.federation.publish import publish
from fabcom.i18n import N_
from fabcom.jobs.outbox import enqueue
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.notifications.messages import KINDS, Kind
from fabcom.orgs.models import Organization
from fabcom.permissions import system_principal

logger = logging.getLogger("fabcom.federation.partnerships")

KINDS["partnership.requested"] = Kind(
    N_("Partnership request from {organization}"),
    N_("{organization} asks to become partners. Answer it on the partners page."),
)


def _uri(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def activity_id() -> str:
    return f"{config.base_url()}/ap/activities/{uuid.uuid4().hex}"


def follow(local: Organization, remote_uri: str, message: str = "") -> dict[str, Any]:
    activity: dict[str, Any] = {
        "@context": config.AS_CONTEXT,
        "id": activity_id(),
        "type": "Follow",
        "actor": config.org_actor_uri(local.slug),
        "object": remote_uri,
    }
    if message:
        activity["content"] = message
    return activity


def answer(kind: str, local: Organization, remote_uri: str, follow_activity: dict[str, Any]) -> dict[str, Any]:
    """``Accept`` or ``Reject`` of a remote organization's Follow of ``local``."""
    return {
        "@context": config.AS_CONTEXT,
        "id": activity_id(),
        "type": kind,
        "actor": config.org_actor_uri(local.slug),
        "object": follow_activity,
        "to": [remote_uri],
    }


def block(local: Organization, remote_uri: str) -> dict[str, Any]:
    return {
        "@context": config.AS_CONTEXT,
        "id": activity_id(),
        "type": "Block",
        "actor": config.org_actor_uri(local.slug),
        "object": remote_uri,
        "to": [remote_uri],
    }


async def _their_follow(remote_uri: str, local: Organization) -> dict[str, Any]:
    """The Follow the remote organization sent us, as received (or its shape when lost)."""
    local_uri = config.org_actor_uri(local.slug)
    for message in await InboxMessage.filter(actor_uri=remote_uri, type="Follow").order_by("-id").limit(20):
        if _uri(message.payload.get("object")) == local_uri:
            return {k: message.payload[k] for k in ("id", "type", "actor", "object") if k in message.payload}
    return {"type": "Follow", "actor": remote_uri, "object": local_uri}


async def _sides(link: Partnership) -> tuple[Organization, Organization]:
    return await Organization.get(id=link.organization_id), await Organization.get(id=link.partner_id)  # type: ignore[attr-defined]


async def partnership_requested(link: Partnership, message: str = "") -> None:
    """Called in ``request_partnership``'s transaction: a request to a remote organization
    leaves as a Follow."""
    local, partner = await _sides(link)
    if partner.is_local or not partner.remote_uri:
        return
    await publish(
        local.id, follow(local, partner.remote_uri, message), audience=Audience.DIRECT, recipients=[partner.remote_uri]
    )


async def partnership_answered(link: Partnership, response: str) -> None:
    """Called in ``respond_partnership``'s transaction, after the row changed."""
    requester, asked = await _sides(link)
    if requester.is_local == asked.is_local:
        return  # both here (nothing to send) or both remote (cannot happen)
    local, other = (asked, requester) if asked.is_local else (requester, asked)
    remote_uri = other.remote_uri or ""
    if response == "block":
        await publish(local.id, block(local, remote_uri), audience=Audience.DIRECT, recipients=[remote_uri])
        await partnership_ended(other.id)
        return
    if not asked.is_local:
        return
    their_follow = await _their_follow(remote_uri, local)
    kind = "Accept" if response == "accept" else "Reject"
    await publish(
        local.id, answer(kind, local, remote_uri, their_follow), audience=Audience.DIRECT, recipients=[remote_uri]
    )
    if response == "accept":
        # Mutual: follow back (the requester accepts it at once), and read what they share.
        await publish(local.id, follow(local, remote_uri), audience=Audience.DIRECT, recipients=[remote_uri])
        await enqueue("catch_up_partner", partner_org_id=other.id)


async def _set_status(link: Partnership, status: PartnershipStatus, action: str, local_id: int) -> None:
    before = snapshot(link)
    await Partnership.filter(id=link.id).update(status=status, responded_at=clock.now(), updated_at=clock.now())
    await link.refresh_from_db()
    await record(system_principal(), action, link, organization_id=local_id, before=before, after=snapshot(link))
    if before["status"] == PartnershipStatus.ACCEPTED.value and status != PartnershipStatus.ACCEPTED:
        other_id: int = link.organization_id if link.partner_id == local_id else link.partner_id  # type: ignore[attr-defined]
        await partnership_ended(other_id)


async def partnership_ended(remote_org_id: int) -> None:
    """A remote organization is no longer a partner: unless another of our organizations
    is still its partner, forget what it shared and read its outbox from the start if it
    becomes a partner again. Call it in the transaction that ends the partnership."""
    from fabcom.federation.mirror import purge_partner
    from fabcom.federation.models import RemoteActor

    remote_org = await Organization.get_or_none(id=remote_org_id, is_local=False)
    if remote_org is None or await _still_partner(remote_org_id):
        return
    await purge_partner(remote_org_id)
    await RemoteActor.filter(organization_id=remote_org_id).update(catch_up_next="")


async def _still_partner(remote_org_id: int) -> bool:
    from tortoise.expressions import Q

    return await Partnership.filter(
        Q(organization_id=remote_org_id) | Q(partner_id=remote_org_id), status=PartnershipStatus.ACCEPTED
    ).exists()


async def _link(a: int, b: int) -> Partnership | None:
    from fabcom.network.services import partnership_between

    return await partnership_between(a, b)


@handles("Follow")
async def on_follow(activity: Activity, sender: Sender) -> bool:
    """A remote organization asks ours to become partners (or follows back after accepting)."""
    local = await local_organization(_uri(activity.get("object")))
    if local is None:
        return False
    message = nh3.clean(str(activity.get("content") or ""), tags=set())[:500]
    async with in_transaction():
        link = await _link(local.id, sender.organization_id)
        if link is None or link.status == PartnershipStatus.REFUSED:
            if link is not None:
                await link.delete()
            link = await Partnership.create(
                organization_id=sender.organization_id, partner_id=local.id, message=message
            )
            await record(
                system_principal(), "partnership.request", link, organization_id=local.id, after=snapshot(link)
            )
            await _notify_request(local, sender)
            return True
        if link.status == PartnershipStatus.BLOCKED:
            return True
        if link.status == PartnershipStatus.REQUESTED and link.organization_id == sender.organization_id:  # type: ignore[attr-defined]
            return True  # the same request again
        if link.status == PartnershipStatus.REQUESTED:
            # We had asked them: their Follow is a yes.
            await _set_status(link, PartnershipStatus.ACCEPTED, "partnership.accept", local.id)
            await enqueue("catch_up_partner", partner_org_id=sender.organization_id)
        reply = answer(
            "Accept",
            local,
            sender.actor_uri,
            {k: activity[k] for k in ("id", "type", "actor", "object") if k in activity},
        )
        await publish(local.id, reply, audience=Audience.DIRECT, recipients=[sender.actor_uri])
    return True


async def _notify_request(local: Organization, sender: Sender) -> None:
    try:
        from fabcom.notifications.services import notify, staff_of

        other = await Organization.get(id=sender.organization_id)
        await notify(
            await staff_of(local.id),
            "partnership.requested",
            {"organization": other.name},
            organization_id=local.id,
            url=f"/o/{local.slug}/partners",
        )
    except Exception:  # a notification must not lose the request
        logger.exception("could not notify %s of a partnership request", local.slug)


async def _our_follow(activity: Activity, sender: Sender) -> Organization | None:
    """The local organization whose Follow of ``sender`` this Accept/Reject answers."""
    obj = activity.get("object")
    if isinstance(obj, dict):
        if obj.get("type") != "Follow" or _uri(obj.get("object")) != sender.actor_uri:
            return None
        return await local_organization(_uri(obj.get("actor")))
    sent = await OutboxActivity.get_or_none(activity_uri=_uri(obj), type="Follow")
    if sent is None:
        return None
    return await Organization.get(id=sent.organization_id)  # type: ignore[attr-defined]


@handles("Accept")
async def on_accept(activity: Activity, sender: Sender) -> bool:
    local = await _our_follow(activity, sender)
    if local is None:
        return False
    async with in_transaction():
        link = await _link(local.id, sender.organization_id)
        if link is not None and link.status == PartnershipStatus.REQUESTED:
            await _set_status(link, PartnershipStatus.ACCEPTED, "partnership.accept", local.id)
            await enqueue("catch_up_partner", partner_org_id=sender.organization_id)
    return True


@handles("Reject")
async def on_reject(activity: Activity, sender: Sender) -> bool:
    local = await _our_follow(activity, sender)
    if local is None:
        return False
    async with in_transaction():
        link = await _link(local.id, sender.organization_id)
        if link is not None and link.status in (PartnershipStatus.REQUESTED, PartnershipStatus.ACCEPTED):
            await _set_status(link, PartnershipStatus.REFUSED, "partnership.refuse", local.id)
    return True


@handles("Undo")
async def on_undo(activity: Activity, sender: Sender) -> bool:
    """Undo(Follow): the remote organization ends the partnership (or withdraws its request)."""
    obj = activity.get("object")
    if not isinstance(obj, dict) or obj.get("type") != "Follow" or _uri(obj.get("actor")) != sender.actor_uri:
        return False
    local = await local_organization(_uri(obj.get("object")))
    if local is None:
        return False
    async with in_transaction():
        link = await _link(local.id, sender.organization_id)
        if link is not None and link.status in (PartnershipStatus.REQUESTED, PartnershipStatus.ACCEPTED):
            await _set_status(link, PartnershipStatus.REFUSED, "partnership.end", local.id)
    return True


@handles("Block")
async def on_block(activity: Activity, sender: Sender) -> bool:
    local = await local_organization(_uri(activity.get("object")))
    if local is None:
        return False
    async with in_transaction():
        link = await _link(local.id, sender.organization_id)
        if link is None:
            link = await Partnership.create(
                organization_id=sender.organization_id, partner_id=local.id, status=PartnershipStatus.BLOCKED
            )
            await record(system_principal(), "partnership.block", link, organization_id=local.id, after=snapshot(link))
        elif link.status != PartnershipStatus.BLOCKED:
            await _set_status(link, PartnershipStatus.BLOCKED, "partnership.block", local.id)
    return True
