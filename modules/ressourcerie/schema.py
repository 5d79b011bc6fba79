"""The ressourcerie in GraphQL: intakes and outflows as Relay connections, a period's
report, and the mutations that record intakes, outflows and sales (thin calls to
``services``; refusals come back typed in ``errors``). Names carry the module's prefix.

A site is an organization, named by its slug. A caller who may not read a site's
inventory sees nothing of it: empty connections and a null report, exactly as for a
site that does not exist."""

# No ``from __future__ import annotations``: Strawberry would parse each string
# annotation at start-up (see fabcom/gql/types.py).

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from fabcom.api import (
    Action,
    MutationError,
    PublicError,
    RequiresScope,
    ValidationFailed,
    find_organization,
    global_id,
    gql_pk,
    run_mutation,
)
from fabcom.gql.pagination import Order, paginate
from fabcom.gql.types import Connection, wants_total
from modules.ressourcerie import services
from modules.ressourcerie.models import Destination, DonorKind, Intake, Outflow, PaymentMode, Sale
from modules.ressourcerie.periods import parse_period
from modules.ressourcerie.reports import Report, UnknownDestinations, build_report

RessourcerieDestination = strawberry.enum(
    Destination,
    name="RessourcerieDestination",
    description="Where an outflow goes: the shop, a partner, recycling, waste.",
)
RessourcerieDonorKind = strawberry.enum(
    DonorKind, name="RessourcerieDonorKind", description="Who gave: nobody named, a person, an organization."
)
RessourceriePaymentMode = strawberry.enum(
    PaymentMode, name="RessourceriePaymentMode", description="How a sale was paid."
)


@strawberry.type(description="A weighing of an intake: gross weight read on the scale, container taken off, net kept.")
class RessourcerieIntakeLine:
    category_code: str = strawberry.field(description="Code of the stream (category of the shared taxonomy).")
    gross_kg: Decimal = strawberry.field(description="Weight read on the scale, in kg.")
    tare_kg: Decimal = strawberry.field(description="Weight of the container taken off, in kg.")
    net_kg: Decimal = strawberry.field(description="Net weight, in kg.")
    item_id: strawberry.ID | None = strawberry.field(description="Global id of the inventory item it became, if any.")


@strawberry.type(description="An intake (collecte): things that arrived, weighed line by line.")
class RessourcerieIntake:
    id: strawberry.ID = strawberry.field(description="Global id of the intake.")
    occurred_at: dt.datetime = strawberry.field(description="When it arrived.")
    mode_code: str = strawberry.field(description="Code of the collection mode (apport_volontaire, decheterie…).")
    donor_kind: RessourcerieDonorKind = strawberry.field(description="Who gave.")  # type: ignore[valid-type]
    collection_point: str = strawberry.field(description="Where it was collected.")
    net_kg: Decimal = strawberry.field(description="Net weight of all its lines, in kg.")
    lines: list[RessourcerieIntakeLine] = strawberry.field(description="Its weighings.")


@strawberry.type(description="A line of an outflow: a stream and its weight.")
class RessourcerieOutflowLine:
    category_code: str = strawberry.field(description="Code of the stream (category of the shared taxonomy).")
    rep_channel: str | None = strawberry.field(description="The category's REP channel (filière), if any.")
    weight_kg: Decimal = strawberry.field(description="Weight, in kg.")


@strawberry.type(description="An outflow (sortie): things that left, by destination.")
class RessourcerieOutflow:
    id: strawberry.ID = strawberry.field(description="Global id of the outflow.")
    occurred_at: dt.datetime = strawberry.field(description="When it left.")
    destination: RessourcerieDestination = strawberry.field(description="Where it went.")  # type: ignore[valid-type]
    buyer: str = strawberry.field(description="For recycling outside a REP channel: who took it.")
    partner_organization_slug: str | None = strawberry.field(description="For a gift: the partner's slug.")
    weight_kg: Decimal = strawberry.field(description="Weight of all its lines, in kg.")
    lines: list[RessourcerieOutflowLine] = strawberry.field(description="Its lines.")


@strawberry.type(description="A till receipt.")
class RessourcerieSale:
    id: strawberry.ID = strawberry.field(description="Global id of the sale.")
    number: int = strawberry.field(description="Receipt number, without gaps per site.")
    occurred_at: dt.datetime = strawberry.field(description="When it was rung up.")
    payment_mode: RessourceriePaymentMode = strawberry.field(description="How it was paid.")  # type: ignore[valid-type]
    total: Decimal = strawberry.field(description="Total, in euros.")


@strawberry.type(description="An amount for one key (a mode, a stream, a destination, a REP channel, a month).")
class RessourcerieAmount:
    key: str = strawberry.field(description="The code it is the amount of.")
    value: Decimal = strawberry.field(description="kg, or euros for revenue.")


@strawberry.type(description="The figures of a site over a period, as funders and eco-organismes ask for them.")
class RessourcerieReport:
    start: dt.date = strawberry.field(description="First day of the period (local days of the site).")
    end: dt.date = strawberry.field(description="Last day of the period, included.")
    kg_in: Decimal = strawberry.field(description="kg collected (net).")
    kg_in_by_mode: list[RessourcerieAmount] = strawberry.field(description="kg collected per collection mode.")
    kg_in_by_category: list[RessourcerieAmount] = strawberry.field(description="kg collected per stream.")
    kg_out_by_destination: list[RessourcerieAmount] = strawberry.field(description="kg out per destination.")
    kg_out_by_channel: list[RessourcerieAmount] = strawberry.field(description="kg out per REP channel ('none').")
    reuse_rate: Decimal | None = strawberry.field(description="Taux de réemploi: kg re-used ÷ kg collected, in %.")
    recovery_rate: Decimal | None = strawberry.field(
        description="Taux de valorisation: (kg re-used + kg recycled) ÷ kg collected, in %."
    )
    revenue: Decimal = strawberry.field(description="Sales, in euros.")
    revenue_by_payment_mode: list[RessourcerieAmount] = strawberry.field(
        description="Sales per payment mode, in euros."
    )
    intakes: int = strawberry.field(description="Number of intakes.")
    donors: int = strawberry.field(description="Number of identified donors.")
    sales: int = strawberry.field(description="Number of receipts.")
    kg_in_by_month: list[RessourcerieAmount] = strawberry.field(description="kg collected per month (YYYY-MM).")


def _amounts(values: dict[str, Decimal]) -> list[RessourcerieAmount]:
    return [RessourcerieAmount(key=k, value=v) for k, v in sorted(values.items())]


def _report(r: Report) -> RessourcerieReport:
    return RessourcerieReport(
        start=r.start,
        end=r.end,
        kg_in=r.kg_in,
        kg_in_by_mode=_amounts(r.kg_in_by_mode),
        kg_in_by_category=_amounts(r.kg_in_by_category),
        kg_out_by_destination=_amounts(r.kg_out_by_destination),
        kg_out_by_channel=_amounts(r.kg_out_by_channel),
        reuse_rate=r.reuse_rate,
        recovery_rate=r.recovery_rate,
        revenue=r.revenue,
        revenue_by_payment_mode=_amounts(r.revenue_by_mode),
        intakes=r.intakes,
        donors=r.donors,
        sales=r.sales,
        kg_in_by_month=[RessourcerieAmount(key=k, value=m["in"]) for k, m in r.monthly.items()],
    )


def _intake(row: Intake) -> RessourcerieIntake:
    lines = list(row.lines)  # type: ignore[attr-defined]
    return RessourcerieIntake(
        id=strawberry.ID(global_id("RessourcerieIntake", row.id)),
        occurred_at=row.occurred_at,
        mode_code=row.mode.code,
        donor_kind=row.donor_kind,
        collection_point=row.collection_point,
        net_kg=sum((line.net_kg for line in lines), Decimal(0)),
        lines=[
            RessourcerieIntakeLine(
                category_code=line.category.code,
                gross_kg=line.gross_kg,
                tare_kg=line.tare_kg,
                net_kg=line.net_kg,
                item_id=strawberry.ID(global_id("Item", line.item_id)) if line.item_id else None,
            )
            for line in lines
        ],
    )


def _outflow(row: Outflow) -> RessourcerieOutflow:
    lines = list(row.lines)  # type: ignore[attr-defined]
    partner = row.partner_organization
    return RessourcerieOutflow(
        id=strawberry.ID(global_id("RessourcerieOutflow", row.id)),
        occurred_at=row.occurred_at,
        destination=row.destination,
        buyer=row.buyer,
        partner_organization_slug=partner.slug if partner else None,
        weight_kg=sum((line.weight_kg for line in lines), Decimal(0)),
        lines=[
            RessourcerieOutflowLine(
                category_code=line.category.code, rep_channel=line.category.rep_channel, weight_kg=line.weight_kg
            )
            for line in lines
        ],
    )


def _sale(row: Sale) -> RessourcerieSale:
    return RessourcerieSale(
        id=strawberry.ID(global_id("RessourcerieSale", row.id)),
        number=row.number,
        occurred_at=row.occurred_at,
        payment_mode=row.payment_mode,
        total=row.total,
    )


async def _readable_site(info: Info, slug: str) -> int | None:
    """The site's id when the caller may read its inventory, else None (as if it did not exist)."""
    org = await find_organization(slug, local_only=True)
    if org is None or not info.context.principal.can(Action.INVENTORY_READ, org.id):
        return None
    return org.id


def _period(period: str) -> tuple[Any, Any]:
    """The period's first and last days; one that cannot be read is an error that says
    how to write it, not an empty answer. The error carries the message id and its
    parameters, not a translation: the endpoint answers it in the caller's language, and
    the message itself stays English for logs and direct schema calls."""
    try:
        return parse_period(period)
    except ValidationFailed as exc:
        error = exc.errors[0]
        raise PublicError(error.message, error.code.value.upper(), **error.params) from None


def _window(info: Info, period: str | None) -> dict[str, Any]:
    if not period:
        return {}
    from modules.ressourcerie.services import local_day_bounds

    start, end = _period(period)
    return {"occurred_at__gte": local_day_bounds(start)[0], "occurred_at__lt": local_day_bounds(end)[1]}


def _connection(page: Any, convert: Any) -> Any:
    return Connection(
        edges=[relay.Edge(cursor=c, node=convert(row)) for c, row in zip(page.cursors, page.rows, strict=True)],
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        total_count=page.total_count,
    )


async def _page(info: Info, model: Any, site_slug: str, period: str | None, window: dict[str, Any], related: list[str]):  # type: ignore[no-untyped-def]
    site = await _readable_site(info, site_slug)
    filters = _window(info, period)
    queryset = model.filter(organization_id=site, **filters) if site is not None else model.filter(id__in=[])
    return await paginate(
        queryset,
        **window,
        order=Order("id", descending=True),
        count=wants_total(info),
        prepare=lambda qs: qs.prefetch_related(*related),
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="A site's intakes, newest first, optionally within a period (2026, 2026-03, 2026-03-14 or 2026-01-01/2026-03-31).",
        extensions=[RequiresScope("inventory:read")],
    )
    async def ressourcerie_intakes(
        self,
        info: Info,
        site_slug: str,
        period: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[RessourcerieIntake]:
        window = {"first": first, "after": after, "last": last, "before": before}
        page = await _page(info, Intake, site_slug, period, window, ["mode", "lines__category"])
        return _connection(page, _intake)  # type: ignore[no-any-return]

    @strawberry.field(
        description="A site's outflows, newest first, optionally within a period.",
        extensions=[RequiresScope("inventory:read")],
    )
    async def ressourcerie_outflows(
        self,
        info: Info,
        site_slug: str,
        period: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[RessourcerieOutflow]:
        window = {"first": first, "after": after, "last": last, "before": before}
        page = await _page(info, Outflow, site_slug, period, window, ["partner_organization", "lines__category"])
        return _connection(page, _outflow)  # type: ignore[no-any-return]

    @strawberry.field(
        description="A site's report over a period (2026, 2026-03, 2026-03-14 or 2026-01-01/2026-03-31); null for a site you may not read or a period that cannot be read.",
        extensions=[RequiresScope("inventory:read")],
    )
    async def ressourcerie_report(self, info: Info, period: str, site_slug: str) -> RessourcerieReport | None:
        site = await _readable_site(info, site_slug)
        if site is None:
            return None
        start, end = _period(period)
        try:
            return _report(await build_report(info.context.principal, site, start, end))
        except UnknownDestinations as exc:  # figures that cannot be counted: say why, not null
            error = exc.errors[0]
            raise PublicError(error.message, error.code.value.upper(), **error.params) from None


@strawberry.input(name="RessourcerieIntakeLineInput", description="A weighing.")
class IntakeLineInput:
    category_code: str = strawberry.field(description="Code of the stream (C_15…).")
    gross_kg: Decimal = strawberry.field(description="Weight read on the scale, in kg (the container's is taken off).")
    tare_id: int | None = strawberry.field(default=None, description="The site's container weighed with it, if any.")
    item_title: str = strawberry.field(
        default="", description="Follow this object on its own: it becomes an inventory item."
    )


@strawberry.input(name="RessourcerieIntakeRecordInput", description="An intake and its weighings.")
class IntakeRecordInput:
    site_slug: str = strawberry.field(description="Slug of the site (organization).")
    mode_code: str = strawberry.field(description="Collection mode code (apport_volontaire, collecte_domicile…).")
    lines: list[IntakeLineInput] = strawberry.field(description="The weighings (1 to 100).")
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="When it arrived (default: now).")
    donor_kind: RessourcerieDonorKind = strawberry.field(default=DonorKind.ANONYMOUS, description="Who gave.")  # type: ignore[valid-type]
    donor_name: str = strawberry.field(default="", description="The donor's name (a person or organization).")
    collection_point: str = strawberry.field(default="", description="Where it was collected.")
    note: str = strawberry.field(default="", description="A note.")


@strawberry.input(name="RessourcerieOutflowLineInput", description="A stream and its weight.")
class OutflowLineInput:
    category_code: str = strawberry.field(description="Code of the stream (C_15…).")
    weight_kg: Decimal = strawberry.field(description="Weight, in kg.")


@strawberry.input(name="RessourcerieOutflowRecordInput", description="An outflow and its lines.")
class OutflowRecordInput:
    site_slug: str = strawberry.field(description="Slug of the site (organization).")
    destination: RessourcerieDestination = strawberry.field(description="Where it goes.")  # type: ignore[valid-type]
    lines: list[OutflowLineInput] = strawberry.field(description="The lines (1 to 100).")
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="When it left (default: now).")
    buyer: str = strawberry.field(default="", description="For recycling outside a REP channel: who takes it.")
    partner_organization_slug: str | None = strawberry.field(
        default=None, description="For a gift: the partner's slug."
    )
    note: str = strawberry.field(default="", description="A note.")


@strawberry.input(
    name="RessourcerieSaleLineInput", description="An inventory item, or a weighed lot (category and weight)."
)
class SaleLineInput:
    amount: Decimal = strawberry.field(description="Price, in euros.")
    item_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the inventory item sold.")
    category_code: str | None = strawberry.field(default=None, description="For a weighed lot: its stream.")
    weight_kg: Decimal | None = strawberry.field(default=None, description="For a weighed lot: its weight in kg.")
    label: str = strawberry.field(default="", description="The receipt's wording (default: the item or stream).")


@strawberry.input(name="RessourcerieSaleRecordInput", description="A sale at the till.")
class SaleRecordInput:
    site_slug: str = strawberry.field(description="Slug of the site (organization).")
    payment_mode: RessourceriePaymentMode = strawberry.field(description="How it was paid.")  # type: ignore[valid-type]
    lines: list[SaleLineInput] = strawberry.field(description="The lines (1 to 200).")
    occurred_at: dt.datetime | None = strawberry.field(
        default=None, description="When (paper receipts typed later); default now."
    )


@strawberry.type(description="The intake recorded, or why it was refused.")
class RessourcerieIntakePayload:
    intake: RessourcerieIntake | None = strawberry.field(description="The intake, when recorded.")
    errors: list[MutationError] = strawberry.field(
        description="Why it was refused (empty when done); nothing was written."
    )


@strawberry.type(description="The outflow recorded, or why it was refused.")
class RessourcerieOutflowPayload:
    outflow: RessourcerieOutflow | None = strawberry.field(description="The outflow, when recorded.")
    errors: list[MutationError] = strawberry.field(
        description="Why it was refused (empty when done); nothing was written."
    )


@strawberry.type(description="The sale recorded, or why it was refused.")
class RessourcerieSalePayload:
    sale: RessourcerieSale | None = strawberry.field(description="The receipt, when recorded.")
    errors: list[MutationError] = strawberry.field(
        description="Why it was refused (empty when done); nothing was written."
    )


async def _site_for_write(slug: str) -> int:
    """The site named; an unknown one is refused like one the caller may not write to."""
    from fabcom.api import PermissionDenied

    org = await find_organization(slug, local_only=True)
    if org is None:
        raise PermissionDenied()
    return org.id


async def _org_by_slug(slug: str | None, field: str) -> int | None:
    if not slug:
        return None
    from fabcom.api import N_, ErrorCode

    org = await find_organization(slug)
    if org is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown organization."), field)
    return org.id


def _plain(data: Any, *skip: str) -> dict[str, Any]:
    return {k: v for k, v in vars(data).items() if not k.startswith("_") and k not in skip}


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Record an intake and its weighings (net = gross − container). A wrong line refuses the whole intake.",
        extensions=[RequiresScope("inventory:write")],
    )
    async def ressourcerie_intake_record(self, info: Info, input: IntakeRecordInput) -> RessourcerieIntakePayload:
        principal = info.context.principal

        async def work() -> Intake:
            site = await _site_for_write(input.site_slug)
            data = {**_plain(input, "site_slug", "lines"), "lines": [_plain(line) for line in input.lines]}
            intake = await services.record_intake(principal, site, data)
            return await Intake.get(id=intake.id).prefetch_related("mode", "lines__category")

        row, errors = await run_mutation(info, work)
        return RessourcerieIntakePayload(intake=_intake(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Record an outflow: to the shop, a partner, recycling or waste.",
        extensions=[RequiresScope("inventory:write")],
    )
    async def ressourcerie_outflow_record(self, info: Info, input: OutflowRecordInput) -> RessourcerieOutflowPayload:
        principal = info.context.principal

        async def work() -> Outflow:
            site = await _site_for_write(input.site_slug)
            data = {
                **_plain(input, "site_slug", "lines", "partner_organization_slug"),
                "partner_organization_id": await _org_by_slug(
                    input.partner_organization_slug, "partner_organization_slug"
                ),
                "lines": [_plain(line) for line in input.lines],
            }
            outflow = await services.record_outflow(principal, site, data)
            return await Outflow.get(id=outflow.id).prefetch_related("partner_organization", "lines__category")

        row, errors = await run_mutation(info, work)
        return RessourcerieOutflowPayload(outflow=_outflow(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Ring up a sale: inventory items leave the stock (one already sold is refused), weighed lots become an outflow to the shop.",
        extensions=[RequiresScope("inventory:write")],
    )
    async def ressourcerie_sale_record(self, info: Info, input: SaleRecordInput) -> RessourcerieSalePayload:
        principal = info.context.principal

        async def work() -> Sale:
            site = await _site_for_write(input.site_slug)
            lines = []
            for n, line in enumerate(input.lines):
                values = _plain(line, "item_id")
                if line.item_id is not None:
                    values["item_id"] = gql_pk(line.item_id, "Item", f"lines.{n}.item_id")
                lines.append(values)
            data = {**_plain(input, "site_slug", "lines"), "lines": lines}
            return await services.record_sale(principal, site, data)

        row, errors = await run_mutation(info, work)
        return RessourcerieSalePayload(sale=_sale(row) if row else None, errors=errors)


types = [
    RessourcerieIntake,
    RessourcerieIntakeLine,
    RessourcerieOutflow,
    RessourcerieOutflowLine,
    RessourcerieSale,
    RessourcerieAmount,
    RessourcerieReport,
]
query = Query
mutation = Mutation
