"""The query root: thin resolvers over ``loaders``."""

# No ``from __future__ import annotations``: Strawberry would parse each string
# annotation at start-up (see fabcom/gql/types.py).

import inspect
from enum import Enum
from typing import Any, cast

import strawberry
from graphql import GraphQLObjectType
from strawberry.types import Info
from tortoise.expressions import Q

from fabcom.gql import loaders
from fabcom.gql.context import Context, PublicError
from fabcom.gql.ids import decode_global_id, possible_slug
from fabcom.gql.lookahead import fragment_reads
from fabcom.gql.pagination import Order
from fabcom.gql.scopes import RequiresScope, node_refusal
from fabcom.gql.search import matching_items, sharing_condition
from fabcom.gql.types import (
    Category,
    Connection,
    ExchangeRequest,
    ExchangeStatus,
    Item,
    ItemOrder,
    ItemStatus,
    Me,
    Member,
    Membership,
    Organization,
    Partnership,
    Project,
    SharingMode,
    StockMovement,
    Visibility,
    connect,
    connect_items,
)
from fabcom.inventory import models as inventory
from fabcom.orgs import models as orgs
from fabcom.permissions import Action


def _ctx(info: Info) -> Context:
    return info.context


@strawberry.input(description="Filters on items; all given filters must match.")
class ItemFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Full-text search in title, description and category (every word, as a prefix). "
        "A text with no word (punctuation only) matches nothing; an empty one is no search.",
    )
    category_code: str | None = strawberry.field(
        default=None, description="Only this category and its sub-categories (taxonomy code)."
    )
    organization_slug: str | None = strawberry.field(default=None, description="Only this organization's items.")
    status: ItemStatus | None = strawberry.field(default=None, description="Only items with this status.")
    sharing_mode: SharingMode | None = strawberry.field(default=None, description="Only items shared this way.")
    visibility: Visibility | None = strawberry.field(default=None, description="Only items with this visibility.")
    in_stock: bool | None = strawberry.field(
        default=None,
        description="true: only items with some stock (quantity above zero); false: only items with none. "
        "An AVAILABLE item with no stock is shown as out of stock in the web UI; its status stays AVAILABLE.",
    )


@strawberry.enum(description="Which side of an exchange request an organization is on.")
class ExchangeDirection(Enum):
    SENT = strawberry.enum_value("SENT", description="It asked for the item (the requester).")
    RECEIVED = strawberry.enum_value("RECEIVED", description="It was asked (the item is its own).")


@strawberry.input(description="Filters on exchange requests; all given filters must match.")
class ExchangeRequestFilter:
    status: ExchangeStatus | None = strawberry.field(default=None, description="Only requests with this status.")
    direction: ExchangeDirection | None = strawberry.field(
        default=None,
        description="Only the requests your organizations sent (SENT) or received (RECEIVED); when "
        "organizationSlug names one of them, that organization's.",
    )
    organization_slug: str | None = strawberry.field(
        default=None, description="Only requests this organization sent or received (yours, or a partner's with you)."
    )


async def filtered_exchange_requests(ctx: Context, flt: ExchangeRequestFilter | None) -> Any:
    """The requests the actor sees, narrowed by ``flt``: a filter never widens them."""
    queryset = loaders.exchange_requests_queryset(ctx.principal)
    if flt is None:
        return queryset
    if flt.status is not None:
        queryset = queryset.filter(status=flt.status)
    sides = ctx.principal.orgs_where(Action.NETWORK_READ)  # whose side the direction is
    if flt.organization_slug is not None:
        slug = flt.organization_slug
        organization = await orgs.Organization.get_or_none(slug=slug) if possible_slug(slug) else None
        if organization is None:
            return queryset.filter(id=0)
        org_id = organization.id
        queryset = queryset.filter(Q(owner_organization_id=org_id) | Q(requester_organization_id=org_id))
        if org_id in sides:  # one of yours: its own side (a request between two of yours is both)
            sides = [org_id]
    if flt.direction == ExchangeDirection.SENT:
        queryset = queryset.filter(requester_organization_id__in=sides or [0])
    elif flt.direction == ExchangeDirection.RECEIVED:
        queryset = queryset.filter(owner_organization_id__in=sides or [0])
    return queryset


async def _category_ids(code: str) -> list[int]:
    """The category and its descendants (the taxonomy is small and shared)."""
    rows = await inventory.Category.all().values_list("id", "code", "parent_id")
    by_code = {code_: id_ for id_, code_, _ in rows}
    if code not in by_code:
        return []
    children: dict[int | None, list[int]] = {}
    for id_, _, parent in rows:
        children.setdefault(parent, []).append(id_)
    found, todo = [], [by_code[code]]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


async def filtered_items(ctx: Context, item_filter: ItemFilter | None) -> Any:
    queryset = loaders.items_queryset(ctx.principal)
    if item_filter is None:
        return queryset
    if item_filter.search:
        queryset = matching_items(queryset, item_filter.search)
    if item_filter.category_code is not None:
        queryset = queryset.filter(category_id__in=await _category_ids(item_filter.category_code) or [0])
    if item_filter.organization_slug is not None:
        slug = item_filter.organization_slug
        queryset = queryset.filter(organization__slug=slug) if possible_slug(slug) else queryset.filter(id=0)
    if item_filter.status is not None:
        queryset = queryset.filter(status=item_filter.status)
    if item_filter.visibility is not None:
        queryset = queryset.filter(visibility=item_filter.visibility)
    if item_filter.in_stock is not None:
        queryset = queryset.filter(quantity__gt=0) if item_filter.in_stock else queryset.filter(quantity__lte=0)
    if item_filter.sharing_mode is not None:
        condition = sharing_condition(item_filter.sharing_mode.value, ctx.settings.is_sqlite)
        queryset = queryset.annotate(_shared=condition).filter(_shared=True)
    return queryset


def _pk(value: strawberry.ID, type_name: str) -> int | None:
    found_type, pk = decode_global_id(value)
    return pk if found_type == type_name else None


async def _load_nodes(info: Info, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Any]:
    """The visible objects of ``keys``: items as a page of ``items`` reads them (plain rows,
    only what the selection asks for), the core's other types from ``loaders``, any other
    ``Node`` type of the schema (a module's) through its ``resolve_nodes`` (Strawberry's Relay API)."""

    async def other(type_name: str, pks: list[int]) -> dict[int, Any]:
        definition = info.schema.get_type_by_name(type_name)
        origin = getattr(definition, "origin", None)
        if not (
            isinstance(origin, type)
            and issubclass(origin, strawberry.relay.Node)
            and origin.resolve_nodes.__func__ is not strawberry.relay.Node.resolve_nodes.__func__  # type: ignore[attr-defined]
        ):
            return {}  # not a Node type, or one that cannot be read again by id
        objects = origin.resolve_nodes(info=info, node_ids=[str(pk) for pk in pks], required=False)
        if inspect.isawaitable(objects):
            objects = await objects
        return {pk: obj for pk, obj in zip(pks, objects, strict=True) if obj is not None}

    ctx = _ctx(info)
    found = await loaders.load_nodes(ctx.principal, [key for key in keys if key[0] != "Item"], other)
    item_pks = [pk for type_name, pk in keys if type_name == "Item"]
    if item_pks:
        item_type = cast(GraphQLObjectType, info._raw_info.schema.type_map["Item"])
        reads = fragment_reads(info.selected_fields[0].selections, item_type)
        rows = await loaders.item_rows_by_id(ctx.principal, item_pks, reads, ctx.base_url)
        found |= {("Item", pk): row for pk, row in rows.items()}
    return found


def _key_or_none(value: strawberry.ID) -> tuple[str, int] | None:
    try:
        return decode_global_id(value)
    except PublicError:
        return None


@strawberry.type(description="Read the network's inventory, projects, members and partnerships.")
class Query:
    @strawberry.field(description="You, when authenticated (null for anonymous requests).")
    async def me(self, info: Info) -> Me | None:
        principal = _ctx(info).principal
        if not principal.is_authenticated:
            return None
        from fabcom.auth.models import User

        user = await User.get(id=principal.user_id)
        organizations = {o.id: o for o in await orgs.Organization.filter(id__in=list(principal.roles))}
        return Me(
            display_name=user.display_name,
            email=user.email,
            locale=user.locale,
            memberships=[
                Membership(role=role, organization=organizations[org_id])  # type: ignore[arg-type]
                for org_id, role in sorted(principal.roles.items())
            ],
            scopes=sorted(principal.scopes) if principal.scopes is not None else None,
        )

    @strawberry.field(
        description=(
            "Any object by its global ID; null when it does not exist or you may not see it. An API token without "
            "the scope the object's list needs (a Member: members:read) is refused with INSUFFICIENT_SCOPE."
        )
    )
    async def node(self, info: Info, id: strawberry.ID) -> strawberry.relay.Node | None:
        type_name, pk = decode_global_id(id)
        refusal = node_refusal(info, type_name)
        if refusal is not None:
            raise refusal
        return (await _load_nodes(info, [(type_name, pk)])).get((type_name, pk))

    @strawberry.field(
        description=(
            "Objects by global IDs, in the same order; null for each one you may not see, and, with an error at its "
            "place, for each one an API token lacks the scope of (as node)."
        )
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[strawberry.relay.Node | None]:
        keys = [_key_or_none(value) for value in ids]  # a malformed one is null, not the whole list's loss
        refusals = {key[0]: node_refusal(info, key[0]) for key in keys if key is not None}
        found = await _load_nodes(info, [key for key in keys if key is not None and refusals[key[0]] is None])
        # A refusal in the list is answered as an error at its index, null there (graphql-core's rule).
        return [None if key is None else refusals[key[0]] or found.get(key) for key in keys]  # type: ignore[misc]

    @strawberry.field(description="Organizations of the network (local and partner mirrors).")
    async def organizations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Organization]:
        return await connect(info, orgs.Organization.all(), first, after, last, before, order=Order("slug", kind="str"))

    @strawberry.field(description="An organization by its slug.")
    async def organization(self, slug: str) -> Organization | None:
        if not possible_slug(slug):
            return None
        return await orgs.Organization.get_or_none(slug=slug)  # type: ignore[return-value]

    @strawberry.field(description="Items you may see, across the network, filtered and sorted.")
    async def items(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ItemFilter | None = None,
        order_by: ItemOrder | None = None,
    ) -> Connection[Item]:
        queryset = await filtered_items(_ctx(info), filter)
        order = order_by.as_order() if order_by is not None else Order()
        return await connect_items(info, queryset, first, after, last, before, order)

    @strawberry.field(description="An item by its global ID; null when it does not exist or you may not see it.")
    async def item(self, info: Info, id: strawberry.ID) -> Item | None:
        pk = _pk(id, "Item")
        return None if pk is None else await loaders.load_node(_ctx(info).principal, "Item", pk)

    @strawberry.field(description="The shared category taxonomy.")
    async def categories(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Category]:
        return await connect(
            info,
            inventory.Category.all(),
            first,
            after,
            last,
            before,
            order=Order("code", kind="str"),
            prepare=lambda qs: qs.select_related("parent"),
        )

    @strawberry.field(description="Projects you may see.")
    async def projects(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        organization_slug: str | None = None,
    ) -> Connection[Project]:
        queryset = loaders.projects_queryset(_ctx(info).principal)
        if organization_slug is not None:
            slug_ok = possible_slug(organization_slug)
            queryset = queryset.filter(lead_organization__slug=organization_slug) if slug_ok else queryset.filter(id=0)
        return await connect(info, queryset, first, after, last, before, prepare=loaders.prepare_projects)

    @strawberry.field(description="A project by its global ID; null when it does not exist or you may not see it.")
    async def project(self, info: Info, id: strawberry.ID) -> Project | None:
        pk = _pk(id, "Project")
        return None if pk is None else await loaders.load_node(_ctx(info).principal, "Project", pk)

    @strawberry.field(
        description="Members of an organization (its owners, admins and staff see them).",
        extensions=[RequiresScope("members:read")],
    )
    async def members(
        self,
        info: Info,
        organization_slug: str,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Member]:
        queryset = loaders.members_queryset(_ctx(info).principal)
        slug_ok = possible_slug(organization_slug)
        queryset = queryset.filter(organization__slug=organization_slug) if slug_ok else queryset.filter(id=0)
        return await connect(
            info, queryset, first, after, last, before, prepare=lambda qs: qs.select_related("user", "organization")
        )

    @strawberry.field(
        description="An item's stock ledger, newest first (its organization's inventory readers).",
        extensions=[RequiresScope("inventory:read")],
    )
    async def stock_movements(
        self,
        info: Info,
        item_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StockMovement]:
        pk = _pk(item_id, "Item") or 0
        queryset = loaders.movements_queryset(_ctx(info).principal).filter(item_id=pk, item__deleted_at__isnull=True)
        return await connect(info, queryset, first, after, last, before, order=Order("id", descending=True))

    @strawberry.field(
        description="Partnerships of your organizations.",
        extensions=[RequiresScope("network:read")],
    )
    async def partnerships(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Partnership]:
        return await connect(
            info,
            loaders.partnerships_queryset(_ctx(info).principal),
            first,
            after,
            last,
            before,
            prepare=lambda qs: qs.select_related("organization", "partner"),
        )

    @strawberry.field(
        description="Exchange requests sent or received by your organizations, newest first.",
        extensions=[RequiresScope("network:read")],
    )
    async def exchange_requests(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ExchangeRequestFilter | None = None,
    ) -> Connection[ExchangeRequest]:
        return await connect(
            info,
            await filtered_exchange_requests(_ctx(info), filter),
            first,
            after,
            last,
            before,
            order=Order("id", descending=True),
            prepare=lambda qs: qs.select_related("owner_organization", "requester_organization"),
        )
