"""Reads for the API: each applies ``fabcom.permissions`` and loads relations in bulk,
so a page costs a fixed number of SQL queries whatever its size.

Functions return model rows (or pages of them); ``types`` exposes them. An object the
actor may not see is treated exactly like a missing one: ``None`` or absent from lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from fabcom.inventory.models import Category, Item, StockMovement
from fabcom.members.models import Membership
from fabcom.network.models import ExchangeRequest, Partnership
from fabcom.orgs.models import Organization
from fabcom.permissions import Action, Principal
from fabcom.projects.models import Project, Task


def items_queryset(principal: Principal) -> QuerySet[Item]:
    return Item.filter(principal.visibility_filter("inventory"), deleted_at__isnull=True)


def prepare_items(queryset: QuerySet[Item]) -> QuerySet[Item]:
    """Every relation the Item type exposes, in 2 queries for the whole page."""
    return queryset.select_related("organization", "category", "location").prefetch_related("photos")


def projects_queryset(principal: Principal) -> QuerySet[Project]:
    return Project.filter(principal.visibility_filter("projects", "lead_organization_id"))


def prepare_projects(queryset: QuerySet[Project]) -> QuerySet[Project]:
    return queryset.select_related("lead_organization").prefetch_related("partner_organizations", "needs")


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


async def load_nodes(principal: Principal, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Any]:
    """Visible objects for (type name, pk) pairs, one query per type."""
    wanted: dict[str, set[int]] = {}
    for type_name, pk in keys:
        wanted.setdefault(type_name, set()).add(pk)
    found: dict[tuple[str, int], Any] = {}
    querysets = node_querysets(principal)
    for type_name, pks in wanted.items():
        if type_name not in querysets:
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
