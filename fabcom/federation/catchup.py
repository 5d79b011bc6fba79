"""Catching up with a partner: page through its outbox after the last page we read and
apply each page with ``handlers.dispatch_batch`` (one batch statement per page for types
with a batch handler). Runs when a partnership is accepted and periodically
(``reconcile_partners``), which also covers a partner, or this instance, coming back
after being down."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from tortoise.expressions import Q

from fabcom import clock
from fabcom.federation import remote
from fabcom.federation.handlers import Sender, dispatch_batch
from fabcom.federation.inbox import Refusal, check_origin
from fabcom.federation.keys import organization_key
from fabcom.federation.models import RemoteActor
from fabcom.jobs.execution import TransientError
from fabcom.jobs.outbox import enqueue, enqueue_once
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization

logger = logging.getLogger("fabcom.federation.catchup")

MAX_PAGES_PER_RUN = 200
MAX_PAGE_BYTES = 16 * 1024 * 1024


async def _local_partner_of(partner_org_id: int) -> Organization | None:
    link = await Partnership.filter(
        Q(organization_id=partner_org_id) | Q(partner_id=partner_org_id), status=PartnershipStatus.ACCEPTED
    ).first()
    if link is None:
        return None
    local_id = link.partner_id if link.organization_id == partner_org_id else link.organization_id  # type: ignore[attr-defined]
    return await Organization.get_or_none(id=local_id, is_local=True)


def _same_host(url: str, actor: RemoteActor) -> bool:
    return urlsplit(url).netloc.lower() == actor.host and urlsplit(url).scheme in ("http", "https")


async def catch_up(partner_org_id: int, *, max_pages: int = MAX_PAGES_PER_RUN) -> int:
    """Read the partner's outbox pages we have not read yet; returns the number of
    activities applied. The position is saved after each page, so a failure resumes."""
    partner = await Organization.get_or_none(id=partner_org_id, is_local=False)
    if partner is None or not partner.remote_uri:
        return 0
    local = await _local_partner_of(partner.id)
    if local is None:
        return 0  # not (or no longer) a partner
    try:
        actor = await remote.fetch_actor(partner.remote_uri)
    except remote.FetchError as exc:
        raise TransientError(str(exc)) from None
    key = await organization_key(local.id, local.slug)
    url = actor.catch_up_next or (f"{actor.outbox}?page=true" if actor.outbox else "")
    sender = Sender(actor.uri, partner.id)
    applied = 0
    for _ in range(max_pages):
        if not url or not _same_host(url, actor):
            break
        try:
            page = await remote.signed_get(url, key, limit=MAX_PAGE_BYTES)
        except remote.FetchError as exc:
            raise TransientError(str(exc)) from None
        if page.get("type") == "OrderedCollection":  # a collection: start at its first page
            first = page.get("first")
            url = first if isinstance(first, str) else (first or {}).get("id", "") if isinstance(first, dict) else ""
            continue
        raw = page.get("orderedItems") or page.get("items") or []
        items = []
        for activity in raw if isinstance(raw, list) else []:
            if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
                continue
            try:
                check_origin(activity, actor.uri)
            except (Refusal, KeyError):
                logger.info("catch-up from %s: skipped an activity not its own", actor.uri)
                continue
            items.append(activity)
        if items:
            await dispatch_batch(items, sender)
            applied += len(items)
        following = page.get("next")
        if not items or not isinstance(following, str):
            break
        url = following
        await RemoteActor.filter(id=actor.id).update(catch_up_next=url)
    await RemoteActor.filter(id=actor.id).update(caught_up_at=clock.now())
    return applied


async def reconcile() -> int:
    """Queue a catch-up for every accepted remote partner; returns how many."""
    links = await Partnership.filter(status=PartnershipStatus.ACCEPTED).values_list("organization_id", "partner_id")
    ids = {i for pair in links for i in pair}
    remote_ids = await Organization.filter(id__in=ids, is_local=False).values_list("id", flat=True)
    for partner_id in remote_ids:
        await enqueue("catch_up_partner", partner_org_id=partner_id)
    return len(remote_ids)


async def catch_up_on_start() -> None:
    """An instance coming back (after a restart or an outage) catches up with its partners
    at once rather than at the next reconciliation; processes started in the same minute
    queue it once."""
    await enqueue_once("reconcile_partners", key=f"reconcile_partners:start:{clock.now():%Y%m%dT%H%M}")
