"""Catching up with a partner: page through its outbox after the last page we read and
apply each page as ``handlers.dispatch_batch`` would (one batch statement per page for
types with a batch handler), checking the next page while the previous one is written.
Runs when a partnership is accepted and periodically
(``reconcile_partners``), which also covers a partner, or this instance, coming back
after being down."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from tortoise.expressions import Q

from fabcom import clock
from fabcom.collector import collector_paused
from fabcom.federation import remote
from fabcom.federation.handlers import Activity, Sender, apply_batch, prepare_batch
from fabcom.federation.inbox import Refusal, check_origin
from fabcom.federation.keys import SigningKey, organization_key
from fabcom.federation.models import RemoteActor
from fabcom.jobs.execution import TransientError
from fabcom.jobs.outbox import enqueue, enqueue_once
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization

logger = logging.getLogger("fabcom.federation.catchup")

MAX_PAGES_PER_RUN = 200
MAX_PAGE_BYTES = 16 * 1024 * 1024


async def _partnership(partner_org_id: int) -> tuple[Organization, Organization] | None:
    """The remote organization and the local one it is an accepted partner of (one
    query), or None when it is not (or no longer) a partner."""
    link = (
        await Partnership.filter(
            Q(organization_id=partner_org_id, organization__is_local=False, partner__is_local=True)
            | Q(partner_id=partner_org_id, partner__is_local=False, organization__is_local=True),
            status=PartnershipStatus.ACCEPTED,
        )
        .select_related("organization", "partner")
        .first()
    )
    if link is None:
        return None
    if link.organization_id == partner_org_id:  # type: ignore[attr-defined]
        return link.organization, link.partner
    return link.partner, link.organization


def _same_host(url: str, actor: RemoteActor) -> bool:
    return urlsplit(url).netloc.lower() == actor.host and urlsplit(url).scheme in ("http", "https")


async def _read_page(url: str, key: SigningKey) -> dict[str, Any]:
    try:
        return await remote.signed_get(url, key, limit=MAX_PAGE_BYTES)
    except remote.FetchError as exc:
        raise TransientError(str(exc)) from None


def _own_activities(page: dict[str, Any], actor: RemoteActor) -> list[Activity]:
    """The page's activities that are the partner's own (its actor, on its host); the
    others are logged and skipped."""
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
    return items


def _first_page(collection: dict[str, Any]) -> str:
    first = collection.get("first")
    if isinstance(first, dict):
        first = first.get("id")
    return first if isinstance(first, str) else ""


async def catch_up(partner_org_id: int, *, max_pages: int = MAX_PAGES_PER_RUN) -> int:
    """Read the partner's outbox pages we have not read yet; returns the number of
    activities applied. The position is saved after each page, so a failure resumes.
    The next page is read while the current one is written (the partner serving it and
    this process validating and writing overlap)."""
    found = await _partnership(partner_org_id)
    if found is None:
        return 0  # not (or no longer) a partner
    partner, local = found
    if not partner.remote_uri:
        return 0
    try:
        actor = await remote.fetch_actor(partner.remote_uri)
    except remote.FetchError as exc:
        raise TransientError(str(exc)) from None
    key = await organization_key(local.id, local.slug)
    sender = Sender(actor.uri, partner.id)

    def start_reading(url: str) -> asyncio.Task[dict[str, Any]] | None:
        """Start reading the page at ``url``; None when there is none to read (only the
        partner's own host is ever asked)."""
        if not url or not _same_host(url, actor):
            return None
        return asyncio.ensure_future(_read_page(url, key))

    reading = start_reading(actor.catch_up_next or (f"{actor.outbox}?page=true" if actor.outbox else ""))
    # The previous page's write, still in flight, and the position to save once it is done.
    writing: tuple[asyncio.Future[None], str] | None = None

    async def written() -> None:
        nonlocal writing
        if writing is not None:
            task, position = writing
            writing = None
            await task
            if position:
                await RemoteActor.filter(id=actor.id).update(catch_up_next=position)

    applied = pages = 0
    try:
        while reading is not None and pages < max_pages:
            page = await reading
            reading = None
            pages += 1
            if page.get("type") == "OrderedCollection":  # a collection: start at its first page
                reading = start_reading(_first_page(page))
                continue
            with collector_paused():
                items = _own_activities(page, actor)
            following = page.get("next")
            if not isinstance(following, str):
                following = ""
            more = bool(items) and bool(following) and _same_host(following, actor)
            if more and pages < max_pages:
                reading = start_reading(following)
            # This page is checked while the previous one is still being written, and
            # written after it: every change keeps its order.
            runs = prepare_batch(items, sender)
            await written()
            if items:
                writing = (asyncio.ensure_future(apply_batch(runs)), following if more else "")
                applied += len(items)
            if not more:
                break
        await written()
    finally:
        if reading is not None:  # this page failed: the next one is not wanted
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
        if writing is not None:  # a later page failed first: this one ends, its position unsaved
            await asyncio.gather(writing[0], return_exceptions=True)
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
