"""The dashboard of one organization: what a staff member looks at first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections
from tortoise.expressions import Q

from fabcom import clock
from fabcom.inventory.models import StockMovement
from fabcom.members.models import Membership
from fabcom.network.models import ExchangeRequest, ExchangeStatus
from fabcom.notifications.models import Notification
from fabcom.permissions import Action
from fabcom.projects.models import Task, TaskStatus
from fabcom.web.pages import current_org, page
from fabcom.web.templating import render


async def stock_totals(organization_id: int) -> tuple[Decimal, Decimal]:
    """Value (euros) and weight (kg) of what is in stock, computed by the database."""
    # The only value put in the SQL is an int.
    sql = f"SELECT COALESCE(SUM(quantity * unit_value), 0), COALESCE(SUM(CASE WHEN unit = 'kg' THEN quantity ELSE quantity * unit_weight_kg END), 0) FROM fabcom_item WHERE organization_id = {int(organization_id)} AND deleted_at IS NULL"  # noqa: S608
    _count, rows = await connections.get("default").execute_query(sql)
    value, weight = (rows[0][0], rows[0][1]) if rows else (0, 0)
    return Decimal(str(value or 0)).quantize(Decimal("0.01")), Decimal(str(weight or 0)).quantize(Decimal("0.001"))


@page()
async def dashboard(request: Request) -> Response:
    org = await current_org(request)
    principal = request.state.principal
    today = clock.today()
    context: dict[str, object] = {"today": today}
    if principal.can(Action.INVENTORY_READ, org.id):
        context["stock_value"], context["stock_weight"] = await stock_totals(org.id)
        context["movements"] = await StockMovement.filter(organization_id=org.id).prefetch_related("item").limit(8)
    if principal.can(Action.NETWORK_READ, org.id):
        context["exchanges"] = (
            await ExchangeRequest.filter(
                Q(owner_organization_id=org.id) | Q(requester_organization_id=org.id),
                status__in=[ExchangeStatus.PENDING, ExchangeStatus.ACCEPTED, ExchangeStatus.HANDED_OVER],
            )
            .prefetch_related("item", "requester_organization", "owner_organization")
            .limit(8)
        )
    context["tasks"] = (
        await Task.filter(
            project__lead_organization_id=org.id,
            status__not=TaskStatus.DONE,
            due_on__isnull=False,
            due_on__lte=today + dt.timedelta(days=14),
        )
        .prefetch_related("project")
        .order_by("due_on")
        .limit(8)
    )
    if principal.can(Action.MEMBERS_READ, org.id):
        context["expiring"] = (
            await Membership.filter(
                organization_id=org.id, valid_until__gte=today, valid_until__lte=today + dt.timedelta(days=30)
            )
            .prefetch_related("user")
            .order_by("valid_until")
            .limit(8)
        )
    context["notifications"] = (
        await Notification.filter(user_id=principal.user_id, read_at__isnull=True)
        .filter(Q(organization_id=org.id) | Q(organization_id__isnull=True))
        .limit(8)
    )
    return render(request, "dashboard.html", context)
