"""The outbox collection: an organization's published activities, oldest first, in
keyset pages (``?page=true&after=<id>``). Anonymous readers see public activities; a
signed fetch by an accepted partner (``signed_partner``) also sees partner-only ones.
Direct activities are never listed."""

from __future__ import annotations

from typing import Any

import orjson
from tortoise.expressions import RawSQL

from fabcom.federation import config
from fabcom.federation.models import Audience, OutboxActivity
from fabcom.orgs.models import Organization

# Activities per page. Each page is one signed round trip and one batch upsert on the
# reader's side; fabcom's activities are ~2.5 kB, so a full page is ~5 MB, well under a
# reader's bound (catch-up reads up to 16 MiB a page).
PAGE_SIZE = 2000
# The stored JSON text of an activity, sent as it is (never decoded and encoded again).
_PAYLOAD_TEXT = RawSQL("CAST(payload AS TEXT)")


def outbox_url(org: Organization) -> str:
    return f"{config.org_actor_uri(org.slug)}/outbox"


async def collection(org: Organization, partner: bool) -> dict[str, Any]:
    audiences = [Audience.PUBLIC, Audience.PARTNERS] if partner else [Audience.PUBLIC]
    total = await OutboxActivity.filter(organization_id=org.id, audience__in=audiences).count()
    url = outbox_url(org)
    return {
        "@context": config.AS_CONTEXT,
        "id": url,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{url}?page=true",
    }


async def page(
    org: Organization, partner: bool, *, after: int | None = None, before: int | None = None, size: int | None = None
) -> dict[str, Any]:
    """One page: ``size`` activities after ``after`` (or the last ones before ``before``),
    with ``next``/``prev`` links whenever the page is not empty. The activities are the
    stored JSON texts as ``orjson.Fragment``s: one query, nothing decoded per row."""
    size = size or PAGE_SIZE
    audiences = [Audience.PUBLIC, Audience.PARTNERS] if partner else [Audience.PUBLIC]
    query = OutboxActivity.filter(organization_id=org.id, audience__in=audiences).annotate(text=_PAYLOAD_TEXT)
    if before is not None:
        rows = list(reversed(await query.filter(id__lt=before).order_by("-id").limit(size).values_list("id", "text")))
    else:
        rows = await query.filter(id__gt=after or 0).order_by("id").limit(size).values_list("id", "text")
    url = outbox_url(org)
    if before is not None:
        own = f"{url}?page=true&before={before}"
    elif after:
        own = f"{url}?page=true&after={after}"
    else:
        own = f"{url}?page=true"
    document: dict[str, Any] = {
        "@context": config.AS_CONTEXT,
        "id": own,
        "type": "OrderedCollectionPage",
        "partOf": url,
        "orderedItems": [orjson.Fragment(text) for _, text in rows],
    }
    if rows:
        document["next"] = f"{url}?page=true&after={rows[-1][0]}"
        document["prev"] = f"{url}?page=true&before={rows[0][0]}"
    return document
