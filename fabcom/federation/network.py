"""Network search: the partners' shared items, read from the local mirror (fast, and
available while a partner is down). Mirror rows are never editable locally."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from fabcom.federation.mirror_models import MirrorItem, MirrorProject
from fabcom.gql.search import matching_items
from fabcom.i18n import fold
from fabcom.inventory.models import Category, Item, ItemStatus, Visibility
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.permissions import Action, Principal


@dataclass(frozen=True)
class NetworkFilter:
    search: str | None = None  # every word must appear in the title or the text
    category_code: str | None = None  # this category or one below it in the shared taxonomy
    organization: str | None = None  # a partner's slug
    in_stock: bool | None = None  # True: quantity above zero; False: none left (items only)


def search_words(text: str) -> list[str]:
    """The words of a network search, folded as the rows they are looked for in (« Vélo »
    is « velo »): each must be contained in a row's folded text. The first ten count."""
    return fold(text).split()[:10]


async def partner_ids(principal: Principal, organization_ids: list[int] | None = None) -> list[int]:
    """The accepted partners of the organizations (all of the principal's by default)
    where ``principal`` may read the network."""
    mine = [o for o in (organization_ids or list(principal.roles)) if principal.can(Action.NETWORK_READ, o)]
    if not mine:
        return []
    links = await Partnership.filter(
        Q(organization_id__in=mine) | Q(partner_id__in=mine), status=PartnershipStatus.ACCEPTED
    ).values_list("organization_id", "partner_id")
    return sorted({b if a in mine else a for a, b in links} - set(mine))


async def category_codes(code: str) -> list[str]:
    """The category and the ones below it (the taxonomy is the same on every site)."""
    rows = await Category.all().values_list("id", "code", "parent_id")
    ids = {code_: id_ for id_, code_, _parent in rows}
    if code not in ids:
        return []
    children: dict[int | None, list[tuple[int, str]]] = {}
    for id_, code_, parent in rows:
        children.setdefault(parent, []).append((id_, code_))
    found, todo = [], [(ids[code], code)]
    while todo:
        current, current_code = todo.pop()
        found.append(current_code)
        todo.extend(children.get(current, []))
    return found


async def network_queryset(
    principal: Principal, flt: NetworkFilter | None = None, organization_ids: list[int] | None = None
) -> QuerySet[MirrorItem]:
    """Mirrored items of the accepted partners, filtered."""
    queryset = MirrorItem.filter(organization_id__in=await partner_ids(principal, organization_ids) or [0])
    flt = flt or NetworkFilter()
    if flt.search:
        for word in search_words(flt.search):
            queryset = queryset.filter(search_text__contains=word)
    if flt.category_code:
        queryset = queryset.filter(category_code__in=await category_codes(flt.category_code) or [""])
    if flt.in_stock is not None:
        queryset = queryset.filter(quantity__gt=0) if flt.in_stock else queryset.filter(quantity__lte=0)
    if flt.organization:
        queryset = queryset.filter(organization__slug=flt.organization)
    return queryset


async def network_projects_queryset(
    principal: Principal, flt: NetworkFilter | None = None, organization_ids: list[int] | None = None
) -> QuerySet[MirrorProject]:
    """Mirrored projects of the accepted partners, filtered (the category is not used)."""
    queryset = MirrorProject.filter(organization_id__in=await partner_ids(principal, organization_ids) or [0])
    flt = flt or NetworkFilter()
    if flt.search:
        for word in search_words(flt.search):
            queryset = queryset.filter(search_text__contains=word)
    if flt.organization:
        queryset = queryset.filter(organization__slug=flt.organization)
    return queryset


async def network_items(
    principal: Principal, organization_id: int, flt: NetworkFilter, *, limit: int = 50
) -> tuple[list[MirrorItem], bool]:
    """One page of the network search for ``organization_id``'s staff (web UI): only what
    can be asked for (available, in stock), as ``local_partner_items`` lists partners here."""
    queryset = await network_queryset(principal, flt, [organization_id])
    queryset = queryset.filter(status=ItemStatus.AVAILABLE, quantity__gt=0)
    rows = await queryset.order_by("title", "id").limit(limit + 1).prefetch_related("organization")
    return rows[:limit], len(rows) > limit


async def local_partner_items(
    principal: Principal, organization_id: int, flt: NetworkFilter, *, limit: int = 50
) -> list[Item]:
    """What the accepted partners *on this site* share (their own inventory, read in place:
    a local partner has no mirror). The other half of the staff's network search."""
    from fabcom.orgs.models import Organization

    ids = await partner_ids(principal, [organization_id])
    local = await Organization.filter(id__in=ids or [0], is_local=True).values_list("id", flat=True)
    if not local:
        return []
    queryset = Item.filter(
        organization_id__in=list(local),
        deleted_at__isnull=True,
        status=ItemStatus.AVAILABLE,
        quantity__gt=0,
        visibility__in=[Visibility.PARTNERS, Visibility.PUBLIC],
    ).filter(principal.visibility_filter("inventory"))
    if flt.search:  # the inventory's own search, as partners on other servers' items are searched
        queryset = matching_items(queryset, flt.search)
    if flt.category_code:
        queryset = queryset.filter(category__code__in=await category_codes(flt.category_code) or [""])
    if flt.organization:
        queryset = queryset.filter(organization__slug=flt.organization)
    return await queryset.order_by("title", "id").limit(limit).prefetch_related("organization", "category")


async def partner_mirror_item(principal: Principal, organization_id: int, item_id: str | int) -> MirrorItem | None:
    """One item a partner *on another server* shares with ``organization_id``, as a row of
    the network search shows it, read again after a request for it (whatever its stock now),
    None when it is not, or no longer, shared with it."""
    if not str(item_id).isdigit():
        return None
    queryset = await network_queryset(principal, None, [organization_id])
    return await queryset.filter(id=int(item_id)).prefetch_related("organization").first()
