"""Reads for the API: each applies ``fabcom.permissions`` and loads relations in bulk,
so a page costs a fixed number of SQL queries whatever its size.

Functions return model rows (or pages of them); ``types`` exposes them. Pages of items,
the API's busiest list, are read as plain rows (``item_rows``) rather than Tortoise
models. An object the actor may not see is treated exactly like a missing one: ``None``
or absent from lists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from fabcom.gql.context import Context
from fabcom.gql.lookahead import EVERYTHING, Reads
from fabcom.gql.pagination import Page, Window, paginate_each
from fabcom.inventory.models import Attachment, Category, Item, Location, StockMovement
from fabcom.members.models import Membership
from fabcom.network.models import ExchangeRequest, Partnership
from fabcom.orgs.models import Organization
from fabcom.permissions import Action, Principal
from fabcom.projects.models import Project, Task
from fabcom.statements import page_values, values_in


def items_queryset(principal: Principal) -> QuerySet[Item]:
    return Item.filter(principal.visibility_filter("inventory"), deleted_at__isnull=True)


def prepare_items(queryset: QuerySet[Item]) -> QuerySet[Item]:
    """Every relation the Item type exposes, in 2 queries for the whole page."""
    return queryset.select_related("organization", "category", "location").prefetch_related("photos")


class Row:
    """A row read with ``values()``: its columns (by field name) as attributes. Building a
    Tortoise model sets each field through ``Model.__setattr__`` and wires its relations:
    for a page of 100 items with their organization, category, location and photos, that
    was about half of the CPU time of reading the page."""

    def __init__(self, values: dict[str, Any]) -> None:
        # ``values`` itself (a dict of a query's, used by no one else): no copy. Its other
        # keys (``organization__name``) are harmless attributes.
        self.__dict__ = values

    @property
    def pk(self) -> Any:
        return self.id  # type: ignore[attr-defined]


class ItemRow(Row):
    """An item of a page, with ``organization``, ``category``, ``location`` (rows, or
    ``None``) and ``photos`` (a list of rows)."""


class OrganizationRow(Row):
    pass


class CategoryRow(Row):
    @property
    def parent(self) -> Any:
        """Not read with the page (as with a model row): an awaitable the executor awaits."""
        return None if self.parent_id is None else Category.filter(id=self.parent_id).first()  # type: ignore[attr-defined]


class LocationRow(Row):
    pass


class PhotoRow(Row):
    pass


def _columns(model: type[Model]) -> list[str]:
    return list(model._meta.fields_db_projection)


# relation -> (model, row class): joined with the page, like ``select_related``
_JOINED: dict[str, tuple[type[Model], type[Row]]] = {
    "organization": (Organization, OrganizationRow),
    "category": (Category, CategoryRow),
    "location": (Location, LocationRow),
}


def _chosen(model: type[Model], reads: Reads, always: Iterable[str]) -> list[str]:
    """The columns of ``model`` that ``reads`` asks for, with ``always``; every column when
    it asks for all, or for an attribute that is no column (a row could not answer it)."""
    columns = _columns(model)
    if reads.columns is None or not reads.columns <= set(columns):
        return columns
    wanted = reads.columns | set(always)
    return [column for column in columns if column in wanted]


def _flat(reads: Reads) -> Reads:
    """A joined row loads its own relations itself, from its columns (``CategoryRow.parent``):
    reading through them needs every column."""
    return EVERYTHING if reads.relations else reads


def photo_url(base_url: str, stored_name: str) -> str:
    return f"{base_url}/uploads/{stored_name}"


async def item_rows(
    queryset: QuerySet[Item], reads: Reads = EVERYTHING, sort: str = "id", base_url: str | None = None
) -> list[ItemRow]:
    """The items of ``queryset`` (a page: filtered, ordered, limited) as rows with what
    ``reads`` asks for (``fabcom.gql.lookahead``): one JOIN for the page and its
    organization, category and location, one query for the photos. ``sort`` is the page's
    sort column, which its cursors read; a relation not read is not loaded. With
    ``base_url``, each photo carries its ``url`` (the ``Photo.url`` field's row attribute)."""
    if reads.columns is not None and not reads.columns <= set(_columns(Item)):
        reads = EVERYTHING  # an attribute no column answers (a relation named as a whole…): load it all
    relations = [(name, model, row_class) for name, (model, row_class) in _JOINED.items() if reads.wants(name)]
    item_columns = _chosen(Item, reads, {"id", sort, *(f"{name}_id" for name, _, _ in relations)})
    joined = [
        (
            name,
            f"{name}_id",
            row_class,
            [(f"{name}__{column}", column) for column in _chosen(model, _flat(reads.of(name)), {"id"})],
        )
        for name, model, row_class in relations
    ]
    names = item_columns + [key for *_, keys in joined for key, _ in keys]
    rows: list[ItemRow] = []
    for values in await page_values(queryset, names):
        for name, foreign_key, row_class, keys in joined:  # the row's attributes are ``values``
            values[name] = None if values[foreign_key] is None else row_class({c: values[k] for k, c in keys})
        rows.append(ItemRow(values))
    if not reads.wants("photos"):
        return rows
    photos: dict[int, list[PhotoRow]] = {row.pk: [] for row in rows}
    if photos:
        columns = _chosen(Attachment, reads.of("photos"), {"id", "item_id", "position"})
        for values in await values_in(Attachment, "item_id", list(photos), ("position", "id"), columns):
            if base_url is not None and "stored_name" in values:
                values["url"] = photo_url(base_url, values["stored_name"])
            photos[values["item_id"]].append(PhotoRow(values))
    for row in rows:
        row.photos = photos[row.pk]  # type: ignore[attr-defined]
    return rows


async def item_rows_by_id(
    principal: Principal, pks: list[int], reads: Reads = EVERYTHING, base_url: str | None = None
) -> dict[int, ItemRow]:
    """The items of ``pks`` that ``principal`` may see, read as a page of ``items`` is
    (``item_rows``: one statement with what ``reads`` asks for, one for the photos when
    asked), whatever the number of ids: ``nodes(ids:)``."""
    rows = await item_rows(items_queryset(principal).filter(id__in=sorted(set(pks))), reads, base_url=base_url)
    return {row.pk: row for row in rows}


def item_by_id_loader(
    ctx: Context, place: tuple[str, ...], reads: Callable[[], Reads]
) -> DataLoader[int, ItemRow | None]:
    """``ItemByIdLoader``: the items of a list of objects (a page of exchange requests'
    ``item``), read in one batch as ``nodes(ids:)`` reads them (``item_rows_by_id``): by
    the rules of ``items``, None for one the actor may not see.

    One loader per ``place`` in the answer (its path without list indexes): every object
    there asks the same fields of its item, so ``reads``, called once, tells which
    columns and relations to read for all of them."""
    key = ("items.by_id", place)
    if key not in ctx.cache:
        wanted = reads()

        async def load(ids: list[int]) -> list[ItemRow | None]:
            found = await item_rows_by_id(ctx.principal, ids, wanted, ctx.base_url)
            return [found.get(pk) for pk in ids]

        ctx.cache[key] = DataLoader(load_fn=load)
    return ctx.cache[key]


def projects_queryset(principal: Principal) -> QuerySet[Project]:
    return Project.filter(principal.visibility_filter("projects", "lead_organization_id"))


def prepare_projects(queryset: QuerySet[Project]) -> QuerySet[Project]:
    return queryset.select_related("lead_organization").prefetch_related("partner_organizations", "needs")


def project_by_id_loader(ctx: Context) -> DataLoader[int, Project | None]:
    """``ProjectByIdLoader``: the projects of a page of tasks, read once per request in
    one batch (with what ``prepare_projects`` brings), by the rules of ``projects``: None
    for one the actor may not see."""
    if "projects.by_id" not in ctx.cache:

        async def load(ids: list[int]) -> list[Project | None]:
            found = {row.pk: row for row in await prepare_projects(projects_queryset(ctx.principal).filter(id__in=ids))}
            return [found.get(pk) for pk in ids]

        ctx.cache["projects.by_id"] = DataLoader(load_fn=load)
    return ctx.cache["projects.by_id"]


def tasks_by_project_loader(ctx: Context, place: tuple[str, ...], window: Window) -> DataLoader[int, Page]:
    """``TasksByProjectLoader``: the pages of tasks of a page of projects, each cut by
    ``window`` (``tasks(first: 10)``), in one batch (``paginate_each``); one loader per
    ``place`` in the answer, as ``item_by_id_loader``. Its keys are projects the actor
    sees (the roots of ``Project.tasks``): the tasks of a project are shown to whoever
    sees it, as when each project read its own."""
    key = ("tasks.by_project", place, window)
    if key not in ctx.cache:

        async def load(ids: list[int]) -> list[Page]:
            pages = await paginate_each(Task.all(), "project_id", ids, window)
            return [pages[pk] for pk in ids]

        ctx.cache[key] = DataLoader(load_fn=load)
    return ctx.cache[key]


def tasks_queryset(principal: Principal) -> QuerySet[Task]:
    return Task.filter(project_id__in=Subquery(projects_queryset(principal).values("id")))


def members_queryset(principal: Principal) -> QuerySet[Membership]:
    return Membership.filter(organization_id__in=principal.orgs_where(Action.MEMBERS_READ))


def movements_queryset(principal: Principal) -> QuerySet[StockMovement]:
    return StockMovement.filter(organization_id__in=principal.orgs_where(Action.INVENTORY_READ))


def _network_orgs(principal: Principal) -> list[int]:
    return principal.orgs_where(Action.NETWORK_READ)


def partnerships_queryset(principal: Principal) -> QuerySet[Partnership]:
    orgs = _network_orgs(principal)
    return Partnership.filter(Q(organization_id__in=orgs) | Q(partner_id__in=orgs))


def exchange_requests_queryset(principal: Principal) -> QuerySet[ExchangeRequest]:
    orgs = _network_orgs(principal)
    return ExchangeRequest.filter(Q(owner_organization_id__in=orgs) | Q(requester_organization_id__in=orgs))


# A loader of a type the core does not know: (type name, pks) -> {pk: visible object}.
OtherNodes = Callable[[str, list[int]], Awaitable[dict[int, Any]]]


# type name -> (visible queryset, prepare) used by node(id:) and nodes(ids:)
def node_querysets(principal: Principal) -> dict[str, tuple[QuerySet[Any], Any]]:
    return {
        "Organization": (Organization.all(), None),
        "Category": (Category.all(), lambda qs: qs.select_related("parent")),
        "Item": (items_queryset(principal), prepare_items),
        "Project": (projects_queryset(principal), prepare_projects),
        "Task": (tasks_queryset(principal), None),
        "Member": (members_queryset(principal), lambda qs: qs.select_related("user", "organization")),
        "StockMovement": (movements_queryset(principal), None),
        "Partnership": (
            partnerships_queryset(principal),
            lambda qs: qs.select_related("organization", "partner"),
        ),
        "ExchangeRequest": (
            exchange_requests_queryset(principal),
            lambda qs: qs.select_related("owner_organization", "requester_organization"),
        ),
    }


async def load_nodes(
    principal: Principal, keys: Iterable[tuple[str, int]], other: OtherNodes | None = None
) -> dict[tuple[str, int], Any]:
    """Visible objects for (type name, pk) pairs, one query per type. ``other`` loads
    the types that are not the core's (a module's ``Node`` types): ``{pk: object}``."""
    wanted: dict[str, set[int]] = {}
    for type_name, pk in keys:
        wanted.setdefault(type_name, set()).add(pk)
    found: dict[tuple[str, int], Any] = {}
    querysets = node_querysets(principal)
    for type_name, pks in wanted.items():
        if type_name not in querysets:
            if other is not None:
                for pk, row in (await other(type_name, sorted(pks))).items():
                    found[(type_name, pk)] = row
            continue
        queryset, prepare = querysets[type_name]
        queryset = queryset.filter(id__in=sorted(pks))
        if prepare is not None:
            queryset = prepare(queryset)
        for row in await queryset:
            found[(type_name, row.pk)] = row
    return found


async def load_node(principal: Principal, type_name: str, pk: int) -> Any | None:
    return (await load_nodes(principal, [(type_name, pk)])).get((type_name, pk))
