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
from dataclasses import dataclass, field
from decimal import Decimal

from fabcom.api import N_, Action, ErrorCode, FieldError, PermissionDenied, Principal, ValidationFailed
from modules.ressourcerie.models import REUSE, Destination, Intake, IntakeLine, OutflowLine, Sale
from modules.ressourcerie.services import local_day_bounds

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


def _add(totals: dict[str, Decimal], key: str, value: Decimal, quantum: Decimal = KG) -> None:
    totals[key] = (totals.get(key, Decimal(0)) + value).quantize(quantum)


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

    for net, mode, category in await IntakeLine.filter(
        intake__organization_id=organization_id, **{f"intake__{k}": v for k, v in window.items()}
    ).values_list("net_kg", "intake__mode__code", "category__code"):
        report.kg_in += net
        _add(report.kg_in_by_mode, mode, net)
        _add(report.kg_in_by_category, category, net)
    report.kg_in = report.kg_in.quantize(KG)

    for weight, destination, channel in await OutflowLine.filter(
        outflow__organization_id=organization_id, **{f"outflow__{k}": v for k, v in window.items()}
    ).values_list("weight_kg", "outflow__destination", "category__rep_channel"):
        _add(report.kg_out_by_destination, str(destination), weight)
        _add(report.kg_out_by_channel, channel or "none", weight)

    for total, mode in await Sale.filter(organization_id=organization_id, **window).values_list(
        "total", "payment_mode"
    ):
        _add(report.revenue_by_mode, str(mode), total, EUROS)
        report.sales += 1

    intakes = await Intake.filter(organization_id=organization_id, **window).values_list(
        "donor_kind", "donor_name", "donor_organization_id"
    )
    report.intakes = len(intakes)
    report.donors = len({(org or name.strip().lower()) for kind, name, org in intakes if kind != "anonymous"})
    return report


async def recycling_by_channel(
    actor: Principal, organization_id: int, start: dt.date, end: dt.date
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
    ).values_list("weight_kg", "category__rep_channel", "category__label_fr", "outflow__buyer")
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
    return dict(sorted(totals.items()))
