"""The core hooks the ressourcerie module implements."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fabcom.api import N_, Action, Item, hookimpl, set_module_enabled, system_principal
from modules.ressourcerie.services import (
    add_tare,
    offer_lot,
    record_intake,
    record_lot_handed_over,
    record_lot_received,
    record_outflow,
    record_sale,
    update_site_settings,
)

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
    # A surplus lot offered to the partners, and the site's figures shared with them.
    await offer_lot(
        system,
        site.id,
        {"title": "40 kg de textile (coupons et draps)", "category_code": "C_19", "quantity": "40"},
    )
    await update_site_settings(system, site.id, {"share_figures": True})
    # The counter's pages belong to ressourceries: the demo's fablab and coworking switch them off.
    for organization in context["organizations"].values():
        if organization.kind != "ressourcerie":
            await set_module_enabled(system, organization.id, {"module": "ressourcerie", "enabled": False})


@hookimpl
def fabcom_menu_items(organization: Any, principal: Any) -> list[dict[str, str]]:
    """The weighing station for those who weigh, the report for those who read the stock."""
    entries = []
    if principal.can(Action.INVENTORY_WRITE, organization.id):
        entries.append({"label": N_("Weighing"), "url": f"/m/ressourcerie/o/{organization.slug}/weighing"})
        entries.append({"label": N_("Till"), "url": f"/m/ressourcerie/o/{organization.slug}/till"})
        entries.append({"label": N_("Surplus lots"), "url": f"/m/ressourcerie/o/{organization.slug}/lots"})
    if principal.can(Action.INVENTORY_READ, organization.id):
        entries.append({"label": N_("Activity report"), "url": f"/m/ressourcerie/o/{organization.slug}/report"})
    return entries


def _as_donor(identity: dict[str, str]) -> Any:
    """Intakes or outflows naming the person (their name or e-mail, whatever the case)."""
    from tortoise.expressions import Q

    names = [v.strip() for v in (identity.get("display_name", ""), identity.get("email", "")) if len(v.strip()) >= 3]
    query = Q(id=-1)  # matches nothing: no name long enough to look for
    for name in names:
        query |= Q(donor_name__iexact=name)
    return query


@hookimpl
async def fabcom_member_data(user_id: int) -> dict[str, Any]:
    """The intakes a person donated under their account's name, for their data download."""
    from fabcom.api import User
    from modules.ressourcerie.models import Intake

    user = await User.get_or_none(id=user_id)
    if user is None:
        return {}
    intakes = await Intake.filter(_as_donor({"display_name": user.display_name, "email": user.email})).order_by("id")
    return {
        "ressourcerie": {
            "donations": [
                {"occurred_at": i.occurred_at.isoformat(), "donor_name": i.donor_name, "note": i.note} for i in intakes
            ]
        }
    }


@hookimpl
async def fabcom_erase_member(user_id: int, identity: dict[str, str]) -> None:
    """Intakes donated by the person become anonymous donations (weights stay, so the
    activity report does not change); outflows sold to them lose the buyer's name; a sale
    they were ringing up at a till is forgotten."""
    from modules.ressourcerie.models import DonorKind, Intake, Outflow, TillDraft

    await TillDraft.filter(user_id=user_id).delete()
    await Intake.filter(_as_donor(identity)).update(donor_name="", donor_kind=DonorKind.ANONYMOUS, collection_point="")
    for value in (identity.get("display_name", ""), identity.get("email", "")):
        if len(value.strip()) >= 3:
            await Outflow.filter(buyer__iexact=value.strip()).update(buyer="")


def _archive_models() -> list[Any]:
    from modules.ressourcerie.models import (
        CashClosing,
        CollectionMode,
        Intake,
        IntakeLine,
        Outflow,
        OutflowLine,
        ReceiptCounter,
        Sale,
        SaleLine,
        Tare,
        TillDraft,
    )

    return [
        CollectionMode,
        Tare,
        Intake,
        IntakeLine,
        Outflow,
        OutflowLine,
        CashClosing,
        Sale,
        SaleLine,
        ReceiptCounter,
        TillDraft,
    ]


DRAFTS = "modules/ressourcerie/ressourcerie_till_draft.jsonld"


def _item_lines(lines: list[str], swap: Any) -> list[str]:
    """A draft's lines with the item of each item line (``item:<item>:<price>``, the till's
    token) replaced by ``swap(item)``; a line whose item ``swap`` answers None is left out."""
    swapped = []
    for line in lines:
        kind, _, rest = line.partition(":")
        item, _, price = rest.rpartition(":")
        if kind != "item":
            swapped.append(line)
        elif (new := swap(item)) is not None:
            swapped.append(f"item:{new}:{price}")
    return swapped


@hookimpl
async def fabcom_org_export(context: Any) -> None:
    """Weighings, outflows, sales, receipts numbering, cash closings and the sales being
    rung up (till drafts) go with the archive."""
    await context.export_models("modules/ressourcerie/", _archive_models())
    # A draft names its items by id (``item:12:15.00``): in the archive, by their archive
    # reference, as every other link is. The draft of someone who is no longer a member
    # is left out: nobody could take it up, and the import could not give it to anyone.
    items = context.refs.get("fabcom_item", {})
    document = context.documents[DRAFTS]
    drafts = [draft for draft in document["orderedItems"] if draft["user"] is not None]
    for draft in drafts:
        draft["lines"] = _item_lines(draft["lines"], lambda pk: items.get(int(pk)) if pk.isdigit() else None)
    document["orderedItems"], document["totalItems"] = drafts, len(drafts)


@hookimpl
async def fabcom_org_import(context: Any) -> None:
    from fabcom.ops.orgarchive import ArchiveError

    # The drafts' item references become the new items' ids (an unknown one refuses the
    # archive); a document of another shape is refused by ``import_models``.
    document = context.documents.get(DRAFTS)
    drafts = document.get("orderedItems") if isinstance(document, dict) else None
    for draft in drafts if isinstance(drafts, list) else []:
        lines = draft.get("lines") if isinstance(draft, dict) else None
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise ArchiveError(
                f"{draft.get('id') if isinstance(draft, dict) else DRAFTS}: lines must be a list of texts"
            )
        draft["lines"] = _item_lines(lines, lambda ref: context.resolve(Item, ref))
    await context.import_models("modules/ressourcerie/", _archive_models())


@hookimpl
async def fabcom_exchange_handed_over(actor: Any, request: Any, item: Any, quantity: Any, weight_kg: Any) -> None:
    """A surplus lot handed over to a partner leaves as an outflow "gift to partner"."""
    await record_lot_handed_over(actor, item, request.requester_organization_id, weight_kg, request.id)


@hookimpl
async def fabcom_exchange_received(organization_id: int, exchange: Any, item: Any, weight_kg: Any) -> None:
    """A lot received from a partner on another server enters as an intake from that partner."""
    await record_lot_received(organization_id, exchange, item, weight_kg)
