"""The core hooks the ressourcerie module implements."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fabcom.api import hookimpl, system_principal
from modules.ressourcerie.services import add_tare, record_intake, record_outflow, record_sale

# (category, share of the tonnage, typical kg per weighing) — roughly a French
# ressourcerie's mix: furniture and textiles first.
STREAMS = [
    ("C_15", 30, (8, 45)),
    ("C_22", 22, (3, 20)),
    ("C_18", 10, (2, 10)),
    ("C_11", 9, (3, 15)),
    ("C_03", 7, (2, 8)),
    ("C_21", 6, (1, 6)),
    ("C_16", 5, (1, 6)),
    ("C_26", 4, (8, 16)),
    ("C_13", 4, (2, 12)),
    ("C_19", 3, (2, 8)),
]
MODES = [("apport_volontaire", 55), ("collecte_domicile", 20), ("decheterie", 15), ("entreprise", 5), ("brocante", 5)]
PARIS = ZoneInfo("Europe/Paris")


def _kg(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 1)))


@hookimpl
async def fabcom_load_demo_data(context: dict[str, Any]) -> None:
    """A year of flows at La Recyclerie du Canal, so that its reports look real:
    more than half re-used, four fifths re-used or recycled, sales every opening day, a monthly gift to the fablab."""
    rng = random.Random(7)  # noqa: S311 - demo data
    system = system_principal()
    site = context["organizations"]["recyclerie-du-canal"]
    partner = context["organizations"]["fablab-des-pentes"]
    crate = await add_tare(system, site.id, {"name": "Caisse bleue", "weight_kg": "2.4"})
    await add_tare(system, site.id, {"name": "Chariot", "weight_kg": "14"})
    categories = [code for code, share, _ in STREAMS for _ in range(share)]
    ranges = {code: spread for code, _, spread in STREAMS}
    modes = [code for code, share in MODES for _ in range(share)]
    today = dt.datetime.now(PARIS).date()
    day = today - dt.timedelta(days=365)
    while day < today:
        if day.weekday() in (1, 2, 3, 4, 5):  # open Tuesday to Saturday
            at = dt.datetime.combine(day, dt.time(10), PARIS)
            for n in range(rng.randint(1, 2)):
                lines = []
                for _ in range(rng.randint(1, 3)):
                    code = rng.choice(categories)
                    line = {"category_code": code, "gross_kg": _kg(rng, *ranges[code])}
                    if code in ("C_22", "C_18") and rng.random() < 0.5:
                        line["gross_kg"] += crate.weight_kg
                        line["tare_id"] = crate.id
                    lines.append(line)
                named = rng.random() < 0.4
                await record_intake(
                    system,
                    site.id,
                    {
                        "mode_code": rng.choice(modes),
                        "occurred_at": at + dt.timedelta(minutes=40 * n),
                        "donor_kind": "person" if named else "anonymous",
                        "donor_name": rng.choice(["Mme Roux", "M. Bernard", "Mme Petit", "M. Garcia", "Mme Leroy"])
                        if named
                        else "",
                        "lines": lines,
                    },
                )
            for n in range(rng.randint(2, 4)):
                code = rng.choice(categories)
                weight = _kg(rng, 2, 15)
                await record_sale(
                    system,
                    site.id,
                    {
                        "payment_mode": rng.choice(["cash", "cash", "card", "card", "cheque", "local_currency"]),
                        "occurred_at": at + dt.timedelta(hours=3, minutes=25 * n),
                        "lines": [
                            {
                                "category_code": code,
                                "weight_kg": weight,
                                "amount": (weight * Decimal("2")).quantize(Decimal("0.50")),
                            }
                        ],
                    },
                )
            if day.weekday() == 5:  # Saturday: the week's other outflows
                at = dt.datetime.combine(day, dt.time(17), PARIS)
                await record_outflow(
                    system,
                    site.id,
                    {
                        "destination": "recycling",
                        "occurred_at": at,
                        "lines": [
                            {"category_code": "C_15", "weight_kg": _kg(rng, 10, 30)},
                            {"category_code": "C_22", "weight_kg": _kg(rng, 5, 15)},
                            {"category_code": "C_03", "weight_kg": _kg(rng, 2, 8)},
                        ],
                    },
                )
                await record_outflow(
                    system,
                    site.id,
                    {
                        "destination": "waste",
                        "occurred_at": at,
                        "lines": [{"category_code": "C_16", "weight_kg": _kg(rng, 5, 20)}],
                    },
                )
                if day.day <= 7:
                    await record_outflow(
                        system,
                        site.id,
                        {
                            "destination": "partner_gift",
                            "partner_organization_id": partner.id,
                            "occurred_at": at,
                            "lines": [{"category_code": "C_15", "weight_kg": _kg(rng, 10, 40)}],
                        },
                    )
        day += dt.timedelta(days=1)
