"""Booking services: the only writers of booking rules, bookings and the waiting list."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator
from tortoise.expressions import F, Q, Subquery

# A partner on this server has no mirror: its consenting members are read in place
# (``LocalMember``, their ``SharedProfile``).
from fabcom.api import (
    N_,
    Action,
    ErrorCode,
    Input,
    InputError,
    Item,
    ItemStatus,
    LocalMember,
    MirrorMember,
    NotFound,
    PermissionDenied,
    Principal,
    Role,
    SharedProfile,
    ValidationFailed,
    accepted_partners,
    call_async,
    clock,
    get_item_for,
    in_transaction,
    item_number,
    local_members,
    matching_items,
    module_enabled,
    parse,
    plugin_manager,
    rank_by_title,
    recognised_members,
    record,
    snapshot,
)
from modules.bookings import MANAGE
from modules.bookings.models import HOLDING_STATES, Booking, BookingRule, BookingState, WaitingListEntry

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
Minutes = Annotated[int, Field(ge=5, le=60 * 24 * 90)]


class RuleInput(Input):
    slot_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    buffer_minutes: Annotated[int, Field(ge=0, le=1440)] = 0
    max_duration_minutes: Minutes = 480
    opening_hours: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    timezone: str = "Europe/Paris"
    allowed_roles: list[Role] = Field(
        default_factory=lambda: [Role.OWNER, Role.ADMIN, Role.STAFF, Role.VOLUNTEER, Role.MEMBER]
    )
    partner_members_allowed: bool = False
    requires_approval: bool = False
    is_loan: bool = False
    deposit: Annotated[Decimal, Field(ge=0, le=100_000, decimal_places=2)] = Decimal(0)

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        for day, ranges in value.items():
            if day not in WEEKDAYS:
                raise InputError(N_("Unknown day {day}: use mon, tue, wed, thu, fri, sat, sun."), day=day)
            for start, end in ranges:
                if not (HHMM.match(start) and HHMM.match(end)) or start >= end:
                    raise InputError(N_("Opening hours must look like 09:00–18:00, the start before the end."))
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(N_("Unknown time zone {zone}."), zone=value) from None
        return value

    @model_validator(mode="after")
    def _durations(self) -> RuleInput:
        if self.max_duration_minutes < self.slot_minutes:
            raise InputError(N_("The longest booking must be at least one slot."))
        return self


def _no_such_item() -> ValidationFailed:
    # One answer for a missing item, another organization's and one the actor may not see:
    # the refusal tells nothing about what exists elsewhere.
    return ValidationFailed.single(ErrorCode.NOT_FOUND, N_("No item of this organization has this number."), "item_id")


async def make_bookable(
    actor: Principal, item_id: int, data: dict[str, Any] | RuleInput, *, organization_id: int | None = None
) -> BookingRule:
    """Make an item bookable with these rules (or change its rules), for those who manage
    the item's organization's bookings. ``organization_id``: the organization whose desk
    asks; an item of another one is refused as a missing one (``item_id`` NOT_FOUND), as
    is an archived item (no longer lent nor used)."""
    # Who asks comes first: someone who may not manage the desk's bookings learns nothing
    # of the items (not even whether the id exists).
    if organization_id is not None and not manages_bookings(actor, organization_id):
        raise PermissionDenied(N_("Only those who manage the bookings may make an item bookable."))
    try:
        item = await get_item_for(actor, item_id)
    except NotFound:
        raise _no_such_item() from None
    if organization_id is not None and item.organization_id != organization_id:  # type: ignore[attr-defined]
        raise _no_such_item()
    if not manages_bookings(actor, item.organization_id):  # type: ignore[attr-defined]
        raise PermissionDenied(N_("Only those who manage the bookings may make an item bookable."))
    if item.status == ItemStatus.ARCHIVED:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("An archived item cannot be made bookable."), "item_id")
    if not await module_enabled("bookings", item.organization_id):  # type: ignore[attr-defined]
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("Bookings are switched off for this organization."), "item_id"
        )
    payload = parse(RuleInput, data)
    values = payload.model_dump()
    values["allowed_roles"] = [r.value for r in payload.allowed_roles]
    values["opening_hours"] = {day: [list(r) for r in ranges] for day, ranges in payload.opening_hours.items()}
    async with in_transaction():
        rule = await BookingRule.get_or_none(item_id=item.id)
        before = snapshot(rule) if rule else None
        if rule is None:
            rule = await BookingRule.create(item_id=item.id, organization_id=item.organization_id, **values)
        else:
            await BookingRule.filter(id=rule.id).update(**values)
            await rule.refresh_from_db()
        await record(
            actor, "booking_rule.save", rule, organization_id=item.organization_id, before=before, after=snapshot(rule)
        )
    return rule


# How many items the "make an item bookable" search shows at once: a short list to pick
# from with the keyboard; more matches ask for more of the title or the number.
CANDIDATES_SHOWN = 8


async def bookable_candidates(actor: Principal, organization_id: int, text: str) -> tuple[list[Item], bool]:
    """The organization's items that could be made bookable and match ``text`` (words of the
    title, description or category, or the item's number: « n° 322 »), those whose title is
    or starts with ``text`` first (``rank_by_title``), then by title, at most
    ``CANDIDATES_SHOWN``, with whether more match: not deleted, not archived, not bookable
    already. For those who manage its bookings; nobody else learns anything."""
    if not manages_bookings(actor, organization_id, "bookings:read"):
        raise PermissionDenied(N_("Only those who manage the bookings may make an item bookable."))
    query = (
        Item.filter(organization_id=organization_id, deleted_at__isnull=True)
        .exclude(status=ItemStatus.ARCHIVED)
        .exclude(id__in=Subquery(BookingRule.filter(organization_id=organization_id).values("item_id")))
    )
    text = text.strip()[:100]
    order = ["title", "id"]
    if text:
        number = item_number(text)
        if number is not None:
            query = query.filter(id=number)
        else:
            # The titles that are, or start with, what was typed first: the item meant
            # is not lost among the others that merely mention it.
            query, order = rank_by_title(matching_items(query, text), text), ["title_rank", *order]
    found = await query.prefetch_related("location").order_by(*order).limit(CANDIDATES_SHOWN + 1)
    return found[:CANDIDATES_SHOWN], len(found) > CANDIDATES_SHOWN


@dataclass(frozen=True)
class BookingRequest:
    """What a booking rule hook receives. For a booking made by the staff for a partner
    organization's member, ``principal`` is the staff member, ``user_id`` is None and
    ``partner_member`` is the member's profile: mirrored (``MirrorMember``) for a partner
    on another server, a ``LocalMember`` for one on this server."""

    rule: BookingRule
    item: Item
    principal: Principal
    user_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    partner_member: MirrorMember | LocalMember | None = None


class BookingInput(Input):
    item_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    note: str = Field(default="", max_length=500)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise InputError(N_("Give the time with its time zone."))
        return value

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value: dt.datetime, info: ValidationInfo) -> dt.datetime:
        # A field validator rather than the model's: the refusal then names ``ends_at``.
        starts_at = info.data.get("starts_at")
        if starts_at is not None and value.tzinfo is not None and value <= starts_at:
            raise InputError(N_("The end must come after the start."))
        return value


def _may_book(actor: Principal, rule: BookingRule) -> bool:
    org_id = rule.organization_id  # type: ignore[attr-defined]
    role = actor.roles.get(org_id)
    if role is not None and role.value in rule.allowed_roles:
        return True
    return rule.partner_members_allowed and org_id in actor.partner_ids


def _within_opening_hours(rule: BookingRule, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    """True when the booking fits one opening range of its day (for a loan: when the
    pick-up and the return each fall within opening hours)."""
    if not rule.opening_hours:
        return True
    zone = ZoneInfo(rule.timezone)

    def open_at(moment: dt.datetime, until: dt.datetime | None = None) -> bool:
        local, local_end = moment.astimezone(zone), (until or moment).astimezone(zone)
        if local_end.date() != local.date():
            return False
        for start, end in rule.opening_hours.get(WEEKDAYS[local.weekday()], []):
            if start <= local.strftime("%H:%M") and local_end.strftime("%H:%M") <= end:
                return True
        return False

    if rule.is_loan:
        return open_at(starts_at) and open_at(ends_at)
    return open_at(starts_at, ends_at)


async def _rule_for(item_id: int) -> BookingRule:
    rule = await BookingRule.get_or_none(item_id=item_id)
    # An organization that switched bookings off: its items are not bookable (rules kept).
    if rule is None or not await module_enabled("bookings", rule.organization_id):  # type: ignore[attr-defined]
        raise ValidationFailed.single(ErrorCode.INVALID, N_("This item cannot be booked."), "item_id")
    return rule


def _overlapping(rule: BookingRule, starts_at: dt.datetime, ends_at: dt.datetime) -> Q:
    buffer = dt.timedelta(minutes=rule.buffer_minutes)
    return Q(
        item_id=rule.item_id,
        state__in=HOLDING_STATES,  # type: ignore[attr-defined]
        starts_at__lt=ends_at + buffer,
        ends_at__gt=starts_at - buffer,
    )


async def create_booking(actor: Principal, data: dict[str, Any] | BookingInput) -> Booking:
    """Book an item for a period. Refused — nothing written — when the rules say no or
    the slot (with its buffer) is taken; of two simultaneous requests for one slot,
    exactly one succeeds."""
    payload = parse(BookingInput, data)
    item = await get_item_for(actor, payload.item_id)
    rule = await _rule_for(item.id)
    if not actor.is_authenticated or not _may_book(actor, rule):
        raise PermissionDenied(N_("You may not book this item."))
    _check_period(rule, payload)
    await _check_hooks(BookingRequest(rule, item, actor, actor.user_id, payload.starts_at, payload.ends_at))
    state = BookingState.REQUESTED if rule.requires_approval else BookingState.CONFIRMED
    return await _insert(actor, rule, payload, state, user_id=actor.user_id)


def _check_period(rule: BookingRule, payload: BookingInput) -> None:
    """The rule's limits on the period: not in the past, whole slots, not too long,
    within opening hours."""
    duration = (payload.ends_at - payload.starts_at).total_seconds() / 60
    if payload.starts_at < clock.now() - dt.timedelta(minutes=5):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("A booking cannot start in the past."), "starts_at")
    if duration % rule.slot_minutes:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("Book whole slots of {minutes} minutes."), "ends_at", minutes=rule.slot_minutes
        )
    if duration > rule.max_duration_minutes:
        raise ValidationFailed.single(
            ErrorCode.OUT_OF_RANGE,
            N_("A booking lasts at most {minutes} minutes."),
            "ends_at",
            minutes=rule.max_duration_minutes,
        )
    if not _within_opening_hours(rule, payload.starts_at, payload.ends_at):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("This is outside opening hours."), "starts_at")


async def _check_hooks(request: BookingRequest) -> None:
    """Other modules' rules (``bookings_check_booking``)."""
    for refusal in await call_async(plugin_manager().hook.bookings_check_booking, request=request):
        if refusal:
            raise ValidationFailed.single(ErrorCode.PERMISSION_DENIED, refusal, None)


async def _insert(
    actor: Principal,
    rule: BookingRule,
    payload: BookingInput,
    state: BookingState,
    *,
    user_id: int | None = None,
    partner_member_id: int | None = None,
    partner_profile_id: int | None = None,
) -> Booking:
    """Write the booking unless the slot is taken, in one transaction."""
    async with in_transaction():
        # Writing the rule row first locks the resource until commit (row lock on
        # PostgreSQL, the write lock on SQLite): the overlap check below then sees every
        # booking committed before, and no other can slip in until this one is done.
        await BookingRule.filter(id=rule.id).update(version=F("version") + 1)
        # Lock the member's mirror row too: a Delete from the partner processed at the
        # same time waits for this commit (then nulls the link), instead of purging the
        # row between the check and the insert.
        if (
            partner_member_id is not None
            and await MirrorMember.filter(id=partner_member_id).select_for_update().first() is None
        ):
            raise _not_recognised()
        if (
            partner_profile_id is not None
            and await SharedProfile.filter(id=partner_profile_id).select_for_update().first() is None
        ):
            raise _not_recognised()
        if await Booking.filter(_overlapping(rule, payload.starts_at, payload.ends_at)).exists():
            # Where there is a waiting list to offer (a resource's page), the page says so.
            raise ValidationFailed.single(
                ErrorCode.CONFLICT, N_("This slot is already booked: choose another time."), "starts_at"
            )
        booking = await Booking.create(
            rule_id=rule.id,
            item_id=rule.item_id,  # type: ignore[attr-defined]
            organization_id=rule.organization_id,  # type: ignore[attr-defined]
            user_id=user_id,
            partner_member_id=partner_member_id,
            partner_profile_id=partner_profile_id,
            for_partner_member=partner_member_id is not None or partner_profile_id is not None,
            starts_at=payload.starts_at,
            ends_at=payload.ends_at,
            note=payload.note,
            state=state,
            deposit=rule.deposit if rule.is_loan else Decimal(0),
        )
        await record(
            actor,
            "booking.create",
            booking,
            organization_id=rule.organization_id,  # type: ignore[attr-defined]
            after=snapshot(booking),
        )
    return booking


class PartnerBookingInput(BookingInput):
    """Who it is for: ``partner_member_id`` (a ``MirrorMember``: a partner on another
    server) or ``partner_profile_id`` (a ``SharedProfile``: a partner on this one)."""

    partner_member_id: int | None = None
    partner_profile_id: int | None = None


LOCAL_KEY = "local-"


def partner_member_key(member: MirrorMember | LocalMember) -> str:
    """How a form names a partner's member: the mirror's id, or ``local-<profile id>``."""
    return f"{LOCAL_KEY}{member.id}" if isinstance(member, LocalMember) else str(member.id)


def partner_member_fields(key: str) -> dict[str, int]:
    """The ``PartnerBookingInput`` fields a form's ``partner_member_key`` stands for (an
    unreadable key: an unknown member, 0; none: no field, which is refused as missing)."""
    key = key.strip()
    if not key:
        return {}
    local = key.startswith(LOCAL_KEY)
    number = key.removeprefix(LOCAL_KEY)
    pk = int(number) if number.isdigit() and len(number) <= 9 else 0
    return {"partner_profile_id": pk} if local else {"partner_member_id": pk}


def manages_bookings(actor: Principal, organization_id: int, scope: str = "bookings:write") -> bool:
    """Does ``actor`` manage the organization's bookings (the manifest's ``MANAGE``:
    owners, admins, staff and volunteers)? Through an API token, with the bookings
    ``scope`` of what it does: ``bookings:read`` to see every booking, ``bookings:write``
    to change them. The one rule every page, resolver and service of the module asks."""
    return actor.can(MANAGE, organization_id, scope=scope)


def seen_by(actor: Principal) -> Q:
    """The bookings ``actor`` may see: their own and, in each organization whose bookings
    they manage (``manages_bookings`` with ``bookings:read``), every booking of its
    resources. The API's lists and ``node`` ask this one rule."""
    managed = [org_id for org_id in actor.roles if manages_bookings(actor, org_id, "bookings:read")]
    return Q(user_id=actor.user_id or 0) | Q(organization_id__in=managed or [0])


def manages_partner_bookings(actor: Principal, organization_id: int, scope: str = "bookings:write") -> bool:
    """May ``actor`` book the organization's resources for partners' members (``scope``
    ``bookings:read`` to look them up)? Its staff for bookings who may read members
    (``members.read``, what looking a partner's member up needs): owners, admins and staff."""
    return manages_bookings(actor, organization_id, scope) and actor.can(Action.MEMBERS_READ, organization_id)


def _not_recognised() -> ValidationFailed:
    return ValidationFailed.single(
        ErrorCode.NOT_FOUND,
        N_(
            "This person is not a recognised member of a partner organization: they may have withdrawn "
            "their consent, or the partnership may have ended."
        ),
        "partner_member_id",
    )


async def recognised_member_for(
    actor: Principal,
    rule: BookingRule,
    member_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    local: bool = False,
) -> MirrorMember | LocalMember:
    """The partner's member ``member_id`` (a ``MirrorMember``, or with ``local`` a
    ``SharedProfile``: a member of a partner on this server), if ``recognised_members``
    recognises them for the rule's organization and their membership is valid on every day
    of the period (in the rule's time zone)."""
    org_id = rule.organization_id  # type: ignore[attr-defined]
    member: MirrorMember | LocalMember | None
    if local:
        member = (await local_members([member_id], await accepted_partners(org_id))).get(member_id)
    else:
        member = await MirrorMember.get_or_none(id=member_id)
    if member is None:
        raise _not_recognised()
    zone = ZoneInfo(rule.timezone)
    first_day, last_day = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
    # Ask about a day their membership covers (the booking's first day when it does), so
    # that "not recognised" and "not valid on these dates" are told apart.
    day = first_day
    if member.valid_from is not None and day < member.valid_from:
        day = member.valid_from
    if member.valid_until is not None and day > member.valid_until:
        day = member.valid_until
    found = await recognised_members(
        actor,
        org_id,
        member.display_name,
        partner_id=member.organization.id if isinstance(member, LocalMember) else member.organization_id,  # type: ignore[attr-defined]
        on=day,
    )
    if partner_member_key(member) not in {partner_member_key(m) for m in found}:
        raise _not_recognised()
    if (member.valid_from is not None and first_day < member.valid_from) or (
        member.valid_until is not None and last_day > member.valid_until
    ):
        raise ValidationFailed.single(
            ErrorCode.OUT_OF_RANGE,
            N_("This member's membership is not valid on the booking's dates."),
            "partner_member_id",
        )
    return member


async def _desk_resource(actor: Principal, organization_id: int, item_id: int) -> Item:
    """The item a desk's form names, if it is one of the desk's organization's (one answer
    for another organization's item and a missing one)."""
    refusal = ValidationFailed.single(
        ErrorCode.NOT_FOUND, N_("Choose one of this organization's resources."), "item_id"
    )
    try:
        item = await get_item_for(actor, item_id)
    except NotFound:
        raise refusal from None
    if item.organization_id != organization_id:  # type: ignore[attr-defined]
        raise refusal
    return item


async def create_partner_booking(
    actor: Principal, data: dict[str, Any] | PartnerBookingInput, *, organization_id: int | None = None
) -> Booking:
    """The staff book a resource (or lend an item) for a recognised member of a partner
    organization, who has no account here: a ``MirrorMember`` that ``recognised_members``
    answers for the resource's organization (accepted partner, consent given) with a
    membership valid on the booking's dates. The resource's rule must let partners'
    members book; the period rules, other modules' rules and the overlap check (with its
    concurrency guarantee) are those of ``create_booking``. The booking is confirmed at
    once (the staff made it). Refused — nothing written — otherwise. ``organization_id``:
    the organization whose desk asks; a resource of another one is refused on ``item_id``
    (someone on the staff of two organizations books each one's resources from its own desk)."""
    payload = parse(PartnerBookingInput, data)
    if organization_id is None:
        item = await get_item_for(actor, payload.item_id)
    else:
        # Who asks comes first: someone who may not book at this desk learns nothing of the items.
        if not actor.is_authenticated or not manages_partner_bookings(actor, organization_id):
            raise PermissionDenied(N_("Only the organization's staff may book for a partner's member."))
        item = await _desk_resource(actor, organization_id, payload.item_id)
    rule = await _rule_for(item.id)
    if not actor.is_authenticated or not manages_partner_bookings(actor, rule.organization_id):  # type: ignore[attr-defined]
        raise PermissionDenied(N_("Only the organization's staff may book for a partner's member."))
    if not rule.partner_members_allowed:
        raise ValidationFailed.single(
            ErrorCode.PERMISSION_DENIED, N_("This resource is not open to partners' members."), "item_id"
        )
    if payload.partner_member_id is None and payload.partner_profile_id is None:
        # Nobody picked: a form sent without choosing in the list.
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("Choose a person in the list."), "partner_member_id")
    if payload.partner_member_id is not None and payload.partner_profile_id is not None:
        raise _not_recognised()  # two people at once: neither is the one to book for
    local = payload.partner_profile_id is not None
    member_id = (payload.partner_profile_id if local else payload.partner_member_id) or 0
    member = await recognised_member_for(actor, rule, member_id, payload.starts_at, payload.ends_at, local=local)
    _check_period(rule, payload)
    await _check_hooks(BookingRequest(rule, item, actor, None, payload.starts_at, payload.ends_at, member))
    if local:
        return await _insert(actor, rule, payload, BookingState.CONFIRMED, partner_profile_id=member.id)
    return await _insert(actor, rule, payload, BookingState.CONFIRMED, partner_member_id=member.id)


async def partner_members_for(actor: Principal, organization_id: int, name: str) -> list[MirrorMember | LocalMember]:
    """The search behind the "book for a partner's member" forms: the partners' members
    ``recognised_members`` answers today for ``name`` (at least two characters), on other
    servers and on this one, for the staff who may book for them; nobody else learns anything."""
    if not manages_partner_bookings(actor, organization_id, "bookings:read"):
        raise PermissionDenied(N_("Only the organization's staff may book for a partner's member."))
    if len(name.strip()) < 2:
        return []
    return await recognised_members(actor, organization_id, name)


async def booked_for(organization_id: int, bookings: list[Booking]) -> dict[int, MirrorMember | LocalMember]:
    """Whom the organization's partner-member bookings are for, by booking id (for the staff's
    eyes only): the mirrored profile while it is there; for a member of a partner on this
    server, their consent while it holds and the partnership is accepted. A booking missing
    from the answer reads "a partner's member (withdrawn)". ``partner_member`` must be
    fetched with its organization."""
    found: dict[int, MirrorMember | LocalMember] = {
        b.id: b.partner_member
        for b in bookings
        if b.partner_member_id is not None  # type: ignore[attr-defined]
    }
    profile_ids = [b.partner_profile_id for b in bookings if b.partner_profile_id is not None]  # type: ignore[attr-defined]
    if profile_ids:
        local = await local_members(profile_ids, await accepted_partners(organization_id))
        for b in bookings:
            if b.partner_profile_id in local:  # type: ignore[attr-defined]
                found[b.id] = local[b.partner_profile_id]  # type: ignore[attr-defined]
    return found


# action -> (states it applies to, resulting state, who: "staff" or "booker")
TRANSITIONS: dict[str, tuple[tuple[BookingState, ...], BookingState, str]] = {
    "approve": ((BookingState.REQUESTED,), BookingState.CONFIRMED, "staff"),
    "cancel": ((BookingState.REQUESTED, BookingState.CONFIRMED), BookingState.CANCELLED, "booker"),
    "check_out": ((BookingState.CONFIRMED,), BookingState.CHECKED_OUT, "staff"),
    "return": ((BookingState.CHECKED_OUT, BookingState.OVERDUE), BookingState.RETURNED, "staff"),
}


async def change_booking(
    actor: Principal, booking_id: int, action: str, *, organization_id: int | None = None
) -> Booking:
    """Approve, cancel (the booker or staff), check out or take back a booking.
    ``organization_id``: the organization whose desk asks; a booking of another one is
    not found there, even for someone who manages both (each desk changes its own)."""
    booking = await Booking.get_or_none(id=booking_id)
    if organization_id is not None and booking is not None and booking.organization_id != organization_id:  # type: ignore[attr-defined]
        booking = None
    org_id = booking.organization_id if booking else None  # type: ignore[attr-defined]
    is_staff = org_id is not None and manages_bookings(actor, org_id)
    # A booking without an account (a partner's member, a deleted user) is the staff's only.
    is_booker = actor.user_id is not None and booking is not None and booking.user_id == actor.user_id  # type: ignore[attr-defined]
    if booking is None or not (is_staff or is_booker):
        raise NotFound("booking")
    if not await module_enabled("bookings", booking.organization_id):  # type: ignore[attr-defined]
        raise NotFound("booking")
    if action not in TRANSITIONS:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("Choose one of: {choices}."), "action", choices=", ".join(TRANSITIONS)
        )
    sources, target, who = TRANSITIONS[action]
    if who == "staff" and not is_staff:
        raise PermissionDenied()
    if booking.state not in sources:
        # About the booking as a whole: no field (the API's inputs have no ``action``).
        raise ValidationFailed.single(ErrorCode.INVALID_STATE, N_("This booking can no longer be changed that way."))
    before = snapshot(booking)
    async with in_transaction():
        await Booking.filter(id=booking.id).update(state=target, updated_at=clock.now())
        await booking.refresh_from_db()
        await record(
            actor, f"booking.{action}", booking, organization_id=org_id, before=before, after=snapshot(booking)
        )
        if target == BookingState.CANCELLED:
            await _offer_to_waiting_list(booking)
    return booking


async def _offer_to_waiting_list(booking: Booking) -> None:
    """Mark the waiting-list entries that the freed slot satisfies as notified."""
    await WaitingListEntry.filter(
        item_id=booking.item_id,
        notified_at__isnull=True,  # type: ignore[attr-defined]
        starts_at__gte=booking.starts_at,
        ends_at__lte=booking.ends_at,
    ).update(notified_at=clock.now())


async def join_waiting_list(actor: Principal, data: dict[str, Any] | BookingInput) -> WaitingListEntry:
    """Ask to be told when a taken period frees up."""
    payload = parse(BookingInput, data)
    item = await get_item_for(actor, payload.item_id)
    rule = await _rule_for(item.id)
    if not actor.is_authenticated or not _may_book(actor, rule):
        raise PermissionDenied(N_("You may not book this item."))
    async with in_transaction():
        entry = await WaitingListEntry.create(
            item_id=item.id, user_id=actor.user_id, starts_at=payload.starts_at, ends_at=payload.ends_at
        )
        await record(
            actor,
            "waiting_list.join",
            entry,
            organization_id=item.organization_id,  # type: ignore[attr-defined]
            after=snapshot(entry),
        )
    return entry


async def mark_overdue(now: dt.datetime | None = None) -> int:
    """Loans checked out and not back by their end become overdue (a cron job)."""
    return await Booking.filter(state=BookingState.CHECKED_OUT, ends_at__lt=now or clock.now()).update(
        state=BookingState.OVERDUE, updated_at=clock.now()
    )


def check_availability_window(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    """Refuse a window ``availability`` does not answer: a time without its zone, an end
    before the start, more than two months."""
    for name, moment in (("from", starts_at), ("to", ends_at)):
        if moment.tzinfo is None:
            raise ValidationFailed.single(ErrorCode.INVALID, N_("Give the time with its time zone."), name)
    if ends_at <= starts_at:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("The end must come after the start."), "to")
    if ends_at - starts_at > dt.timedelta(days=62):
        raise ValidationFailed.single(ErrorCode.OUT_OF_RANGE, N_("Ask for at most two months at a time."), "to")


async def availability(
    actor: Principal, item_id: int, starts_at: dt.datetime, ends_at: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]] | None:
    """The free periods of an item between two times: its opening hours (or all the
    time, when it has none) minus its bookings and their buffers; empty when it is all
    taken. None when the item cannot be booked (no rule, or its organization switched
    bookings off): a question about any item, which a catalogue asks of a whole page.
    A bad window (``check_availability_window``) is refused all the same."""
    check_availability_window(starts_at, ends_at)
    item = await get_item_for(actor, item_id)
    rule = await BookingRule.get_or_none(item_id=item.id)
    if rule is None or not await module_enabled("bookings", rule.organization_id):  # type: ignore[attr-defined]
        return None
    zone = ZoneInfo(rule.timezone)
    if rule.opening_hours:
        windows: list[tuple[dt.datetime, dt.datetime]] = []
        day = starts_at.astimezone(zone).date()
        while day <= ends_at.astimezone(zone).date():
            for start, end in rule.opening_hours.get(WEEKDAYS[day.weekday()], []):
                opening = dt.datetime.combine(day, dt.time.fromisoformat(start), zone)
                closing = dt.datetime.combine(day, dt.time.fromisoformat(end), zone)
                windows.append((max(opening, starts_at), min(closing, ends_at)))
            day += dt.timedelta(days=1)
    else:
        windows = [(starts_at, ends_at)]
    buffer = dt.timedelta(minutes=rule.buffer_minutes)
    busy = (
        await Booking.filter(_overlapping(rule, starts_at, ends_at))
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    )
    free = []
    for window_start, window_end in windows:
        cursor = window_start
        for busy_start, busy_end in busy:
            if busy_start - buffer > cursor:
                free.append((cursor, min(busy_start - buffer, window_end)))
            cursor = max(cursor, busy_end + buffer)
        if cursor < window_end:
            free.append((cursor, window_end))
    return [(start, end) for start, end in free if end > start]
