"""GraphQL of the objects half: ``networkItems``, the partners' shared items read from
the local mirror (read-only: there is no mutation on them; ask for one with the web UI's
network page, which sends the partner an exchange agreement)."""

# No ``from __future__ import annotations``: Strawberry would parse each string
# annotation at start-up (see fabcom/gql/types.py).

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from fabcom.federation.mirror_models import MirrorItem
from fabcom.federation.network import NetworkFilter, network_projects_queryset, network_queryset
from fabcom.gql.context import PublicError
from fabcom.gql.ids import global_id
from fabcom.gql.pagination import Order
from fabcom.gql.scopes import RequiresScope
from fabcom.gql.types import Connection, Organization, connect
from fabcom.i18n import N_


@strawberry.type(description="An item a partner site shares with you, from the local mirror (read-only).")
class NetworkItem:
    row: strawberry.Private[Any]

    @strawberry.field(description="Global ID of the mirrored copy.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("NetworkItem", self.row.id))

    @strawberry.field(description="The item's ActivityPub id on its own site.")
    def uri(self) -> str:
        return str(self.row.uri)

    @strawberry.field(description="Short title.")
    def title(self) -> str:
        return str(self.row.title)

    @strawberry.field(description="Description as sanitised HTML.")
    def content(self) -> str:
        return str(self.row.content)

    @strawberry.field(description="Category code in the shared taxonomy, when given.")
    def category_code(self) -> str | None:
        return self.row.category_code

    @strawberry.field(description="Quantity the partner has (as of its last update).")
    def quantity(self) -> Decimal:
        return Decimal(self.row.quantity)

    @strawberry.field(description="Unit of the quantity (piece, kg, m, m2, l, set).")
    def unit(self) -> str:
        return str(self.row.unit)

    @strawberry.field(description="How the partner offers it: give, lend, sell, use_on_site.")
    def sharing_modes(self) -> list[str]:
        return list(self.row.sharing_modes or [])

    @strawberry.field(description="available, reserved, unavailable or archived.")
    def status(self) -> str:
        return str(self.row.status)

    @strawberry.field(description="partners or public: who the partner shares it with.")
    def visibility(self) -> str:
        return str(self.row.visibility)

    @strawberry.field(description="When the partner last changed it.")
    def updated_at(self) -> dt.datetime:
        return self.row.remote_updated_at

    @strawberry.field(description="The partner organization that shares it (its local mirror).")
    def organization(self) -> Organization:
        return self.row.organization


@strawberry.type(description="A project a partner site shares with you, from the local mirror (read-only).")
class NetworkProject:
    row: strawberry.Private[Any]

    @strawberry.field(description="Global ID of the mirrored copy.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("NetworkProject", self.row.id))

    @strawberry.field(description="The project's ActivityPub id on its own site.")
    def uri(self) -> str:
        return str(self.row.uri)

    @strawberry.field(description="Title.")
    def title(self) -> str:
        return str(self.row.title)

    @strawberry.field(description="One-line summary.")
    def summary(self) -> str:
        return str(self.row.summary)

    @strawberry.field(description="Description as sanitised HTML.")
    def content(self) -> str:
        return str(self.row.content)

    @strawberry.field(description="idea, active, paused, done or archived.")
    def status(self) -> str:
        return str(self.row.status)

    @strawberry.field(description="When the partner last changed it.")
    def updated_at(self) -> dt.datetime:
        return self.row.remote_updated_at

    @strawberry.field(description="The partner organization that leads it (its local mirror).")
    def organization(self) -> Organization:
        return self.row.organization


@strawberry.input(description="Filters on the network search; all given filters must match.")
class NetworkItemFilter:
    search: str | None = strawberry.field(default=None, description="Every word must appear in the title or text.")
    category_code: str | None = strawberry.field(
        default=None, description="Only this category and its sub-categories (taxonomy code)."
    )
    organization_slug: str | None = strawberry.field(default=None, description="Only this partner (its slug).")
    organization: str | None = strawberry.field(
        default=None,
        description="Only this partner (its slug).",
        deprecation_reason="Use organizationSlug, as ItemFilter names it.",
    )
    in_stock: bool | None = strawberry.field(
        default=None,
        description="true: only items the partner has some of (quantity above zero, as of its last update); "
        "false: only those it has none of.",
    )


def _network_filter(filter: NetworkItemFilter | None, *, for_items: bool) -> NetworkFilter:
    """The GraphQL filter as the network search's own (the search text bounded; the category
    and the stock are filters on items, not on projects)."""
    if filter is None:
        return NetworkFilter()
    if None not in (filter.organization_slug, filter.organization) and filter.organization_slug != filter.organization:
        raise PublicError(N_("Give organizationSlug only (organization is its former name)."), "BAD_USER_INPUT")
    return NetworkFilter(
        search=(filter.search or "")[:200] or None,
        category_code=filter.category_code if for_items else None,
        organization=filter.organization_slug if filter.organization_slug is not None else filter.organization,
        in_stock=filter.in_stock if for_items else None,
    )


def _with_organization(queryset: Any) -> Any:
    return queryset.prefetch_related("organization")


@strawberry.type
class NetworkQuery:
    @strawberry.field(
        description="Items your organizations' accepted partners share with you, searched in the local mirror.",
        extensions=[RequiresScope("network:read")],
    )
    async def network_items(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: NetworkItemFilter | None = None,
    ) -> Connection[NetworkItem]:  # type: ignore[type-var]  # a plain type: mirrors are not nodes
        queryset = await network_queryset(info.context.principal, _network_filter(filter, for_items=True))
        return await connect(
            info,
            queryset,
            first,
            after,
            last,
            before,
            order=Order(),
            prepare=_with_organization,
            node=lambda row: NetworkItem(row=row),
        )

    @strawberry.field(
        description="Projects your organizations' accepted partners share with you (local mirror; the filter's "
        "categoryCode and inStock do not apply).",
        extensions=[RequiresScope("network:read")],
    )
    async def network_projects(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: NetworkItemFilter | None = None,
    ) -> Connection[NetworkProject]:  # type: ignore[type-var]  # a plain type: mirrors are not nodes
        queryset = await network_projects_queryset(info.context.principal, _network_filter(filter, for_items=False))
        return await connect(
            info,
            queryset,
            first,
            after,
            last,
            before,
            order=Order(),
            prepare=_with_organization,
            node=lambda row: NetworkProject(row=row),
        )


__all__ = ["MirrorItem", "NetworkItem", "NetworkItemFilter", "NetworkProject", "NetworkQuery"]
