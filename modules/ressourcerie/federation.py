"""What the ressourcerie takes from partner sites: their shared figures (see figures.py).

Everything received is untrusted: the activity's actor must be the verified sender, the
figures' id on the sender's host and attributed to it, the sender an accepted partner of
one of our organizations, and the numbers bounded. A sender only ever writes its own row;
an older copy never replaces a newer one; ``Delete`` (the partner stopped sharing) purges.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from tortoise.expressions import Q

from fabcom.api import Activity, Organization, Sender, handles, in_transaction
from fabcom.federation import vocab
from modules.ressourcerie.figures import FIGURES_TYPE, figures_uri
from modules.ressourcerie.models import RemoteFigures

log = logging.getLogger("modules.ressourcerie.federation")

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_KG = Decimal("1000000000")  # a billion kg a month is not a ressourcerie


class _Kg(BaseModel):
    model_config = ConfigDict(extra="ignore")
    hasNumericalValue: Decimal = Field(ge=0, le=MAX_KG, max_digits=16, decimal_places=3)
    hasUnit: str = Field(pattern="^kilogram$")

    @field_validator("hasNumericalValue", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        try:
            return Decimal(str(value)).quantize(Decimal("0.001"))
        except ArithmeticError:
            return value


class _Month(BaseModel):
    model_config = ConfigDict(extra="ignore")
    month: str = Field(pattern=MONTH.pattern)
    collected: _Kg
    reused: _Kg
    recycled: _Kg


class ReceivedFigures(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(max_length=500)
    updated: dt.datetime
    periodStart: dt.date
    periodEnd: dt.date
    months: list[_Month] = Field(max_length=60)

    @field_validator("updated")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("datetime without a time zone")
        return value


def _is_figures(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    kind = obj.get("type")
    return kind == FIGURES_TYPE or (isinstance(kind, list) and FIGURES_TYPE in kind)


async def _partner_here(organization_id: int) -> bool:
    """Whether the sender's organization is an accepted partner of a local organization."""
    from fabcom.network.models import Partnership, PartnershipStatus

    links = await Partnership.filter(status=PartnershipStatus.ACCEPTED).filter(
        Q(organization_id=organization_id) | Q(partner_id=organization_id)
    )
    others = {link.partner_id if link.organization_id == organization_id else link.organization_id for link in links}  # type: ignore[attr-defined]
    return bool(others) and await Organization.exists(id__in=others, is_local=True)


@handles("Create", "Update")
async def figures_received(activity: Activity, sender: Sender) -> bool:
    """A partner's figures: stored (or refreshed) in ``RemoteFigures``."""
    raw = activity.get("object")
    if not _is_figures(raw):
        return False
    try:
        if activity.get("actor") != sender.actor_uri:
            raise vocab.Refused(f"the activity's actor {activity.get('actor')!r} is not the sender")
        vocab.parse_object(raw, sender.actor_uri)  # size, origin, attributedTo
        figures = ReceivedFigures.model_validate(raw)
        if figures.id != figures_uri(sender.actor_uri):
            raise vocab.Refused("these are not the sender's own figures")
        if figures.periodEnd < figures.periodStart:
            raise vocab.Refused("the period ends before it starts")
    except ValidationError as exc:
        first = exc.errors()[0]
        log.warning("refused figures from %s: %s: %s", sender.actor_uri, ".".join(map(str, first["loc"])), first["msg"])
        return True
    except vocab.Refused as exc:
        log.warning("refused figures %s from %s: %s", vocab.object_uri(activity), sender.actor_uri, exc)
        return True
    if not await _partner_here(sender.organization_id):
        log.warning("refused figures from %s: not a partner", sender.actor_uri)
        return True
    months = {
        m.month: {"in": str(m.collected.hasNumericalValue), "reused": str(m.reused.hasNumericalValue),
                  "recycled": str(m.recycled.hasNumericalValue)}
        for m in figures.months
    }  # fmt: skip
    async with in_transaction():
        known = await RemoteFigures.filter(uri=figures.id).select_for_update().first()
        if known is not None and known.organization_id != sender.organization_id:  # type: ignore[attr-defined]
            log.warning("refused figures %s from %s: they belong to another organization", figures.id, sender.actor_uri)
            return True
        if known is not None and known.remote_updated_at > figures.updated:
            log.info("ignored figures %s from %s: older than ours", figures.id, sender.actor_uri)
            return True
        values = {
            "organization_id": sender.organization_id,
            "period_start": figures.periodStart,
            "period_end": figures.periodEnd,
            "months": months,
            "remote_updated_at": figures.updated,
        }
        if known is None:
            await RemoteFigures.create(uri=figures.id, **values)
        else:
            await RemoteFigures.filter(id=known.id).update(**values)
    return True


@handles("Delete")
async def figures_withdrawn(activity: Activity, sender: Sender) -> bool:
    """A partner stopped sharing its figures: they leave our network totals."""
    uri = vocab.object_uri(activity)
    if not uri or activity.get("actor") != sender.actor_uri:
        return False
    return await RemoteFigures.filter(uri=uri, organization_id=sender.organization_id).delete() > 0
