"""The figures a ressourcerie reports to its funders and to the eco-organismes.

- kg collected, by collection mode and by stream (category);
- kg out, by destination and by REP channel (filière);
- taux de réemploi = kg re-used (sold + given to partners) ÷ kg collected;
- taux de valorisation = (kg re-used + kg recycled) ÷ kg collected;
- sales revenue by payment mode; number of intakes and of identified donors.

CO₂ avoided is deliberately absent: fabcom only reports it with published factors whose
source is cited, and no such factor file ships yet.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.functions import Trim
from tortoise.queryset import QuerySet

from fabcom.api import (
    N_,
    Action,
    ErrorCode,
    FieldError,
    Organization,
    PermissionDenied,
    Principal,
    ValidationFailed,
    system_principal,
)
from modules.ressourcerie.labels import by_channel
from modules.ressourcerie.models import (
    REUSE,
    Destination,
    Intake,
    IntakeLine,
    OutflowLine,
    RemoteFigures,
    Sale,
    SiteSettings,
)
from modules.ressourcerie.periods import months
from modules.ressourcerie.services import local_day_bounds

log = logging.getLogger("modules.ressourcerie.reports")

SITE_ZONE = ZoneInfo("Europe/Paris")

KG = Decimal("0.001")
EUROS = Decimal("0.01")
PERCENT = Decimal("0.1")


@dataclass
class Report:
    start: dt.date
    end: dt.date
    kg_in: Decimal = Decimal(0)
    kg_in_by_mode: dict[str, Decimal] = field(default_factory=dict)
    kg_in_by_category: dict[str, Decimal] = field(default_factory=dict)
    kg_out_by_destination: dict[str, Decimal] = field(default_factory=dict)
    kg_out_by_channel: dict[str, Decimal] = field(default_factory=dict)
    revenue_by_mode: dict[str, Decimal] = field(default_factory=dict)
    intakes: int = 0
    donors: int = 0
    sales: int = 0
    # "2026-03" -> {"in": kg collected, "reused", "recycled", "waste": kg out, "revenue": euros}
    monthly: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    def month(self, key: str) -> dict[str, Decimal]:
        return self.monthly.setdefault(
            key,
            {
                "in": Decimal(0),
                "reused": Decimal(0),
                "recycled": Decimal(0),
                "waste": Decimal(0),
                "revenue": Decimal(0),
            },
        )

    @property
    def kg_reused(self) -> Decimal:
        return sum((self.kg_out_by_destination.get(d.value, Decimal(0)) for d in REUSE), Decimal(0))

    @property
    def kg_recycled(self) -> Decimal:
        return self.kg_out_by_destination.get(Destination.RECYCLING.value, Decimal(0))

    @property
    def reuse_rate(self) -> Decimal | None:
        """Taux de réemploi, in percent (None when nothing was collected)."""
        return (self.kg_reused * 100 / self.kg_in).quantize(PERCENT) if self.kg_in else None

    @property
    def recovery_rate(self) -> Decimal | None:
        """Taux de valorisation, in percent."""
        return ((self.kg_reused + self.kg_recycled) * 100 / self.kg_in).quantize(PERCENT) if self.kg_in else None

    @property
    def revenue(self) -> Decimal:
        return sum(self.revenue_by_mode.values(), Decimal(0))


def _month_of(moment: dt.datetime) -> str:
    """The site's local month of a time (a sale at 00:30 on the 1st belongs to that month)."""
    if moment.tzinfo is None:  # SQLite without time zone support hands back naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(SITE_ZONE).strftime("%Y-%m")


def _add(totals: dict[str, Decimal], key: str, value: Decimal, quantum: Decimal = KG) -> None:
    totals[key] = (totals.get(key, Decimal(0)) + value).quantize(quantum)


class UnknownDestinations(ValidationFailed):
    """Outflows of the period have a destination this version does not know: their kg
    cannot be counted, so no figure of the period is given (rather than wrong ones)."""


async def _refuse_unknown_destinations(lines: QuerySet[OutflowLine]) -> None:
    """Refuse, naming them, destinations this version does not know (an archive imported
    from a newer fabcom may hold some): the report cannot say whether such kg were re-used,
    recycled or wasted, and reading them as ``Destination`` would fail with a bare
    ValueError (a 500). Read as text (an annotation is not converted to the enum)."""
    known = [d.value for d in Destination]
    unknown = await (
        lines.exclude(outflow__destination__in=known)
        .annotate(code=Trim("outflow__destination"))
        .distinct()
        .values_list("code", flat=True)
    )
    if unknown:
        raise UnknownDestinations.single(
            ErrorCode.INVALID,
            N_(
                "Outflows of this period have a destination fabcom does not know ({destinations}): the report cannot count them. Ask your instance's administrator to correct them."
            ),
            "destination",
            destinations=", ".join(sorted(str(code)[:40] for code in unknown)),
        )


async def build_report(actor: Principal, organization_id: int, start: dt.date, end: dt.date) -> Report:
    """The report of one site over local days ``start`` … ``end`` (both included)."""
    if not actor.can(Action.INVENTORY_READ, organization_id):
        raise PermissionDenied()
    if end < start or (end - start).days > 366 * 5:
        raise ValidationFailed.single(
            ErrorCode.OUT_OF_RANGE, N_("Choose a period of at most five years, its end after its start."), "end"
        )
    since, _ = local_day_bounds(start)
    _, until = local_day_bounds(end)
    report = Report(start, end)
    window = {"occurred_at__gte": since, "occurred_at__lt": until}

    for month in months(start, end):
        report.month(month.strftime("%Y-%m"))

    for net, mode, category, at in await IntakeLine.filter(
        intake__organization_id=organization_id, **{f"intake__{k}": v for k, v in window.items()}
    ).values_list("net_kg", "intake__mode__code", "category__code", "intake__occurred_at"):
        report.kg_in += net
        _add(report.kg_in_by_mode, mode, net)
        _add(report.kg_in_by_category, category, net)
        _add(report.month(_month_of(at)), "in", net)
    report.kg_in = report.kg_in.quantize(KG)

    outflow_lines = OutflowLine.filter(
        outflow__organization_id=organization_id, **{f"outflow__{k}": v for k, v in window.items()}
    )
    await _refuse_unknown_destinations(outflow_lines)
    for weight, destination, channel, at in await outflow_lines.values_list(
        "weight_kg", "outflow__destination", "category__rep_channel", "outflow__occurred_at"
    ):
        _add(report.kg_out_by_destination, str(destination), weight)
        _add(report.kg_out_by_channel, channel or "none", weight)
        kind = "reused" if destination in REUSE else "recycled" if destination == Destination.RECYCLING else "waste"
        _add(report.month(_month_of(at)), kind, weight)

    for total, mode, at in await Sale.filter(organization_id=organization_id, **window).values_list(
        "total", "payment_mode", "occurred_at"
    ):
        _add(report.revenue_by_mode, str(mode), total, EUROS)
        _add(report.month(_month_of(at)), "revenue", total, EUROS)
        report.sales += 1

    intakes = await Intake.filter(organization_id=organization_id, **window).values_list(
        "donor_kind", "donor_name", "donor_organization_id"
    )
    report.intakes = len(intakes)
    report.donors = len({(org or name.strip().lower()) for kind, name, org in intakes if kind != "anonymous"})
    return report


async def recycling_by_channel(
    actor: Principal, organization_id: int, start: dt.date, end: dt.date, locale: str = "fr"
) -> dict[str, Decimal]:
    """Kg sent to recycling per REP channel (filière), as eco-organismes ask. Refused when
    a recycled category has no channel and no buyer was named: such kg would be lost."""
    if not actor.can(Action.INVENTORY_READ, organization_id):
        raise PermissionDenied()
    since, _ = local_day_bounds(start)
    _, until = local_day_bounds(end)
    rows = await OutflowLine.filter(
        outflow__organization_id=organization_id,
        outflow__destination=Destination.RECYCLING,
        outflow__occurred_at__gte=since,
        outflow__occurred_at__lt=until,
    ).values_list(
        "weight_kg", "category__rep_channel", f"category__label_{'en' if locale == 'en' else 'fr'}", "outflow__buyer"
    )
    unmapped = sorted({label for _, channel, label, buyer in rows if not channel and not buyer})
    if unmapped:
        raise ValidationFailed(
            [
                FieldError(
                    ErrorCode.INVALID,
                    N_(
                        "These categories have no REP channel and no buyer was named: {categories}. Name the buyer on those outflows."
                    ),
                    None,
                    {"categories": ", ".join(unmapped)},
                )
            ]
        )
    totals: dict[str, Decimal] = {}
    for weight, channel, _, buyer in rows:
        _add(totals, channel or f"buyer:{buyer}", weight)
    return dict(by_channel(totals))


@dataclass
class NetworkRow:
    organization_id: int
    name: str
    kg_in: Decimal
    kg_diverted: Decimal
    # A partner on another server: its figures are the months it shared (see figures.py).
    remote: bool = False


@dataclass
class NetworkTotals:
    """Kg collected and diverted (re-used or recycled) summed over a site and the partners
    that chose to share their figures. ``not_sharing``: partners left out."""

    rows: list[NetworkRow]
    not_sharing: int

    @property
    def kg_in(self) -> Decimal:
        return sum((row.kg_in for row in self.rows), Decimal(0))

    @property
    def kg_diverted(self) -> Decimal:
        return sum((row.kg_diverted for row in self.rows), Decimal(0))


async def network_totals(
    actor: Principal, organization_id: int, start: dt.date, end: dt.date, own: Report | None = None
) -> NetworkTotals:
    """The site's own figures plus those of its accepted local partners that opted in
    (``SiteSettings.share_figures``). Only the two totals of a partner are read, never its
    detail. ``own``: the site's report of the same period, when already built. Partners on
    other servers count when they shared their figures (``RemoteFigures``), by whole
    calendar months: those that overlap the period."""
    from fabcom.network.models import Partnership, PartnershipStatus

    if own is None or (own.start, own.end) != (start, end):
        own = await build_report(actor, organization_id, start, end)
    elif not actor.can(Action.INVENTORY_READ, organization_id):
        raise PermissionDenied()
    links = await Partnership.filter(status=PartnershipStatus.ACCEPTED).filter(
        Q(organization_id=organization_id) | Q(partner_id=organization_id)
    )
    partner_ids = {
        link.partner_id if link.organization_id == organization_id else link.organization_id  # type: ignore[attr-defined]
        for link in links
    }
    partners = await Organization.filter(id__in=partner_ids, is_local=True).order_by("name")
    sharing = set(
        await SiteSettings.filter(organization_id__in=[p.id for p in partners], share_figures=True).values_list(
            "organization_id", flat=True
        )
    )
    me = await Organization.get(id=organization_id)
    rows = [NetworkRow(me.id, me.name, own.kg_in, (own.kg_reused + own.kg_recycled).quantize(KG))]
    system = system_principal()
    for partner in partners:
        if partner.id not in sharing:
            continue
        try:
            theirs = await build_report(system, partner.id, start, end)
        except UnknownDestinations:
            # Their figures cannot be counted: left out (as not sharing) rather than refusing ours.
            log.warning("network totals: partner %s has outflows of unknown destination", partner.id)
            continue
        rows.append(
            NetworkRow(partner.id, partner.name, theirs.kg_in, (theirs.kg_reused + theirs.kg_recycled).quantize(KG))
        )
    remote_partners = await Organization.filter(id__in=partner_ids, is_local=False).order_by("name")
    shared = {
        row.organization_id: row  # type: ignore[attr-defined]
        for row in await RemoteFigures.filter(organization_id__in=[p.id for p in remote_partners])
    }
    first_month, last_month = f"{start:%Y-%m}", f"{end:%Y-%m}"
    for partner in remote_partners:
        figures = shared.get(partner.id)
        if figures is None:
            continue
        kg_in = kg_diverted = Decimal(0)
        for month, values in (figures.months or {}).items():
            if first_month <= month <= last_month:
                kg_in += Decimal(values["in"])
                kg_diverted += Decimal(values["reused"]) + Decimal(values["recycled"])
        rows.append(NetworkRow(partner.id, partner.name, kg_in.quantize(KG), kg_diverted.quantize(KG), remote=True))
    return NetworkTotals(rows, not_sharing=len(partners) + len(remote_partners) - len(rows) + 1)
