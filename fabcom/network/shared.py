"""What the partners share with an organization, as its network page lists it: partners
on this site are read in place (their own tables: a local partner has no mirror), partners
on other servers from the mirror, and both halves are merged into one list."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any, Protocol

from fabcom.federation.network import NetworkFilter, partner_ids, search_words
from fabcom.i18n import fold
from fabcom.inventory.models import Item, Visibility
from fabcom.orgs.models import Organization
from fabcom.permissions import Principal
from fabcom.projects.models import Project


class Titled(Protocol):
    title: str


def sort_key(title: str) -> str:
    """Alphabetical the way people read it: « Écran » among the E, not after Z."""
    return unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().casefold()


def by_title(local: Iterable[Titled], remote: Iterable[Titled]) -> list[tuple[str, Any]]:
    """The rows of partners on this site and on other servers in one alphabetical list of
    ``("local" | "remote", row)``: the one way the network page shows items and projects."""
    pairs = [("local", row) for row in local] + [("remote", row) for row in remote]
    return sorted(pairs, key=lambda pair: (sort_key(pair[1].title), pair[0]))


async def local_partner_projects(
    principal: Principal, organization_id: int, flt: NetworkFilter, *, limit: int = 20
) -> list[Project]:
    """The projects that accepted partners *on this site* share with ``organization_id``
    (visible to partners or public), as ``local_partner_items`` is for their items."""
    ids = await partner_ids(principal, [organization_id])
    local = await Organization.filter(id__in=ids or [0], is_local=True).values_list("id", flat=True)
    if not local:
        return []
    queryset = Project.filter(
        lead_organization_id__in=list(local), visibility__in=[Visibility.PARTNERS, Visibility.PUBLIC]
    ).filter(principal.visibility_filter("projects", "lead_organization_id"))
    if flt.search:
        # Every word, in the title or the summary, accents and case ignored: the words and
        # the text are folded as the mirror's search text is. A project has no folded column
        # (and SQLite folds no accents in SQL), so the few projects partners share are
        # folded here, then the page is read by id.
        words = search_words(flt.search)
        rows = await queryset.values_list("id", "title", "summary")
        found = [pk for pk, title, summary in rows if all(w in fold(f"{title} {summary}") for w in words)]
        queryset = queryset.filter(id__in=found or [0])
    if flt.organization:
        queryset = queryset.filter(lead_organization__slug=flt.organization)
    return await queryset.order_by("title", "id").limit(limit).prefetch_related("lead_organization")


async def local_partner_item(principal: Principal, organization_id: int, item_id: str | int) -> Item | None:
    """One item a partner *on this site* shares with ``organization_id``, as a row of the
    network search shows it, read again after a request for it: whatever its stock now
    (the row then says what the request did), None once it is no longer shared."""
    if not str(item_id).isdigit():
        return None
    ids = await partner_ids(principal, [organization_id])
    return (
        await Item.filter(
            id=int(item_id),
            organization_id__in=ids or [0],
            organization__is_local=True,
            deleted_at__isnull=True,
            visibility__in=[Visibility.PARTNERS, Visibility.PUBLIC],
        )
        .filter(principal.visibility_filter("inventory"))
        .prefetch_related("organization", "category")
        .first()
    )
