"""Ressourcerie services: weighing in and out, selling, closing the till.

Every write goes through here: each checks the actor, validates the whole input before
writing anything, writes in one transaction and records an audit entry."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from fabcom.api import (
    N_,
    Action,
    Category,
    ErrorCode,
    FieldError,
    Input,
    InputError,
    Item,
    NotFound,
    Organization,
    PermissionDenied,
    Principal,
    ServiceError,
    ValidationFailed,
    archived_refusal,
    clock,
    create_item,
    in_transaction,
    module_enabled,
    module_settings,
    parse,
    record,
    record_movement,
    snapshot,
    system_principal,
)
from modules.ressourcerie.models import (
    DEFAULT_COLLECTION_MODES,
    CashClosing,
    CollectionMode,
    Destination,
    DonorKind,
    Intake,
    IntakeLine,
    Outflow,
    OutflowLine,
    PaymentMode,
    ReceiptCounter,
    Sale,
    SaleLine,
    SiteSettings,
    Tare,
    TillDraft,
)

log = logging.getLogger("modules.ressourcerie.services")

Kg = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=3)]
Euros = Annotated[Decimal, Field(ge=0, le=100_000, max_digits=10, decimal_places=2)]


def settings() -> Any:
    return module_settings("ressourcerie")


def _require(actor: Principal, action: Action, organization_id: int) -> None:
    if not actor.can(action, organization_id):
        raise PermissionDenied()


async def ensure_collection_modes(organization_id: int) -> None:
    """Give a site the sector's usual collection modes the first time it is used."""
    if await CollectionMode.exists(organization_id=organization_id):
        return
    for code, (label_fr, label_en) in DEFAULT_COLLECTION_MODES.items():
        await CollectionMode.create(organization_id=organization_id, code=code, label_fr=label_fr, label_en=label_en)


async def _categories(codes: list[str], field: str, *, streams: bool = False) -> dict[str, Category]:
    """The categories of ``codes``; with ``streams``, each must be a stream: a category
    without sub-categories (C_01…C_28 in the shared taxonomy, which carry the REP channels
    reports and eco-organismes count by). « Électroménager » is three streams, not one."""
    found = {c.code: c for c in await Category.filter(code__in=codes)}
    errors = [
        FieldError(
            ErrorCode.INVALID, N_("Unknown category code {category}."), f"{field}.{n}.category_code", {"category": code}
        )
        for n, code in enumerate(codes)
        if code not in found
    ]
    if streams and not errors:
        children: dict[int, list[Category]] = {}
        for child in await Category.filter(parent_id__in=[c.id for c in found.values()]).order_by("code"):
            children.setdefault(child.parent_id, []).append(child)  # type: ignore[attr-defined]
        errors = [
            stream_refusal(found[code], children[found[code].id], f"{field}.{n}.category_code")
            for n, code in enumerate(codes)
            if found[code].id in children
        ]
    if errors:
        raise ValidationFailed(errors)
    return found


def stream_refusal(category: Category, children: list[Category], field: str) -> FieldError:
    """A line on a category that has sub-categories: say which to weigh on instead. The
    labels are given in both languages (a service does not know who will read the
    message): each translation names its own."""
    return FieldError(
        ErrorCode.INVALID,
        N_("{category_en} has sub-categories: weigh on one of them ({streams_en})."),
        field,
        {
            "category_fr": category.label_fr,
            "category_en": category.label_en,
            "streams_fr": ", ".join(f"{c.code} {c.label_fr}" for c in children),
            "streams_en": ", ".join(f"{c.code} {c.label_en}" for c in children),
        },
    )


def _line_count(lines: Any, most: int) -> Any:
    """From 1 to ``most`` lines, said with the limits (the generic "not valid" says nothing)."""
    if isinstance(lines, list | tuple) and not 1 <= len(lines) <= most:
        raise InputError(N_("Give between 1 and {most} lines."), most=most)
    return lines


# --- tares --------------------------------------------------------------------------


class TareInput(Input):
    name: str = Field(min_length=1, max_length=80)
    weight_kg: Annotated[Decimal, Field(gt=0, le=1000, max_digits=8, decimal_places=3)]


async def add_tare(actor: Principal, organization_id: int, data: dict[str, Any] | TareInput) -> Tare:
    """Declare a container (crate, trolley) whose weight is taken off at weighing."""
    _require(actor, Action.INVENTORY_WRITE, organization_id)
    payload = parse(TareInput, data)
    if await Tare.exists(organization_id=organization_id, name=payload.name):
        raise ValidationFailed.single(ErrorCode.ALREADY_EXISTS, N_("This container already exists."), "name")
    async with in_transaction():
        tare = await Tare.create(organization_id=organization_id, **payload.model_dump())
        await record(actor, "ressourcerie.tare.create", tare, organization_id=organization_id, after=snapshot(tare))
    return tare


# --- intakes ------------------------------------------------------------------------


class IntakeLineInput(Input):
    category_code: str = Field(min_length=1, max_length=40)
    gross_kg: Kg
    tare_id: int | None = None
    # Follow this object on its own: it becomes an inventory item, traced from its donation.
    item_title: str = Field(default="", max_length=200)


class IntakeInput(Input):
    mode_code: str = Field(min_length=1, max_length=40)
    occurred_at: dt.datetime | None = None
    donor_kind: DonorKind = DonorKind.ANONYMOUS
    donor_name: str = Field(default="", max_length=200)
    donor_organization_id: int | None = None
    collection_point: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=500)
    lines: list[IntakeLineInput]

    @field_validator("lines", mode="before")
    @classmethod
    def _count(cls, lines: Any) -> Any:
        return _line_count(lines, 100)

    @model_validator(mode="after")
    def _donor(self) -> IntakeInput:
        if self.donor_kind == DonorKind.PERSON and not self.donor_name:
            raise InputError(N_("Give the donor's name, or record the donation as anonymous."))
        if self.donor_kind == DonorKind.ORGANIZATION and not (self.donor_name or self.donor_organization_id):
            raise InputError(N_("Say which organization gave."))
        if self.occurred_at is not None and (
            self.occurred_at.tzinfo is None or self.occurred_at > clock.now() + dt.timedelta(minutes=5)
        ):
            raise InputError(N_("Give a past time with its time zone."))
        return self


async def record_intake(
    actor: Principal, organization_id: int, data: dict[str, Any] | IntakeInput, *, streams_only: bool = True
) -> Intake:
    """Record an arrival and its weighings. Net = gross − tare. Refused as a whole —
    nothing written — if one line is wrong. Each line is weighed on a stream (a category
    without sub-categories); ``streams_only=False`` is for the intake of a lot handed over
    by a partner, which keeps the category of the partner's item, whatever it is."""
    _require(actor, Action.INVENTORY_WRITE, organization_id)
    payload = parse(IntakeInput, data)
    await ensure_collection_modes(organization_id)
    mode = await CollectionMode.get_or_none(organization_id=organization_id, code=payload.mode_code, active=True)
    if mode is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown collection mode."), "mode_code")
    if payload.donor_organization_id and not await Organization.exists(id=payload.donor_organization_id):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown organization."), "donor_organization_id")
    categories = await _categories([line.category_code for line in payload.lines], "lines", streams=streams_only)
    tares = {t.id: t for t in await Tare.filter(organization_id=organization_id, active=True)}
    limit = settings().max_line_kg
    errors: list[FieldError] = []
    nets: list[Decimal] = []
    for n, line in enumerate(payload.lines):
        tare = tares.get(line.tare_id) if line.tare_id is not None else None
        if line.tare_id is not None and tare is None:
            errors.append(FieldError(ErrorCode.INVALID, N_("Unknown container."), f"lines.{n}.tare_id"))
            continue
        if line.gross_kg > limit:
            errors.append(
                FieldError(
                    ErrorCode.OUT_OF_RANGE,
                    N_("{weight} kg on one line is more than the {limit} kg allowed: check the weight."),
                    f"lines.{n}.gross_kg",
                    {"weight": line.gross_kg, "limit": limit},
                )
            )
        tare_kg = tare.weight_kg if tare else Decimal(0)
        if tare_kg >= line.gross_kg:
            errors.append(
                FieldError(
                    ErrorCode.INVALID,
                    N_("The container ({tare} kg) weighs as much as the weighing or more."),
                    f"lines.{n}.tare_id",
                    {"tare": tare_kg},
                )
            )
        nets.append(line.gross_kg - tare_kg)
    if errors:
        raise ValidationFailed(errors)
    occurred_at = payload.occurred_at or clock.now()
    async with in_transaction():
        intake = await Intake.create(
            organization_id=organization_id,
            mode_id=mode.id,
            occurred_at=occurred_at,
            donor_kind=payload.donor_kind,
            donor_name=payload.donor_name,
            donor_organization_id=payload.donor_organization_id,
            collection_point=payload.collection_point,
            note=payload.note,
            author_id=actor.user_id,
        )
        for line, net in zip(payload.lines, nets, strict=True):
            item = None
            if line.item_title:
                item = await create_item(
                    actor,
                    organization_id,
                    {
                        "title": line.item_title,
                        "category_code": line.category_code,
                        "unit_weight_kg": net,
                        "initial_quantity": 1,
                        "initial_kind": "donation",
                        "counterparty": payload.donor_name,
                        "attributes": {"ressourcerie_intake": intake.id},
                    },
                )
            await IntakeLine.create(
                intake_id=intake.id,
                category_id=categories[line.category_code].id,
                gross_kg=line.gross_kg,
                tare_kg=line.gross_kg - net,
                net_kg=net,
                item_id=item.id if item else None,
                author_id=actor.user_id,
            )
        await record(
            actor,
            "ressourcerie.intake.record",
            intake,
            organization_id=organization_id,
            after={**snapshot(intake), "net_kg": str(sum(nets))},
        )
    return intake


async def undo_intake_line(actor: Principal, line_id: int) -> None:
    """Take back a weighing just typed (by the person who typed it, within a minute)."""
    line = await IntakeLine.get_or_none(id=line_id).prefetch_related("intake")
    if line is None or line.author_id != actor.user_id:  # type: ignore[attr-defined]
        raise NotFound("intake_line")
    organization_id = line.intake.organization_id  # type: ignore[attr-defined]
    _require(actor, Action.INVENTORY_WRITE, organization_id)
    if clock.now() - line.created_at > dt.timedelta(seconds=settings().undo_seconds):
        raise ValidationFailed.single(
            ErrorCode.INVALID_STATE, N_("Too late to undo: ask a staff member to correct it."), None
        )
    if line.item_id is not None:  # type: ignore[attr-defined]
        raise ValidationFailed.single(
            ErrorCode.INVALID_STATE, N_("This weighing created an inventory item: correct the item instead."), None
        )
    async with in_transaction():
        await record(
            actor, "ressourcerie.intake_line.undo", line, organization_id=organization_id, before=snapshot(line)
        )
        intake_id = line.intake_id  # type: ignore[attr-defined]
        await line.delete()
        if not await IntakeLine.exists(intake_id=intake_id):
            await Intake.filter(id=intake_id).delete()


# --- outflows -----------------------------------------------------------------------


class OutflowLineInput(Input):
    category_code: str = Field(min_length=1, max_length=40)
    weight_kg: Kg


class OutflowInput(Input):
    destination: Destination
    occurred_at: dt.datetime | None = None
    buyer: str = Field(default="", max_length=200)
    partner_organization_id: int | None = None
    note: str = Field(default="", max_length=500)
    lines: list[OutflowLineInput]

    @field_validator("lines", mode="before")
    @classmethod
    def _count(cls, lines: Any) -> Any:
        return _line_count(lines, 100)

    @model_validator(mode="after")
    def _partner(self) -> OutflowInput:
        if self.destination == Destination.PARTNER_GIFT and not self.partner_organization_id:
            raise InputError(N_("Say which partner association receives the gift."))
        if self.occurred_at is not None and (
            self.occurred_at.tzinfo is None or self.occurred_at > clock.now() + dt.timedelta(minutes=5)
        ):
            raise InputError(N_("Give a past time with its time zone."))
        return self


async def _create_outflow(
    actor: Principal,
    organization_id: int,
    payload: OutflowInput,
    *,
    streams: bool = True,
    positions: list[int] | None = None,
) -> Outflow:
    """``streams``: each line on a category without sub-categories (see ``_categories``);
    ``positions``: where each line stands in what the caller gave (a sale's lots among its
    items), for the refusals to name the right line."""
    where = positions or list(range(len(payload.lines)))
    try:
        categories = await _categories([line.category_code for line in payload.lines], "lines", streams=streams)
    except ValidationFailed as exc:
        raise ValidationFailed([_renumbered(error, where) for error in exc.errors]) from None
    limit = settings().max_line_kg
    errors = [
        FieldError(
            ErrorCode.OUT_OF_RANGE,
            N_("{weight} kg on one line is more than the {limit} kg allowed: check the weight."),
            f"lines.{where[n]}.weight_kg",
            {"weight": line.weight_kg, "limit": limit},
        )
        for n, line in enumerate(payload.lines)
        if line.weight_kg > limit
    ]
    if errors:
        raise ValidationFailed(errors)
    if payload.partner_organization_id and not await Organization.exists(id=payload.partner_organization_id):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown organization."), "partner_organization_id")
    outflow = await Outflow.create(
        organization_id=organization_id,
        occurred_at=payload.occurred_at or clock.now(),
        destination=payload.destination,
        buyer=payload.buyer,
        partner_organization_id=payload.partner_organization_id,
        note=payload.note,
        author_id=actor.user_id,
    )
    for line in payload.lines:
        await OutflowLine.create(
            outflow_id=outflow.id, category_id=categories[line.category_code].id, weight_kg=line.weight_kg
        )
    await record(
        actor, "ressourcerie.outflow.record", outflow, organization_id=organization_id, after=snapshot(outflow)
    )
    return outflow


def _renumbered(error: FieldError, positions: list[int]) -> FieldError:
    """``lines.N.…`` of the N-th line given to ``_create_outflow`` as the caller's own position."""
    parts = (error.field or "").split(".")
    if len(parts) > 2 and parts[0] == "lines" and parts[1].isdigit():
        parts[1] = str(positions[int(parts[1])])
        return dataclasses.replace(error, field=".".join(parts))
    return error


async def record_outflow(actor: Principal, organization_id: int, data: dict[str, Any] | OutflowInput) -> Outflow:
    """Record things leaving: to the shop floor's buyers, a partner, recycling or waste."""
    _require(actor, Action.INVENTORY_WRITE, organization_id)
    payload = parse(OutflowInput, data)
    async with in_transaction():
        return await _create_outflow(actor, organization_id, payload)


# --- the till -------------------------------------------------------------------------


class SaleLineInput(Input):
    item_id: int | None = None
    category_code: str | None = None
    weight_kg: Kg | None = None
    label: str = Field(default="", max_length=200)
    quantity: Annotated[Decimal, Field(gt=0, le=10_000, max_digits=10, decimal_places=3)] = Decimal(1)
    amount: Euros

    @model_validator(mode="after")
    def _what_is_sold(self) -> SaleLineInput:
        if self.item_id is None and not (self.category_code and self.weight_kg):
            raise InputError(N_("Sell an inventory item, or a weighed lot with its category and weight."))
        return self


class SaleInput(Input):
    payment_mode: PaymentMode
    lines: list[SaleLineInput]

    @field_validator("lines", mode="before")
    @classmethod
    def _count(cls, lines: Any) -> Any:
        return _line_count(lines, 200)

    # Entering the paper receipts of a day without network: a past time, else now.
    occurred_at: dt.datetime | None = None

    @model_validator(mode="after")
    def _past(self) -> SaleInput:
        if self.occurred_at is not None and (
            self.occurred_at.tzinfo is None or self.occurred_at > clock.now() + dt.timedelta(minutes=5)
        ):
            raise InputError(N_("Give a past time with its time zone."))
        return self


async def record_sale(actor: Principal, organization_id: int, data: dict[str, Any] | SaleInput) -> Sale:
    """Ring up a sale. An inventory item leaves the stock (a sale movement: an item
    already sold is refused); weighed lots are recorded as one outflow to the shop."""
    _require(actor, Action.INVENTORY_WRITE, organization_id)
    payload = parse(SaleInput, data)
    items = {
        i.id: i
        for i in await Item.filter(
            id__in=[line.item_id for line in payload.lines if line.item_id],
            organization_id=organization_id,
            deleted_at__isnull=True,
        )
    }
    refused = [
        FieldError(ErrorCode.INVALID, N_("Unknown item."), f"lines.{n}.item_id")
        for n, line in enumerate(payload.lines)
        if line.item_id and line.item_id not in items
    ]
    refused += [
        problem
        for n, line in enumerate(payload.lines)
        if line.item_id in items and (problem := archived_refusal(items[line.item_id], f"lines.{n}.item_id"))
    ]
    if refused:
        raise ValidationFailed(refused)
    lots = [line for line in payload.lines if line.item_id is None]
    occurred_at = payload.occurred_at or clock.now()
    if not await ReceiptCounter.exists(organization_id=organization_id):
        with contextlib.suppress(IntegrityError):  # another till created it at the same moment
            await ReceiptCounter.create(organization_id=organization_id)
    async with in_transaction():
        # Taking the next number locks the counter row until commit: tills queue here.
        await ReceiptCounter.filter(organization_id=organization_id).update(last_number=F("last_number") + 1)
        # Checked under that lock, which closing the till takes too: a closed day's totals
        # are final, and a sale filed under it would belong to no closing.
        day = local_day(occurred_at)
        if await CashClosing.exists(organization_id=organization_id, day=day):
            raise ValidationFailed.single(
                ErrorCode.INVALID, N_("This day's till is closed: no more sales can be recorded on it.")
            )
        number = (await ReceiptCounter.get(organization_id=organization_id)).last_number
        outflow = None
        if lots:
            outflow = await _create_outflow(
                actor,
                organization_id,
                OutflowInput(
                    destination=Destination.SALE,
                    occurred_at=occurred_at,
                    lines=[
                        OutflowLineInput(category_code=line.category_code or "", weight_kg=line.weight_kg or Decimal(0))
                        for line in lots
                    ],
                ),
                positions=[n for n, line in enumerate(payload.lines) if line.item_id is None],
            )
        sale = await Sale.create(
            organization_id=organization_id,
            number=number,
            occurred_at=occurred_at,
            payment_mode=payload.payment_mode,
            cashier_id=actor.user_id,
            total=sum((line.amount for line in payload.lines), Decimal(0)),
            outflow_id=outflow.id if outflow else None,
        )
        for n, line in enumerate(payload.lines):
            item = items.get(line.item_id) if line.item_id else None
            if item is not None:
                try:
                    await record_movement(
                        actor, item.id, {"kind": "sale", "quantity": line.quantity, "note": f"ticket {sale.number}"}
                    )
                except ValidationFailed as exc:
                    if exc.errors[0].code == ErrorCode.INSUFFICIENT_STOCK:
                        raise ValidationFailed.single(
                            ErrorCode.INSUFFICIENT_STOCK,
                            N_("{title} is already sold or out of stock."),
                            f"lines.{n}.item_id",
                            title=item.title,
                        ) from None
                    raise
            category = (await Category.get(code=line.category_code)) if line.category_code else None
            await SaleLine.create(
                sale_id=sale.id,
                item_id=item.id if item else None,
                category_id=category.id if category else None,
                label=line.label or (item.title if item else (category.label_fr if category else "")),
                quantity=line.quantity,
                weight_kg=line.weight_kg,
                amount=line.amount,
            )
        await record(actor, "ressourcerie.sale.record", sale, organization_id=organization_id, after=snapshot(sale))
    return sale


class TillDraftInput(Input):
    # The page's own tokens (till_views.CartLine.token), re-read when the draft is shown.
    lines: list[Annotated[str, Field(max_length=120)]] = Field(default_factory=list, max_length=200)
    payment_mode: PaymentMode | None = None


async def save_till_draft(actor: Principal, organization_id: int, data: dict[str, Any] | TillDraftInput) -> None:
    """Keep the sale a cashier is ringing up, so that it survives a reload; an empty sale
    leaves no draft. Not audited: a draft is a scratch pad, the sale it becomes is."""
    _require(actor, Action.INVENTORY_WRITE, organization_id)
    payload = parse(TillDraftInput, data)
    if actor.user_id is None:  # the till is a signed-in person's page
        return
    # Each statement stands alone (no transaction): a draft is one row, and a unique clash
    # would abort a PostgreSQL transaction around it.
    mine = TillDraft.filter(organization_id=organization_id, user_id=actor.user_id)
    if not payload.lines:
        await mine.delete()
        return
    values = {"lines": payload.lines, "payment_mode": payload.payment_mode.value if payload.payment_mode else ""}
    # One row per cashier and site (unique): update it, or create it the first time.
    if not await mine.update(**values):
        try:
            await TillDraft.create(organization_id=organization_id, user_id=actor.user_id, **values)
        except IntegrityError:  # the same cashier's other tab created it meanwhile: the newest wins
            await mine.update(**values)


async def discard_till_draft(actor: Principal, organization_id: int) -> None:
    """Forget the sale being rung up (cancelled by the cashier, or validated)."""
    _require(actor, Action.INVENTORY_WRITE, organization_id)
    await TillDraft.filter(organization_id=organization_id, user_id=actor.user_id).delete()


def local_day(moment: dt.datetime, zone: str = "Europe/Paris") -> dt.date:
    """The site's day ``moment`` falls on (the day a till closing counts it in)."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone)).date()


def local_day_bounds(day: dt.date, zone: str = "Europe/Paris") -> tuple[dt.datetime, dt.datetime]:
    from zoneinfo import ZoneInfo

    start = dt.datetime.combine(day, dt.time(0), ZoneInfo(zone))
    return start, start + dt.timedelta(days=1)


class ClosingInput(Input):
    day: dt.date
    # The change put in the drawer before the first sale: it is in the cash counted too.
    cash_float: Euros | None = None
    cash_counted: Euros | None = None

    @field_validator("day")
    @classmethod
    def _not_ahead(cls, day: dt.date) -> dt.date:
        # Tomorrow is allowed: a site a few time zones east of the server's clock.
        if day > clock.today() + dt.timedelta(days=1):
            raise InputError(N_("A day in the future cannot be closed."))
        return day

    @field_validator("cash_float", "cash_counted", mode="before")
    @classmethod
    def _not_negative(cls, value: Any, info: ValidationInfo) -> Any:
        # Said in the counter's words rather than « Must be at least 0 ».
        try:
            negative = value is not None and value != "" and Decimal(value) < 0
        except (ArithmeticError, TypeError, ValueError):
            return value  # not a number: the usual message says so
        if negative and info.field_name == "cash_float":
            raise InputError(N_("The starting float cannot be negative."))
        if negative:
            raise InputError(N_("The cash counted cannot be negative."))
        return value


def cash_expected(cash_sales: Decimal, cash_float: Decimal | None) -> Decimal:
    """The cash that should be in the drawer: the float plus the day's cash sales."""
    return cash_sales + (cash_float or Decimal(0))


async def close_till(actor: Principal, organization_id: int, data: dict[str, Any] | ClosingInput) -> CashClosing:
    """Close a day's till: totals per payment mode, and the difference between the cash
    counted and the cash expected (the starting float plus the cash sales)."""
    _require(actor, Action.INVENTORY_DELETE, organization_id)
    payload = parse(ClosingInput, data)  # a day in the future is refused there
    if await CashClosing.exists(organization_id=organization_id, day=payload.day):
        raise ValidationFailed.single(ErrorCode.ALREADY_EXISTS, N_("This day's till is already closed."), "day")
    start, end = local_day_bounds(payload.day)
    async with in_transaction():
        # The tills' lock (see record_sale): no sale slips in between the count and the closing.
        await ReceiptCounter.filter(organization_id=organization_id).update(last_number=F("last_number"))
        sales = await Sale.filter(
            organization_id=organization_id, occurred_at__gte=start, occurred_at__lt=end, closing_id__isnull=True
        )
        totals: dict[str, Decimal] = {}
        for sale in sales:
            totals[sale.payment_mode.value] = totals.get(sale.payment_mode.value, Decimal(0)) + sale.total
        cash = totals.get(PaymentMode.CASH.value, Decimal(0))
        closing = await CashClosing.create(
            organization_id=organization_id,
            day=payload.day,
            closed_by_id=actor.user_id,
            sales_count=len(sales),
            totals={mode: str(amount) for mode, amount in sorted(totals.items())},
            cash_float=payload.cash_float,
            cash_counted=payload.cash_counted,
            cash_difference=(
                payload.cash_counted - cash_expected(cash, payload.cash_float)
                if payload.cash_counted is not None
                else None
            ),
        )
        await Sale.filter(id__in=[s.id for s in sales]).update(closing_id=closing.id)
        await record(
            actor, "ressourcerie.till.close", closing, organization_id=organization_id, after=snapshot(closing)
        )
    return closing


# --- the site's settings ------------------------------------------------------------------


class SiteSettingsInput(Input):
    share_figures: bool


async def update_site_settings(
    actor: Principal, organization_id: int, data: dict[str, Any] | SiteSettingsInput
) -> SiteSettings:
    """Choose whether partners' reports may add this site's kg collected and diverted to
    their network totals (the organization's managers decide)."""
    _require(actor, Action.ORG_MANAGE, organization_id)
    payload = parse(SiteSettingsInput, data)
    async with in_transaction():
        current, _ = await SiteSettings.get_or_create(organization_id=organization_id)
        before = snapshot(current)
        current.share_figures = payload.share_figures
        await current.save()
        # Partner sites learn at once (the daily job keeps them up to date after).
        from modules.ressourcerie.figures import publish_figures

        await publish_figures(organization_id)
        await current.refresh_from_db()
        await record(
            actor,
            "ressourcerie.settings.update",
            current,
            organization_id=organization_id,
            before=before,
            after=snapshot(current),
        )
    return current


# --- surplus lots offered to partners ------------------------------------------------------

LOT_ATTRIBUTE = "ressourcerie_lot"


class LotInput(Input):
    title: str = Field(min_length=1, max_length=200)
    category_code: str = Field(min_length=1, max_length=40)
    # "40 kg de textile": 40 in kg; "12 chaises": 12 pieces weighing 60 kg in all.
    quantity: Annotated[Decimal, Field(gt=0, le=100_000, max_digits=10, decimal_places=3)]
    unit: str = Field(default="kg", pattern="^(kg|piece)$")
    weight_kg: Kg | None = None
    description: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _weighed(self) -> LotInput:
        if self.unit == "piece" and self.weight_kg is None:
            raise InputError(N_("Give the lot's total weight in kg, so that its outflow can be counted."))
        return self


async def offer_lot(actor: Principal, organization_id: int, data: dict[str, Any] | LotInput) -> Item:
    """Offer a surplus lot to partners: a core item given away, visible to partners, so
    that it shows in their network search and is asked for through exchange requests.
    When it is handed over, an outflow "gift to partner" is recorded (see hooks.py)."""
    _require(actor, Action.INVENTORY_WRITE, organization_id)
    payload = parse(LotInput, data)
    # On a stream, as intake and outflow lines are: its hand-over is weighed out on the
    # lot's category, and reports and eco-organismes count by stream.
    await _categories([payload.category_code], "lot", streams=True)
    weight = payload.quantity if payload.unit == "kg" else payload.weight_kg
    assert weight is not None
    limit = settings().max_line_kg
    if weight > limit:
        raise ValidationFailed.single(
            ErrorCode.OUT_OF_RANGE,
            N_("{weight} kg on one line is more than the {limit} kg allowed: check the weight."),
            "weight_kg" if payload.unit == "piece" else "quantity",
            weight=weight,
            limit=limit,
        )
    unit_weight = Decimal(1) if payload.unit == "kg" else (weight / payload.quantity).quantize(Decimal("0.001"))
    return await create_item(
        actor,
        organization_id,
        {
            "title": payload.title,
            "description": payload.description,
            "category_code": payload.category_code,
            "unit": payload.unit,
            "unit_weight_kg": unit_weight,
            "visibility": "partners",
            "sharing_modes": ["give"],
            "initial_quantity": payload.quantity,
            "initial_kind": "collection",
            "attributes": {LOT_ATTRIBUTE: True},
        },
    )


async def record_lot_handed_over(
    actor: Principal, item: Item, partner_id: int, weight_kg: Decimal | None, exchange_request_id: int
) -> Outflow | None:
    """The outflow "gift to partner" of a surplus lot just handed over (and, when the partner
    is a local ressourcerie, its intake from this site). Called by the exchange hook, inside
    the hand-over's transaction: the actor is the owner's staff who handed it over."""
    if not (item.attributes or {}).get(LOT_ATTRIBUTE) or not weight_kg:
        return None
    category = await Category.get_or_none(id=item.category_id)  # type: ignore[attr-defined]
    if category is None:
        return None
    owner_id: int = item.organization_id  # type: ignore[attr-defined]
    note = f"exchange request {exchange_request_id}: {item.title}"[:500]
    # The item's category, whatever it is: the lot is handed over already, and a lot
    # offered on a parent category (« Électroménager ») before lots had to be on a
    # stream is still weighed out.
    outflow = await _create_outflow(
        actor,
        owner_id,
        OutflowInput(
            destination=Destination.PARTNER_GIFT,
            partner_organization_id=partner_id,
            note=note,
            lines=[OutflowLineInput(category_code=category.code, weight_kg=weight_kg)],
        ),
        streams=False,
    )
    partner = await Organization.get(id=partner_id)
    if partner.is_local and (partner.kind == "ressourcerie" or await CollectionMode.exists(organization_id=partner_id)):
        # Written for the partner by the system: the owner's staff may not write there.
        await record_intake(
            system_principal(),
            partner_id,
            {
                "mode_code": "autre",
                "donor_kind": DonorKind.ORGANIZATION,
                "donor_organization_id": owner_id,
                "note": note,
                "lines": [{"category_code": category.code, "gross_kg": weight_kg}],
            },
            streams_only=False,
        )
    return outflow


async def record_lot_received(
    organization_id: int, exchange: Any, item: Item | None, weight_kg: Decimal | None
) -> Intake | None:
    """The intake of a lot a partner on another server handed over to this site, when this
    site runs the ressourcerie and the weight is known (an item counted in kg); called by
    the federation's exchange code through ``fabcom_exchange_received``, inside the
    transaction recording the hand-over. A weight this site would refuse is logged and
    skipped: the gift itself stands."""
    if item is None or not weight_kg or not await module_enabled("ressourcerie", organization_id):
        return None
    site = await Organization.get(id=organization_id)
    if site.kind != "ressourcerie" and not await CollectionMode.exists(organization_id=organization_id):
        return None
    category = await Category.get_or_none(id=item.category_id) if item.category_id else None  # type: ignore[attr-defined]
    if category is None:
        log.warning("no intake for %s received by organization %s: no category", exchange.item_uri, organization_id)
        return None
    note = f"{exchange.item_title} ({exchange.item_uri})"[:500]
    try:
        async with in_transaction():
            return await record_intake(
                system_principal(),
                organization_id,
                {
                    "mode_code": "autre",
                    "donor_kind": DonorKind.ORGANIZATION,
                    "donor_organization_id": exchange.remote_organization_id,
                    "note": note,
                    "lines": [{"category_code": category.code, "gross_kg": weight_kg}],
                },
                streams_only=False,
            )
    except ServiceError as error:
        log.warning("no intake for %s received by organization %s: %s", exchange.item_uri, organization_id, error)
        return None
