"""The ressourcerie in GraphQL: intakes and outflows as Relay connections, a period's
report, and the mutations that record intakes, outflows and sales (thin calls to
``services``; refusals come back typed in ``errors``). Names carry the module's prefix.

A site is an organization, named by its slug (``organizationSlug``, as the core names
it; ``siteSlug`` is its former name, still read). A caller who may not read a site's
inventory sees nothing of it: empty lists and a null report, exactly as for a site that
does not exist."""

# No ``from __future__ import annotations``: Strawberry would parse each string
# annotation at start-up (see fabcom/gql/types.py).

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from fabcom.api import (
    N_,
    Action,
    ErrorCode,
    FieldError,
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
from modules.ressourcerie.labels import by_channel
from modules.ressourcerie.models import (
    DEFAULT_COLLECTION_MODES,
    CollectionMode,
    Destination,
    DonorKind,
    Intake,
    Outflow,
    OutflowLine,
    PaymentMode,
    Sale,
    Tare,
)
from modules.ressourcerie.periods import parse_period
from modules.ressourcerie.reports import Report, build_report


@strawberry.enum(
    name="RessourcerieDestination",
    description="Where an outflow goes: the shop, a partner, recycling, waste. UNKNOWN marks, when reading, "
    "a destination this version of fabcom does not know (an outflow from a newer one: its code is in "
    "destinationCode); it is refused as input.",
)
class RessourcerieDestination(Enum):
    # Destination's members, and UNKNOWN for reading what this version cannot name.
    SALE = Destination.SALE.value
    PARTNER_GIFT = Destination.PARTNER_GIFT.value
    RECYCLING = Destination.RECYCLING.value
    WASTE = Destination.WASTE.value
    UNKNOWN = "unknown"


def _destination(code: str) -> RessourcerieDestination:
    return RessourcerieDestination(code) if code in KNOWN_DESTINATIONS else RessourcerieDestination.UNKNOWN


KNOWN_DESTINATIONS = frozenset(d.value for d in Destination)
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
    destination: RessourcerieDestination = strawberry.field(
        description="Where it went; UNKNOWN for a destination this version does not know (see destinationCode)."
    )
    destination_code: str = strawberry.field(
        description="The destination as stored: sale, partner_gift, recycling, waste, or the code of one this "
        "version does not know (an outflow imported from a newer fabcom), which its reports refuse to count."
    )
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


@strawberry.type(
    description="A collection mode of a site: how things reached it. Its code is what an intake's modeCode takes."
)
class RessourcerieCollectionMode:
    code: str = strawberry.field(description="The code to give as modeCode (apport_volontaire, decheterie…).")
    label_fr: str = strawberry.field(description="French name.")
    label_en: str = strawberry.field(description="English name.")

    @strawberry.field(description="The name in the language of the request.")
    def label(self, info: Info) -> str:
        return self.label_en if info.context.locale == "en" else self.label_fr


@strawberry.type(
    description="A container of a site (a tare: a crate, a trolley) weighed with what it holds; its weight is "
    "taken off the gross weight. Its id is what an intake line's containerId takes."
)
class RessourcerieContainer:
    id: strawberry.ID = strawberry.field(description="Global id of the container.")
    name: str = strawberry.field(description="Its name at the site.")
    weight_kg: Decimal = strawberry.field(description="Its own weight (the tare), in kg.")


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
        kg_out_by_channel=[RessourcerieAmount(key=k, value=v) for k, v in by_channel(r.kg_out_by_channel)],
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


@dataclass
class OutflowRow:
    """An outflow as the API reads it: the destination as text, so that a row holding one
    this version does not know (an archive from a newer fabcom) is answered, marked,
    rather than failing the whole list (an ``Outflow`` model cannot be built from it)."""

    pk: int
    occurred_at: dt.datetime
    destination_code: str
    buyer: str
    partner_organization_slug: str | None
    lines: list[RessourcerieOutflowLine]


async def _outflow_rows(queryset: Any) -> list[OutflowRow]:
    """The rows of ``queryset`` (a page, in its order), with their lines: two queries."""
    from tortoise.functions import Trim

    heads = await queryset.annotate(destination_code=Trim("destination")).values(
        "id", "occurred_at", "destination_code", "buyer", "partner_organization__slug"
    )
    lines: dict[int, list[RessourcerieOutflowLine]] = {}
    for outflow_id, code, channel, weight in (
        await OutflowLine.filter(outflow_id__in=[h["id"] for h in heads])
        .order_by("id")
        .values_list("outflow_id", "category__code", "category__rep_channel", "weight_kg")
    ):
        lines.setdefault(outflow_id, []).append(
            RessourcerieOutflowLine(category_code=code, rep_channel=channel, weight_kg=weight)
        )
    return [
        OutflowRow(
            pk=h["id"],
            occurred_at=h["occurred_at"],
            destination_code=str(h["destination_code"]),
            buyer=h["buyer"],
            partner_organization_slug=h["partner_organization__slug"],
            lines=lines.get(h["id"], []),
        )
        for h in heads
    ]


def _outflow(row: OutflowRow) -> RessourcerieOutflow:
    return RessourcerieOutflow(
        id=strawberry.ID(global_id("RessourcerieOutflow", row.pk)),
        occurred_at=row.occurred_at,
        destination=_destination(row.destination_code),
        destination_code=row.destination_code,
        buyer=row.buyer,
        partner_organization_slug=row.partner_organization_slug,
        weight_kg=sum((line.weight_kg for line in row.lines), Decimal(0)),
        lines=row.lines,
    )


def _sale(row: Sale) -> RessourcerieSale:
    return RessourcerieSale(
        id=strawberry.ID(global_id("RessourcerieSale", row.id)),
        number=row.number,
        occurred_at=row.occurred_at,
        payment_mode=row.payment_mode,
        total=row.total,
    )


SUPERSEDED_SITE_SLUG = N_("Give organizationSlug only (siteSlug is its former name).")


def _named_slug(organization_slug: str | None, site_slug: str | None) -> str | None:
    """The site named by its new name or its former one (both: the same one, else
    ValueError); None when neither is given."""
    if None not in (organization_slug, site_slug) and organization_slug != site_slug:
        raise ValueError(SUPERSEDED_SITE_SLUG)
    return organization_slug if organization_slug is not None else site_slug


def _query_slug(organization_slug: str | None, site_slug: str | None) -> str:
    """The site a query names; a top-level error otherwise."""
    try:
        slug = _named_slug(organization_slug, site_slug)
    except ValueError:
        raise PublicError(SUPERSEDED_SITE_SLUG, "BAD_USER_INPUT") from None
    if slug is None:
        raise PublicError(N_("Give organizationSlug: the slug of the site (organization)."), "BAD_USER_INPUT")
    return slug


def _input_slug(data: Any) -> str:
    """The site a mutation's input names; refused in its payload like any of its fields."""
    try:
        slug = _named_slug(data.organization_slug, data.site_slug)
    except ValueError:
        raise ValidationFailed.single(ErrorCode.INVALID, SUPERSEDED_SITE_SLUG, "organization_slug") from None
    if slug is None:
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("This field is required."), "organization_slug")
    return str(slug)


OrganizationSlugArgument = Annotated[
    str | None, strawberry.argument(description="Slug of the site (organization). Required.")
]
SiteSlugArgument = Annotated[
    str | None,
    strawberry.argument(
        description="Slug of the site: the former name of organizationSlug.",
        deprecation_reason="Use organizationSlug, as the core names it.",
    ),
]
SiteArgument = Annotated[str, strawberry.argument(description="Slug of the site (organization).")]


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


async def _page(
    info: Info,
    model: Any,
    site_slug: str,
    period: str | None,
    window: dict[str, Any],
    related: list[str],
    load: Any = None,
):  # type: ignore[no-untyped-def]
    site = await _readable_site(info, site_slug)
    filters = _window(info, period)
    queryset = model.filter(organization_id=site, **filters) if site is not None else model.filter(id__in=[])
    return await paginate(
        queryset,
        **window,
        order=Order("id", descending=True),
        count=wants_total(info),
        prepare=(lambda qs: qs.prefetch_related(*related)) if related else None,
        load=load,
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
        organization_slug: OrganizationSlugArgument = None,
        site_slug: SiteSlugArgument = None,
        period: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[RessourcerieIntake]:
        window = {"first": first, "after": after, "last": last, "before": before}
        slug = _query_slug(organization_slug, site_slug)
        page = await _page(info, Intake, slug, period, window, ["mode", "lines__category"])
        return _connection(page, _intake)  # type: ignore[no-any-return]

    @strawberry.field(
        description="A site's outflows, newest first, optionally within a period. One whose destination this "
        "version does not know is listed with destination UNKNOWN and its destinationCode.",
        extensions=[RequiresScope("inventory:read")],
    )
    async def ressourcerie_outflows(
        self,
        info: Info,
        organization_slug: OrganizationSlugArgument = None,
        site_slug: SiteSlugArgument = None,
        period: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[RessourcerieOutflow]:
        window = {"first": first, "after": after, "last": last, "before": before}
        slug = _query_slug(organization_slug, site_slug)
        page = await _page(info, Outflow, slug, period, window, [], load=_outflow_rows)
        return _connection(page, _outflow)  # type: ignore[no-any-return]

    @strawberry.field(
        description="A site's report over a period (2026, 2026-03, 2026-03-14 or 2026-01-01/2026-03-31, at most "
        "five years); null for a site you may not read (as for one that does not exist). A period that cannot be "
        "read or is too long is a top-level error (extensions.code INVALID or OUT_OF_RANGE) saying how to write "
        "one, and so are outflows of the period whose destination this version does not know (INVALID).",
        extensions=[RequiresScope("inventory:read")],
    )
    async def ressourcerie_report(
        self,
        info: Info,
        period: str,
        organization_slug: OrganizationSlugArgument = None,
        site_slug: SiteSlugArgument = None,
    ) -> RessourcerieReport | None:
        site = await _readable_site(info, _query_slug(organization_slug, site_slug))
        if site is None:
            return None
        start, end = _period(period)
        try:
            return _report(await build_report(info.context.principal, site, start, end))
        except ValidationFailed as exc:  # a period too long, figures that cannot be counted: say why, not null
            error = exc.errors[0]
            raise PublicError(error.message, error.code.value.upper(), **error.params) from None

    @strawberry.field(
        description="The collection modes a site's intakes may take (their code is modeCode), in the site's "
        "order: the sector's usual list until the site changes it. Empty for a site you may not read.",
        extensions=[RequiresScope("inventory:read")],
    )
    async def ressourcerie_collection_modes(
        self, info: Info, organization_slug: SiteArgument
    ) -> list[RessourcerieCollectionMode]:
        site = await _readable_site(info, organization_slug)
        if site is None:
            return []
        rows = [
            (mode.code, mode.label_fr, mode.label_en)
            for mode in await CollectionMode.filter(organization_id=site, active=True).order_by("id")
        ]
        if not rows and not await CollectionMode.exists(organization_id=site):
            # Not created until the site's first intake (ensure_collection_modes): the same list.
            rows = [(code, fr, en) for code, (fr, en) in DEFAULT_COLLECTION_MODES.items()]
        return [RessourcerieCollectionMode(code=code, label_fr=fr, label_en=en) for code, fr, en in rows]

    @strawberry.field(
        description="The containers a site weighs things in (their id is an intake line's containerId), by "
        "name. Empty for a site you may not read.",
        extensions=[RequiresScope("inventory:read")],
    )
    async def ressourcerie_containers(self, info: Info, organization_slug: SiteArgument) -> list[RessourcerieContainer]:
        site = await _readable_site(info, organization_slug)
        if site is None:
            return []
        return [
            RessourcerieContainer(
                id=strawberry.ID(global_id("RessourcerieContainer", tare.id)), name=tare.name, weight_kg=tare.weight_kg
            )
            for tare in await Tare.filter(organization_id=site, active=True).order_by("name", "id")
        ]


@strawberry.input(name="RessourcerieIntakeLineInput", description="A weighing.")
class IntakeLineInput:
    category_code: str = strawberry.field(description="Code of the stream (C_15…).")
    gross_kg: Decimal = strawberry.field(description="Weight read on the scale, in kg (the container's is taken off).")
    container_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of the site's container weighed with it, if any (ressourcerieContainers): its "
        "weight is taken off.",
    )
    tare_id: int | None = strawberry.field(
        default=None,
        description="The container's database id: the former way to name it.",
        deprecation_reason="Use containerId, the container's global id (ressourcerieContainers).",
    )
    item_title: str = strawberry.field(
        default="", description="Follow this object on its own: it becomes an inventory item."
    )


@strawberry.input(description="What names the site of a record (the inputs below inherit it).")
class SiteNamedInput:
    organization_slug: str | None = strawberry.field(
        default=None, description="Slug of the site (organization). Required."
    )
    site_slug: str | None = strawberry.field(
        default=None,
        description="Slug of the site: the former name of organizationSlug.",
        deprecation_reason="Use organizationSlug, as the core names it.",
    )


@strawberry.input(name="RessourcerieIntakeRecordInput", description="An intake and its weighings.")
class IntakeRecordInput(SiteNamedInput):
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
class OutflowRecordInput(SiteNamedInput):
    destination: RessourcerieDestination = strawberry.field(description="Where it goes (not UNKNOWN).")
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
class SaleRecordInput(SiteNamedInput):
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


def _intake_lines(lines: list[IntakeLineInput]) -> list[dict[str, Any]]:
    """The lines for the service, each container named by its database id: from
    ``containerId`` (a global id), or the former ``tareId`` (both: the same container)."""
    found, errors = [], []
    for n, line in enumerate(lines):
        values = _plain(line, "container_id")
        if line.container_id is not None:
            field = f"lines.{n}.container_id"
            pk = _container_pk(line.container_id)
            if pk is None:
                errors.append(FieldError(ErrorCode.INVALID, N_("Unknown container."), field))
            elif line.tare_id is not None and line.tare_id != pk:
                errors.append(
                    FieldError(ErrorCode.INVALID, N_("Give containerId only (tareId is its former name)."), field)
                )
            values["tare_id"] = pk
        found.append(values)
    if errors:
        raise ValidationFailed(errors)
    return found


def _container_pk(value: strawberry.ID) -> int | None:
    """The database id of a container's global id; None for anything else (a malformed
    id, another type's): the same « Unknown container. » as one of another site."""
    from fabcom.gql.ids import decode_global_id

    try:
        type_name, pk = decode_global_id(value)
    except PublicError:
        return None
    return pk if type_name == "RessourcerieContainer" else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Record an intake and its weighings (net = gross − container). A wrong line refuses the whole intake.",
        extensions=[RequiresScope("inventory:write")],
    )
    async def ressourcerie_intake_record(self, info: Info, input: IntakeRecordInput) -> RessourcerieIntakePayload:
        principal = info.context.principal

        # A refusal about a container names the field the client gave.
        renames = {
            f"lines.{n}.tare_id": f"lines.{n}.container_id"
            for n, line in enumerate(input.lines)
            if line.container_id is not None
        }

        async def work() -> Intake:
            site = await _site_for_write(_input_slug(input))
            lines = _intake_lines(input.lines)
            data = {**_plain(input, "organization_slug", "site_slug", "lines"), "lines": lines}
            intake = await services.record_intake(principal, site, data)
            return await Intake.get(id=intake.id).prefetch_related("mode", "lines__category")

        row, errors = await run_mutation(info, work, **renames)
        return RessourcerieIntakePayload(intake=_intake(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Record an outflow: to the shop, a partner, recycling or waste.",
        extensions=[RequiresScope("inventory:write")],
    )
    async def ressourcerie_outflow_record(self, info: Info, input: OutflowRecordInput) -> RessourcerieOutflowPayload:
        principal = info.context.principal

        async def work() -> OutflowRow:
            site = await _site_for_write(_input_slug(input))
            if input.destination is RessourcerieDestination.UNKNOWN:
                raise ValidationFailed.single(
                    ErrorCode.INVALID,
                    N_(
                        "UNKNOWN only marks outflows read from a newer fabcom: choose SALE, PARTNER_GIFT, RECYCLING or WASTE."
                    ),
                    "destination",
                )
            data = {
                **_plain(input, "organization_slug", "site_slug", "lines", "partner_organization_slug", "destination"),
                "destination": Destination(input.destination.value),
                "partner_organization_id": await _org_by_slug(
                    input.partner_organization_slug, "partner_organization_slug"
                ),
                "lines": [_plain(line) for line in input.lines],
            }
            outflow = await services.record_outflow(principal, site, data)
            return (await _outflow_rows(Outflow.filter(id=outflow.id)))[0]

        row, errors = await run_mutation(info, work)
        return RessourcerieOutflowPayload(outflow=_outflow(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Ring up a sale: inventory items leave the stock (one already sold is refused), weighed lots become an outflow to the shop.",
        extensions=[RequiresScope("inventory:write")],
    )
    async def ressourcerie_sale_record(self, info: Info, input: SaleRecordInput) -> RessourcerieSalePayload:
        principal = info.context.principal

        async def work() -> Sale:
            site = await _site_for_write(_input_slug(input))
            lines = []
            for n, line in enumerate(input.lines):
                values = _plain(line, "item_id")
                if line.item_id is not None:
                    values["item_id"] = gql_pk(line.item_id, "Item", f"lines.{n}.item_id")
                lines.append(values)
            data = {**_plain(input, "organization_slug", "site_slug", "lines"), "lines": lines}
            return await services.record_sale(principal, site, data)

        row, errors = await run_mutation(info, work)
        return RessourcerieSalePayload(sale=_sale(row) if row else None, errors=errors)


types = [
    RessourcerieCollectionMode,
    RessourcerieContainer,
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
