"""Bookings in GraphQL: thin resolvers over ``services``. Names follow the issue
(``bookings``, ``bookingCreate``, ``bookingCancel``, ``Item.bookings``,
``Item.availability``); the types carry the module's prefix (``BookingsBooking``),
and so do the root fields the issue does not name (``bookingsPartnerMembers``)."""

# No ``from __future__ import annotations``: Strawberry would parse each string
# annotation at start-up (see fabcom/gql/types.py).

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.types import Info
from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count

# A member of a partner on this server (no mirror row).
from fabcom.api import (
    N_,
    Connection,
    LocalMember,
    MirrorMember,
    MutationError,
    NotFound,
    Order,
    PermissionDenied,
    PublicError,
    RequiresScope,
    ServiceError,
    accepted_partners,
    connect,
    disabled_organizations,
    find_organization,
    global_id,
    gql_pk,
    item_loader,
    local_members,
    reads,
    run_mutation,
)

# Not (yet) in fabcom.api: what a nested connection read in bulk for a page needs (cursors,
# a page's shape, whether totalCount is asked), as ``connect`` does it for one parent.
from fabcom.gql.ids import decode_cursor, encode_cursor
from fabcom.gql.pagination import Page, check_window
from fabcom.gql.types import connection, wants_total
from modules.bookings import services
from modules.bookings.models import Booking, BookingState

if TYPE_CHECKING:
    from fabcom.gql.types import Item  # the core's GraphQL type, which fields name lazily

BookingsBookingState = strawberry.enum(BookingState, name="BookingsBookingState", description="Where a booking stands.")


@strawberry.type(
    description=(
        "A recognised member of a partner organization (members across sites): someone who consented, on "
        "their own site, to be recognised by its partners. Only this minimal profile is shared."
    )
)
class BookingsPartnerMember:
    id: strawberry.ID = strawberry.field(description="Global id, for `BookingsBookingCreateInput.partnerMemberId`.")
    uri: str = strawberry.field(description="The profile's canonical id on the partner's site (ActivityPub).")
    display_name: str = strawberry.field(description="The member's name, as their site shares it.")
    organization_name: str = strawberry.field(description="The partner organization they are a member of.")
    valid_from: dt.date | None = strawberry.field(description="First day of their membership, when known.")
    valid_until: dt.date | None = strawberry.field(description="Last day of their membership; null: open-ended.")


# The global ids' type name of a member of a partner on this server (the id of their
# consent): the same GraphQL type, another kind of row than the mirror's.
LOCAL_MEMBER = "BookingsLocalPartnerMember"


def _partner_member(row: MirrorMember | LocalMember) -> BookingsPartnerMember:
    kind = LOCAL_MEMBER if isinstance(row, LocalMember) else "BookingsPartnerMember"
    return BookingsPartnerMember(
        id=strawberry.ID(global_id(kind, row.id)),
        uri=row.uri,
        display_name=row.display_name,
        organization_name=row.organization.name,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


def _partner_members_loader(info: Info) -> DataLoader[int, BookingsPartnerMember | None]:
    """``BookingsPartnerMemberByIdLoader``: the mirrored profiles of a page of bookings in
    one query, once per request."""
    cache = info.context.cache
    if "bookings.partner_members" not in cache:

        async def load(keys: list[int]) -> list[BookingsPartnerMember | None]:
            rows = await MirrorMember.filter(id__in=keys).prefetch_related("organization")
            by_id = {row.id: _partner_member(row) for row in rows}
            return [by_id.get(key) for key in keys]

        cache["bookings.partner_members"] = DataLoader(load_fn=load)
    return cache["bookings.partner_members"]  # type: ignore[no-any-return]


def _local_members_loader(info: Info) -> DataLoader[tuple[int, int], BookingsPartnerMember | None]:
    """``BookingsLocalPartnerMemberByProfileLoader``: the members of partners on this server
    that a page of bookings is for, keyed by (the booking's organization, the member's
    consent), once per request: null once the consent is withdrawn or the partnership ended."""
    cache = info.context.cache
    if "bookings.local_members" not in cache:

        async def load(keys: list[tuple[int, int]]) -> list[BookingsPartnerMember | None]:
            found: dict[tuple[int, int], BookingsPartnerMember] = {}
            for org_id in {org_id for org_id, _ in keys}:
                profile_ids = [pk for key_org, pk in keys if key_org == org_id]
                members = await local_members(profile_ids, await accepted_partners(org_id))
                found |= {(org_id, pk): _partner_member(member) for pk, member in members.items()}
            return [found.get(key) for key in keys]

        cache["bookings.local_members"] = DataLoader(load_fn=load)
    return cache["bookings.local_members"]  # type: ignore[no-any-return]


@strawberry.type(description="A booking of an item for a period.")
class BookingsBooking(relay.Node):
    id: relay.NodeID[int]
    item_id: strawberry.ID = strawberry.field(
        description="Global id of the booked item.",
        deprecation_reason="Read `item { id }`: the item itself, as `ExchangeRequest.item` gives it.",
    )
    starts_at: dt.datetime = strawberry.field(description="When it starts.")
    ends_at: dt.datetime = strawberry.field(description="When it ends.")
    state: BookingsBookingState = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    note: str = strawberry.field(description="The booker's note.")
    mine: bool = strawberry.field(description="Whether the caller made it.")
    for_partner_member: bool = strawberry.field(
        description=(
            "Whether the staff made it for a member of a partner organization (true even after that member's "
            "profile was withdrawn)."
        )
    )
    organization_id: strawberry.Private[int]
    item_pk: strawberry.Private[int]
    partner_member_id: strawberry.Private[int | None]
    partner_profile_id: strawberry.Private[int | None]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        """``node(id:)`` and ``nodes(ids:)``: the bookings the caller sees on ``Item.bookings``
        (their own, and every booking of their organizations' items for the staff), none
        of an organization that switched bookings off; null for the others."""
        principal = _principal(info)
        pks = [int(node_id) for node_id in node_ids]
        rows = await Booking.filter(services.seen_by(principal), id__in=pks).exclude(
            organization_id__in=await _switched_off(info)
        )
        found = {row.id: _booking(row, principal.user_id) for row in rows}
        return [found.get(pk) for pk in pks]

    @strawberry.field(description="The booked item, when you may still see it. Read in bulk for a page of bookings.")
    async def item(self, info: Info) -> Annotated["Item", strawberry.lazy("fabcom.gql.types")] | None:
        # The item's row, which the core's type reads (as a page of ``items`` gives it).
        return await item_loader(info).load(self.item_pk)  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "The partner organization's member it was made for, for the staff who book for partners' members; "
            "null otherwise, and once the partner withdrew the profile (consent withdrawn, account erased, "
            "partnership ended)."
        )
    )
    async def partner_member(self, info: Info) -> BookingsPartnerMember | None:
        principal = _principal(info)
        if not services.manages_partner_bookings(principal, self.organization_id, "bookings:read"):
            return None
        if self.partner_profile_id is not None:
            return await _local_members_loader(info).load((self.organization_id, self.partner_profile_id))
        if self.partner_member_id is None:
            return None
        return await _partner_members_loader(info).load(self.partner_member_id)


@strawberry.type(description="A free period of an item.")
class BookingsPeriod:
    start: dt.datetime = strawberry.field(description="When the free period starts.")
    end: dt.datetime = strawberry.field(description="When it ends.")


# Bookings come soonest first; the cursor is (starts_at, id).
SOONEST = Order("starts_at", kind="datetime")


def _public(exc: ServiceError) -> PublicError:
    """A service's refusal for a query field: its message id and parameters, which the
    endpoint translates into each caller's language (a text translated here would stay in
    the language of the request that raised it, in logs too)."""
    error = exc.errors[0]
    return PublicError(error.message, error.code.value.upper(), **error.params)


def _principal(info: Info) -> Any:
    return info.context.principal


async def _switched_off(info: Info) -> set[int]:
    """The organizations that switched bookings off, read once per request: the first
    resolver to ask starts the query, those of the rest of the page await the same one."""
    cache = info.context.cache
    if "bookings.off" not in cache:
        cache["bookings.off"] = asyncio.ensure_future(disabled_organizations("bookings"))
    return await cache["bookings.off"]  # type: ignore[no-any-return]


def _booking(row: Booking, user_id: int | None) -> BookingsBooking:
    return BookingsBooking(
        id=row.id,
        item_id=strawberry.ID(global_id("Item", row.item_id)),  # type: ignore[attr-defined]
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        state=row.state,
        note=row.note,
        mine=user_id is not None and row.user_id == user_id,  # type: ignore[attr-defined]
        for_partner_member=row.for_partner_member,
        organization_id=row.organization_id,  # type: ignore[attr-defined]
        item_pk=row.item_id,  # type: ignore[attr-defined]
        partner_member_id=row.partner_member_id,  # type: ignore[attr-defined]
        partner_profile_id=row.partner_profile_id,  # type: ignore[attr-defined]
    )


@dataclass(frozen=True)
class _Window:
    """The arguments of one ``Item.bookings`` selection, the same for every item of a page."""

    first: int | None
    after: str | None
    last: int | None
    before: str | None
    count: bool


def _item_bookings_loader(info: Info, window: _Window) -> DataLoader[int, Page]:
    """``BookingsBookingsByItemLoader``: the pages of bookings of a page of items, for one
    set of arguments, in a fixed number of statements however many items."""
    key = ("bookings.by_item", window)
    cache = info.context.cache
    if key not in cache:

        async def load(item_ids: list[int]) -> list[Page]:
            pages = await _pages_by_item(_principal(info), await _switched_off(info), item_ids, window)
            return [pages[item_id] for item_id in item_ids]

        cache[key] = DataLoader(load_fn=load)
    return cache[key]  # type: ignore[no-any-return]


async def _pages_by_item(principal: Any, off: set[int], item_ids: list[int], window: _Window) -> dict[int, Page]:
    """Each item's page of the bookings ``principal`` sees, soonest first, cut as a keyset
    page (``SOONEST``) would cut it for that item alone: one statement ranks the bookings
    of every item (``ROW_NUMBER`` per item, the cursor applied) and keeps the page's rows
    of each, one reads them, one counts them per item when ``totalCount`` is asked."""
    forward = window.first is not None
    size = window.first if forward else window.last
    assert size is not None
    seen = Booking.filter(services.seen_by(principal), item_id__in=item_ids).exclude(organization_id__in=off)
    totals: dict[int, int] = {}
    if window.count:
        counted = seen.annotate(n=Count("id")).group_by("item_id").values("item_id", "n")
        totals = {row["item_id"]: row["n"] for row in await counted}
    cursor = window.after if forward else window.before
    if cursor is not None:
        start, pk = decode_cursor(cursor, SOONEST.kind)
        op = "gt" if forward else "lt"
        seen = seen.filter(Q(**{f"starts_at__{op}": start}) | Q(starts_at=start, **{f"id__{op}": pk}))
    ids = await _first_of_each_item(seen, forward, size + 1)
    rows: dict[int, list[Booking]] = {item_id: [] for item_id in item_ids}
    ordering = ("starts_at", "id") if forward else ("-starts_at", "-id")
    for row in await Booking.filter(id__in=ids or [0]).order_by(*ordering):
        rows[row.item_id].append(row)  # type: ignore[attr-defined]
    pages = {}
    for item_id, found in rows.items():
        more = len(found) > size
        found = found[:size]
        if not forward:
            found.reverse()
        pages[item_id] = Page(
            rows=found,
            cursors=[encode_cursor((row.starts_at, row.id)) for row in found],
            has_next_page=more if forward else window.before is not None,
            has_previous_page=window.after is not None if forward else more,
            total_count=totals.get(item_id, 0) if window.count else -1,
        )
    return pages


async def _first_of_each_item(query: Any, forward: bool, keep: int) -> list[int]:
    """The ids of the first ``keep`` bookings of each item in ``query`` (soonest first,
    or latest first when paging backwards), in one statement. Tortoise has no window
    functions: the ranked query is Tortoise's, wrapped in the outer ``SELECT`` here (as
    ``fabcom.statements`` reads a query's SQL and parameters); ``keep`` is an int."""
    table = Booking._meta.db_table
    direction = "ASC" if forward else "DESC"
    ranked = query.annotate(
        position=RawSQL(
            f'ROW_NUMBER() OVER (PARTITION BY "{table}"."item_id"'
            f' ORDER BY "{table}"."starts_at" {direction}, "{table}"."id" {direction})'
        )
    ).values("id", "position")
    ranked._choose_db_if_not_chosen()
    ranked._make_query()
    sql, params = ranked.query.get_parameterized_sql()
    outer = f'SELECT "id" FROM ({sql}) "ranked" WHERE "position" <= {int(keep)}'  # noqa: S608 - Tortoise's parameterized SQL, an int
    found = await ranked._db.execute_query_dict(outer, params)
    return [row["id"] for row in found]


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            "The bookings you may see, soonest first: your own and, in each organization whose bookings you "
            "manage (owners, admins, staff, volunteers), every booking of its resources; none of an organization "
            "that switched bookings off."
        ),
        extensions=[RequiresScope("bookings:read")],
    )
    async def bookings(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        mine: Annotated[
            bool | None,
            strawberry.argument(
                description="True: only the bookings you made; false: only the others' (your staff's view); null: both."
            ),
        ] = None,
        organization_slug: Annotated[
            str | None,
            strawberry.argument(description="Only the bookings of this organization's resources (none if unknown)."),
        ] = None,
    ) -> Connection[BookingsBooking]:
        principal = _principal(info)
        rows = Booking.filter(services.seen_by(principal)).exclude(organization_id__in=await _switched_off(info))
        me = principal.user_id or 0
        if mine is True:
            rows = rows.filter(user_id=me)
        elif mine is False:  # a partner's member's booking has no user: not the caller's
            rows = rows.filter(Q(user_id__isnull=True) | Q(user_id__not=me))
        if organization_slug is not None:
            org = await find_organization(organization_slug[:100], local_only=True)
            rows = rows.filter(organization_id=org.id if org is not None else 0)
        return await connect(  # type: ignore[no-any-return]
            info, rows, first, after, last, before, order=SOONEST, node=lambda row: _booking(row, principal.user_id)
        )

    @strawberry.field(
        description=(
            "The partners' recognised members whose name contains `search` (at least two characters) and whose "
            "membership is valid today: whom the organization's staff may book for. At most 50, by name."
        ),
        # Names of people: what members:read guards in the core.
        extensions=[RequiresScope("bookings:read"), RequiresScope("members:read")],
    )
    async def bookings_partner_members(
        self,
        info: Info,
        organization_slug: Annotated[str, strawberry.argument(description="The organization booking for them.")],
        search: Annotated[str, strawberry.argument(description="Part of the member's name.")],
    ) -> list[BookingsPartnerMember]:
        org = await find_organization(organization_slug[:100], local_only=True)
        try:
            if org is None:
                raise PermissionDenied(N_("Only the organization's staff may book for a partner's member."))
            rows = await services.partner_members_for(_principal(info), org.id, search[:120])
        except ServiceError as exc:
            raise _public(exc) from None
        return [_partner_member(row) for row in rows]


@strawberry.input(name="BookingsBookingCreateInput", description="What to book, and when.")
class BookingCreateInput:
    item_id: strawberry.ID = strawberry.field(description="Global id of the item to book.")
    starts_at: dt.datetime = strawberry.field(description="When the booking starts (with its time zone).")
    ends_at: dt.datetime = strawberry.field(description="When it ends (with its time zone).")
    note: str = strawberry.field(default="", description="A note for the staff.")
    partner_member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "Book for this recognised member of a partner organization (a `BookingsPartnerMember` id, see "
            "`bookingsPartnerMembers`) rather than for the caller: for the item's staff, when its rule lets "
            "partners' members book."
        ),
    )


@strawberry.input(name="BookingsBookingCancelInput", description="The booking to cancel.")
class BookingCancelInput:
    id: strawberry.ID = strawberry.field(description="Global id of the booking.")


@strawberry.type(description="The booking, or why it was refused.")
class BookingsBookingPayload:
    booking: BookingsBooking | None = strawberry.field(description="The booking, when done.")
    errors: list[MutationError] = strawberry.field(description="Why it was refused (empty when done).")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Book an item for a period, for the caller or (`partnerMemberId`, the item's staff) for a partner's "
            "member; an overlapping booking or a refused member is refused in `errors`."
        ),
        extensions=[RequiresScope("bookings:write")],
    )
    async def booking_create(self, info: Info, input: BookingCreateInput) -> BookingsBookingPayload:
        principal = _principal(info)

        async def work() -> Booking:
            data: dict[str, Any] = {
                "item_id": gql_pk(input.item_id, "Item", "itemId"),
                "starts_at": input.starts_at,
                "ends_at": input.ends_at,
                "note": input.note,
            }
            if input.partner_member_id is not None:
                try:
                    data["partner_member_id"] = gql_pk(
                        input.partner_member_id, "BookingsPartnerMember", "partnerMemberId"
                    )
                except NotFound:
                    try:  # a member of a partner on this server
                        data["partner_profile_id"] = gql_pk(input.partner_member_id, LOCAL_MEMBER, "partnerMemberId")
                    except NotFound:  # another type's id: the same answer as an unknown member
                        data["partner_member_id"] = 0
                return await services.create_partner_booking(principal, data)
            return await services.create_booking(principal, data)

        row, errors = await run_mutation(info, work)
        return BookingsBookingPayload(booking=_booking(row, principal.user_id) if row else None, errors=errors)

    @strawberry.mutation(
        description="Cancel a booking (its booker or the item's staff).", extensions=[RequiresScope("bookings:write")]
    )
    async def booking_cancel(self, info: Info, input: BookingCancelInput) -> BookingsBookingPayload:
        principal = _principal(info)

        async def work() -> Booking:
            return await services.change_booking(principal, gql_pk(input.id, "BookingsBooking", "id"), "cancel")

        row, errors = await run_mutation(info, work)
        return BookingsBookingPayload(booking=_booking(row, principal.user_id) if row else None, errors=errors)


@strawberry.type
class ItemBookings:
    """Fields added to the core ``Item`` type; ``self`` is the item's row."""

    @strawberry.field(
        description=(
            "The item's bookings the caller may see, soonest first: all for its staff, else the caller's own. "
            "Read in bulk for a page of items."
        ),
        metadata=reads("id"),
        extensions=[RequiresScope("bookings:read")],
    )
    async def bookings(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[BookingsBooking]:
        check_window(first, last)
        principal = _principal(info)
        window = _Window(first, after, last, before, wants_total(info))
        page = await _item_bookings_loader(info, window).load(self.id)  # type: ignore[attr-defined]
        return connection(page, node=lambda row: _booking(row, principal.user_id))  # type: ignore[no-any-return]

    @strawberry.field(
        description=(
            "The item's free periods between `from` and `to`, soonest first: an empty list when it is bookable but "
            "taken all along; null when the item cannot be booked (it was not made bookable, or its organization "
            "switched bookings off), so that a page of a catalogue answers for every item. A time without its time "
            "zone, an end before the start or more than two months are refused with an error (`INVALID`, "
            "`OUT_OF_RANGE`)."
        ),
        metadata=reads("id", "organization_id"),
    )
    async def availability(
        self,
        info: Info,
        from_: Annotated[dt.datetime, strawberry.argument(name="from", description="Start of the period asked about.")],
        to: Annotated[dt.datetime, strawberry.argument(description="End of the period asked about.")],
    ) -> list[BookingsPeriod] | None:
        try:
            if self.organization_id in await _switched_off(info):  # type: ignore[attr-defined]
                services.check_availability_window(from_, to)  # a bad window is refused all the same
                return None
            periods = await services.availability(_principal(info), self.id, from_, to)  # type: ignore[attr-defined]
        except ServiceError as exc:
            raise _public(exc) from None
        return None if periods is None else [BookingsPeriod(start=start, end=end) for start, end in periods]


types = [BookingsBooking, BookingsPeriod, BookingsPartnerMember]
query = Query
mutation = Mutation
extends = {"Item": ItemBookings}
