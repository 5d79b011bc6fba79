"""The bookings module's API asks for the module's own token scopes, declared in its
manifest: ``bookings:read`` to read bookings, ``bookings:write`` to book and cancel (and
``members:read`` besides to look partners' members up by name). A token without the scope
is told ``INSUFFICIENT_SCOPE`` naming it, in its account's language, before anything is
read or written, and the same for an object that exists and one that does not; with the
scope it works; a browser session is never refused."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from fabcom.api import global_id
from fabcom.auth.models import User
from fabcom.auth.services import create_api_token, open_session
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.permissions import Principal, known_scopes, system_principal
from modules.bookings.models import Booking, BookingState
from modules.bookings.services import create_booking, make_bookable

PARIS = ZoneInfo("Europe/Paris")
ENGLISH = "This token lacks the {scope} scope that {field} needs."
FRENCH = "Ce jeton n’a pas la portée « {scope} » nécessaire à {field}."


def at(hour: int) -> dt.datetime:
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=2)
    return dt.datetime.combine(day, dt.time(hour), PARIS)


@pytest.fixture
async def desk(org_a, staff_a):
    """A public desk of recyclerie-a, booked once by its staff member."""
    item = await create_item(staff_a, org_a.id, {"title": "Bureau partagé", "visibility": "public"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 30})
    await create_booking(staff_a, {"item_id": item.id, "starts_at": at(9), "ends_at": at(10)})
    return item


class Caller:
    """GraphQL over HTTP as a token with given scopes, or as a browser session."""

    def __init__(self, client: httpx.AsyncClient, principal: Principal) -> None:
        self.client = client
        self.principal = principal

    async def token(self, scopes: list[str], locale: str = "en") -> dict[str, str]:
        await User.filter(id=self.principal.user_id).update(locale=locale)
        _row, secret = await create_api_token(
            system_principal(), self.principal.user_id, {"name": "t", "scopes": scopes}
        )
        return {"Authorization": f"Bearer {secret}"}

    async def session(self) -> dict[str, str]:
        _session, key = await open_session(await User.get(id=self.principal.user_id))
        return {"Cookie": f"fabcom_session={key}"}

    async def __call__(self, query: str, variables: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 200  # GraphQL answers 200: the refusal is in the body
        body = response.json()
        body.pop("extensions", None)  # the rate budget, which moves on with every call
        return body


@pytest.fixture
def as_staff(client, staff_a) -> Caller:
    return Caller(client, staff_a)


def every_scope_but(*scopes: str) -> list[str]:
    return [s.code for s in known_scopes() if s.code not in scopes]


# field -> (query, the scope refused, the error's path, data then, the scopes that answer it)
QUERIES: dict[str, tuple[str, str, list[Any], Any, list[str]]] = {
    "bookings": ("{ bookings(first: 10) { totalCount } }", "bookings:read", ["bookings"], None, ["bookings:read"]),
    "Item.bookings": (
        "query($item: ID!) { item(id: $item) { bookings(first: 10) { totalCount } } }",
        "bookings:read",
        ["item", "bookings"],
        {"item": None},
        ["bookings:read"],
    ),
    "bookingsPartnerMembers": (
        'query { bookingsPartnerMembers(organizationSlug: "recyclerie-a", search: "cam") { id } }',
        "bookings:read",
        ["bookingsPartnerMembers"],
        None,
        ["bookings:read", "members:read"],
    ),
    "bookingsPartnerMembers (people's names)": (
        'query { bookingsPartnerMembers(organizationSlug: "recyclerie-a", search: "cam") { id } }',
        "members:read",
        ["bookingsPartnerMembers"],
        None,
        ["bookings:read", "members:read"],
    ),
}
ANSWERS = {
    "bookings": {"bookings": {"totalCount": 1}},
    "Item.bookings": {"item": {"bookings": {"totalCount": 1}}},
    "bookingsPartnerMembers": {"bookingsPartnerMembers": []},
    "bookingsPartnerMembers (people's names)": {"bookingsPartnerMembers": []},
}


@pytest.mark.parametrize("field", sorted(QUERIES))
@pytest.mark.parametrize(("locale", "template"), [("en", ENGLISH), ("fr", FRENCH)])
async def test_a_token_without_the_scope_is_told_which_one(as_staff, desk, field, locale, template):
    query, scope, path, data, _scopes = QUERIES[field]

    body = await as_staff(
        query, {"item": global_id("Item", desk.id)}, await as_staff.token(every_scope_but(scope), locale)
    )

    assert [(e["message"], e["path"], e["extensions"]) for e in body["errors"]] == [
        (template.format(scope=scope, field=path[-1]), path, {"code": "INSUFFICIENT_SCOPE"})
    ]
    assert body["data"] == data


@pytest.mark.parametrize("field", sorted(QUERIES))
async def test_a_token_with_the_scopes_gets_the_data(as_staff, desk, field):
    query, _scope, _path, _data, scopes = QUERIES[field]

    body = await as_staff(query, {"item": global_id("Item", desk.id)}, await as_staff.token(scopes))

    assert body == {"data": ANSWERS[field]}


@pytest.mark.parametrize("field", sorted(QUERIES))
async def test_a_session_is_never_refused_for_scopes(as_staff, desk, field):
    query, *_ = QUERIES[field]

    body = await as_staff(query, {"item": global_id("Item", desk.id)}, await as_staff.session())

    assert body == {"data": ANSWERS[field]}


async def test_the_refusal_says_nothing_of_the_organization(as_staff, desk):
    headers = await as_staff.token(every_scope_but("members:read"))
    query = 'query($slug: String!) { bookingsPartnerMembers(organizationSlug: $slug, search: "cam") { id } }'

    existing = await as_staff(query, {"slug": "recyclerie-a"}, headers)
    made_up = await as_staff(query, {"slug": "nulle-part-xyz"}, headers)

    assert existing["errors"][0]["extensions"] == {"code": "INSUFFICIENT_SCOPE"}
    assert existing == made_up


CREATE = """mutation($input: BookingsBookingCreateInput!) {
  bookingCreate(input: $input) { booking { state } errors { code field message } }
}"""
CANCEL = """mutation($id: ID!) {
  bookingCancel(input: {id: $id}) { booking { state } errors { code field message } }
}"""


def create_input(item_id: int, hour: int = 11) -> dict[str, Any]:
    return {
        "input": {
            "itemId": global_id("Item", item_id),
            "startsAt": at(hour).isoformat(),
            "endsAt": at(hour + 1).isoformat(),
        }
    }


async def _cancel_input() -> dict[str, Any]:
    """The desk's booking, the fixture's."""
    booking = await Booking.all().order_by("id").first()
    assert booking is not None
    return {"id": global_id("BookingsBooking", booking.id)}


async def _bookings() -> list[tuple[int, BookingState]]:
    return [(b.id, b.state) for b in await Booking.all().order_by("id")]


@pytest.mark.parametrize("mutation", ["bookingCreate", "bookingCancel"])
@pytest.mark.parametrize(("locale", "template"), [("en", ENGLISH), ("fr", FRENCH)])
async def test_a_mutation_without_bookings_write_is_refused_and_writes_nothing(
    as_staff, desk, mutation, locale, template
):
    before = await _bookings()
    query, variables = (
        (CREATE, create_input(desk.id)) if mutation == "bookingCreate" else (CANCEL, await _cancel_input())
    )

    body = await as_staff(query, variables, await as_staff.token(every_scope_but("bookings:write"), locale))

    message = template.format(scope="bookings:write", field=mutation)
    assert body == {
        "data": {
            mutation: {"booking": None, "errors": [{"code": "INSUFFICIENT_SCOPE", "field": None, "message": message}]}
        }
    }
    assert await _bookings() == before


async def test_a_mutation_refusal_is_the_same_for_a_real_and_a_made_up_object(as_staff, desk):
    headers = await as_staff.token(["bookings:read"])
    real = await _cancel_input()

    cancelled = [
        await as_staff(CANCEL, variables, headers) for variables in (real, {"id": global_id("BookingsBooking", 99999)})
    ]
    created = [await as_staff(CREATE, create_input(pk), headers) for pk in (desk.id, 99999)]

    assert cancelled[0] == cancelled[1]
    assert created[0] == created[1]
    assert cancelled[0]["data"]["bookingCancel"]["errors"][0]["code"] == "INSUFFICIENT_SCOPE"


async def test_bookings_write_alone_books_and_cancels(as_staff, desk):
    headers = await as_staff.token(["bookings:write"])

    created = await as_staff(CREATE, create_input(desk.id), headers)
    cancelled = await as_staff(CANCEL, await _cancel_input(), headers)

    assert created == {"data": {"bookingCreate": {"booking": {"state": "CONFIRMED"}, "errors": []}}}
    assert cancelled == {"data": {"bookingCancel": {"booking": {"state": "CANCELLED"}, "errors": []}}}
    assert [state for _id, state in await _bookings()] == [BookingState.CANCELLED, BookingState.CONFIRMED]


async def test_the_staff_cancel_a_members_booking_with_bookings_write_not_inventory_write(
    as_staff, desk, org_a, make_member
):
    booker = await make_member(org_a, role=Role.MEMBER)
    booking = await create_booking(booker, {"item_id": desk.id, "starts_at": at(14), "ends_at": at(15)})
    variables = {"id": global_id("BookingsBooking", booking.id)}

    refused = await as_staff(CANCEL, variables, await as_staff.token(every_scope_but("bookings:write")))
    done = await as_staff(CANCEL, variables, await as_staff.token(["bookings:write"]))

    assert refused["data"]["bookingCancel"]["errors"][0]["code"] == "INSUFFICIENT_SCOPE"
    assert done == {"data": {"bookingCancel": {"booking": {"state": "CANCELLED"}, "errors": []}}}


async def test_a_session_books_without_any_scope(as_staff, desk):
    body = await as_staff(CREATE, create_input(desk.id), await as_staff.session())

    assert body == {"data": {"bookingCreate": {"booking": {"state": "CONFIRMED"}, "errors": []}}}
    assert await Booking.all().count() == 2


# --- node(id:) on a booking --------------------------------------------------------------------

NODE = "query($id: ID!) { node(id: $id) { id ... on BookingsBooking { state mine } } }"


@pytest.mark.parametrize(("locale", "template"), [("en", ENGLISH), ("fr", FRENCH)])
async def test_node_on_a_booking_without_bookings_read_is_refused_whether_it_exists_or_not(
    as_staff, desk, locale, template
):
    headers = await as_staff.token(every_scope_but("bookings:read"), locale)
    real = (await _cancel_input())["id"]

    answers = [await as_staff(NODE, {"id": id_}, headers) for id_ in (real, global_id("BookingsBooking", 99999))]

    assert answers[0] == answers[1]
    assert [(e["message"], e["path"], e["extensions"]) for e in answers[0]["errors"]] == [
        (template.format(scope="bookings:read", field="BookingsBooking"), ["node"], {"code": "INSUFFICIENT_SCOPE"})
    ]
    assert answers[0]["data"] == {"node": None}


async def test_node_on_a_booking_answers_whom_item_bookings_shows_it_to(
    as_staff, client, desk, org_a, org_b, make_member
):
    """The booker and the item's staff, as on ``Item.bookings``; null for anyone else."""
    booker = await make_member(org_a, role=Role.MEMBER)
    booking = await create_booking(booker, {"item_id": desk.id, "starts_at": at(14), "ends_at": at(15)})
    booking_id = global_id("BookingsBooking", booking.id)
    as_booker = Caller(client, booker)
    others = [Caller(client, await make_member(org_a, role=Role.MEMBER)), Caller(client, await make_member(org_b))]

    by_booker = await as_booker(NODE, {"id": booking_id}, await as_booker.token(["bookings:read"]))
    by_staff = await as_staff(NODE, {"id": booking_id}, await as_staff.token(["bookings:read"]))
    by_session = await as_staff(NODE, {"id": booking_id}, await as_staff.session())
    by_others = [await other(NODE, {"id": booking_id}, await other.token(["bookings:read"])) for other in others]

    assert by_booker == {"data": {"node": {"id": booking_id, "state": "CONFIRMED", "mine": True}}}
    assert by_staff == by_session == {"data": {"node": {"id": booking_id, "state": "CONFIRMED", "mine": False}}}
    assert by_others == [{"data": {"node": None}}] * 2


async def test_nodes_refuses_only_the_booking_at_its_place(as_staff, desk):
    headers = await as_staff.token(every_scope_but("bookings:read"))
    ids = [global_id("Item", desk.id), (await _cancel_input())["id"]]

    body = await as_staff("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}, headers)

    assert body["data"] == {"nodes": [{"id": ids[0]}, None]}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["nodes", 1], "INSUFFICIENT_SCOPE")]
