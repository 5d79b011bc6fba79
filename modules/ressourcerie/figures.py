"""A ressourcerie's figures shared with its partner sites, for their network totals.

A site that opted in (``SiteSettings.share_figures``) publishes to its partners one
``RessourcerieFigures`` object: per month, from the 1st of January of last year to today,
the kg collected, re-used (sold or given to partners) and recycled — nothing else, never
a donor, a sale or an amount. It goes out as ``Create`` the first time, ``Update`` when
the figures change (checked daily, and at once when the choice changes) and ``Delete``
when the site stops sharing. The receiving side is ``federation.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import orjson

from fabcom.api import Audience, Organization, clock, module_enabled, publish, system_principal
from fabcom.federation import vocab

FIGURES_TYPE = "RessourcerieFigures"
# The JSON-LD terms of the document, added to fabcom's context in each activity (the
# ``fabcom:`` namespace is a name, never fetched).
FIGURES_CONTEXT: dict[str, Any] = {
    FIGURES_TYPE: "fabcom:RessourcerieFigures",
    "periodStart": {"@id": "fabcom:periodStart", "@type": "xsd:date"},
    "periodEnd": {"@id": "fabcom:periodEnd", "@type": "xsd:date"},
    "months": {"@id": "fabcom:months", "@container": "@list"},
    "month": "fabcom:month",
    "collected": "fabcom:kgCollected",
    "reused": "fabcom:kgReused",
    "recycled": "fabcom:kgRecycled",
}


def figures_uri(actor: str) -> str:
    return f"{actor}/ressourcerie-figures"


def _kg(value: Decimal) -> dict[str, str]:
    return vocab.quantity(value, "kg")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def figures_object(
    *,
    actor: str,
    name: str,
    start: dt.date,
    end: dt.date,
    months: dict[str, dict[str, Decimal]],
    updated: dt.datetime,
) -> dict[str, Any]:
    """The figures as an object any fediverse software can show (``name``, ``summary``)
    with fabcom's terms: ``months`` in order, each with its kg as om2 quantities."""
    collected = sum((m["in"] for m in months.values()), Decimal(0))
    reused = sum((m["reused"] for m in months.values()), Decimal(0))
    recycled = sum((m["recycled"] for m in months.values()), Decimal(0))
    uri = figures_uri(actor)
    return {
        "id": uri,
        "type": FIGURES_TYPE,
        "name": f"{name}: kg collected, re-used and recycled",
        "summary": (
            f"{start.isoformat()} – {end.isoformat()}: {vocab.quantity(collected, 'kg')['hasNumericalValue']} kg "
            f"collected, {vocab.quantity(reused, 'kg')['hasNumericalValue']} kg re-used, "
            f"{vocab.quantity(recycled, 'kg')['hasNumericalValue']} kg recycled"
        ),
        "url": uri,
        "attributedTo": actor,
        "updated": _iso(updated),
        **vocab.addressing(Audience.PARTNERS, actor),
        "periodStart": start.isoformat(),
        "periodEnd": end.isoformat(),
        "collected": _kg(collected),
        "reused": _kg(reused),
        "recycled": _kg(recycled),
        "months": [
            {
                "month": key,
                "collected": _kg(value["in"]),
                "reused": _kg(value["reused"]),
                "recycled": _kg(value["recycled"]),
            }
            for key, value in sorted(months.items())
        ],
    }


def figures_activity(kind: str, obj: dict[str, Any], actor: str, published: dt.datetime) -> dict[str, Any]:
    """``Create`` / ``Update`` of the figures, or ``Delete`` (``obj`` a Tombstone), to partners."""
    activity = vocab.activity(kind, actor=actor, obj=obj, audience=Audience.PARTNERS, published=published)
    activity["@context"] = [*activity["@context"], FIGURES_CONTEXT]
    return activity


def shared_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """What is shared: last year and this year to date (a partner's yearly, monthly and
    custom reports of that span can add it)."""
    return dt.date(today.year - 1, 1, 1), today


async def monthly_figures(organization_id: int, start: dt.date, end: dt.date) -> dict[str, dict[str, Decimal]]:
    from modules.ressourcerie.reports import build_report

    report = await build_report(system_principal(), organization_id, start, end)
    return {
        key: {"in": value["in"], "reused": value["reused"], "recycled": value["recycled"]}
        for key, value in report.monthly.items()
        if value["in"] or value["reused"] or value["recycled"]
    }


def _digest(start: dt.date, months: dict[str, dict[str, Decimal]]) -> str:
    plain = {key: {k: str(v) for k, v in value.items()} for key, value in sorted(months.items())}
    return hashlib.sha256(orjson.dumps([start.isoformat(), plain], option=orjson.OPT_SORT_KEYS)).hexdigest()


async def publish_figures(organization_id: int) -> str | None:
    """Tell the site's partners about its figures when they changed since last time, or
    that they are withdrawn. Call it in a transaction; returns the activity type
    published (None when nothing changed)."""
    from modules.ressourcerie.models import SiteSettings

    org = await Organization.get_or_none(id=organization_id)
    current = await SiteSettings.get_or_none(organization_id=organization_id)
    if org is None or not org.is_local or current is None:
        return None
    actor = vocab.actor_id(org.slug)
    now = clock.now()
    sharing = current.share_figures and await module_enabled("ressourcerie", organization_id)
    if not sharing:
        if not current.figures_digest:
            return None
        tombstone = vocab.tombstone(figures_uri(actor), FIGURES_TYPE, now)
        await publish(organization_id, figures_activity("Delete", tombstone, actor, now), audience=Audience.PARTNERS)
        await SiteSettings.filter(id=current.id).update(figures_digest="")
        return "Delete"
    start, end = shared_period(clock.today())
    months = await monthly_figures(organization_id, start, end)
    digest = _digest(start, months)
    if digest == current.figures_digest:
        return None
    kind = "Update" if current.figures_digest else "Create"
    obj = figures_object(actor=actor, name=org.name, start=start, end=end, months=months, updated=now)
    await publish(organization_id, figures_activity(kind, obj, actor, now), audience=Audience.PARTNERS)
    await SiteSettings.filter(id=current.id).update(figures_digest=digest)
    return kind
