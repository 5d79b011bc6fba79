"""Bookings through GraphQL over HTTP, with a bearer token: the query, the two
mutations, and the fields added to the core ``Item`` type."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fabcom.api import global_id, set_module_enabled
from fabcom.auth.services import create_api_token
from fabcom.gql.schema import full_schema
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.permissions import known_scopes, system_principal
from modules.bookings.models import Booking, BookingState
from modules.bookings.services import make_bookable

PARIS = ZoneInfo("Europe/Paris")
CREATE = """
mutation($input: BookingsBookingCreateInput!) {
  bookingCreate(input: $input) { booking { id state note mine } errors { field message code } }
}"""
CANCEL = """
mutation($id: ID!) {
  bookingCancel(input: {id: $id}) { booking { state } errors { field message code } }
}"""


def at(hour: int) -> str:
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), PARIS).isoformat()


@pytest.fixture
async def gql(client):
    async def run(query, variables=None, *, principal=None, locale="en"):
        headers = {"Accept-Language": locale}
        if principal is not None:
            _token, secret = await create_api_token(
                system_principal(), principal.user_id, {"name": "test", "scopes": [s.code for s in known_scopes()]}
            )
            headers["Authorization"] = f"Bearer {secret}"
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200
        return response.json()

    return run


@pytest.fixture
async def desk(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Bureau partagé", "visibility": "public"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 30})
    return item


async def test_a_member_books_lists_and_cancels(gql, desk, org_a, make_member):
    # given a member of the desk's organization
    member = await make_member(org_a, role=Role.MEMBER)
    item_id = global_id("Item", desk.id)

    # when they book it
    created = await gql(
        CREATE, {"input": {"itemId": item_id, "startsAt": at(9), "endsAt": at(10), "note": "Compta"}}, principal=member
    )
    booking = created["data"]["bookingCreate"]
    assert booking["errors"] == []
    assert {k: booking["booking"][k] for k in ("state", "note", "mine")} == {
        "state": "CONFIRMED",
        "note": "Compta",
        "mine": True,
    }

    # then it is in their bookings and on the item
    listed = await gql("{ bookings(first: 10) { totalCount edges { node { id state } } } }", principal=member)
    assert listed["data"]["bookings"] == {
        "totalCount": 1,
        "edges": [{"node": {"id": booking["booking"]["id"], "state": "CONFIRMED"}}],
    }
    on_item = await gql(
        "query($id: ID!) { node(id: $id) { ... on Item { bookings(first: 10) { edges { node { id } } } } } }",
        {"id": item_id},
        principal=member,
    )
    assert on_item["data"]["node"]["bookings"]["edges"] == [{"node": {"id": booking["booking"]["id"]}}]

    # and when they cancel it, it is cancelled
    cancelled = await gql(CANCEL, {"id": booking["booking"]["id"]}, principal=member)
    assert cancelled["data"]["bookingCancel"] == {"booking": {"state": "CANCELLED"}, "errors": []}
    assert [b.state for b in await Booking.all()] == [BookingState.CANCELLED]


async def test_an_overlapping_booking_is_refused_in_the_payload(gql, desk, staff_a):
    first = {"input": {"itemId": global_id("Item", desk.id), "startsAt": at(9), "endsAt": at(10)}}
    assert (await gql(CREATE, first, principal=staff_a))["data"]["bookingCreate"]["errors"] == []

    again = await gql(CREATE, first, principal=staff_a, locale="fr")

    assert again["data"]["bookingCreate"]["booking"] is None
    assert [e["code"] for e in again["data"]["bookingCreate"]["errors"]] == ["CONFLICT"]
    assert again["data"]["bookingCreate"]["errors"][0]["message"] == (
        "Ce créneau est déjà réservé : choisissez un autre horaire."
    )
    assert await Booking.all().count() == 1


async def test_others_may_neither_cancel_nor_see_a_booking(gql, desk, org_a, org_b, staff_a, make_member):
    # given a booking by a member, and a stranger from another organization
    member = await make_member(org_a, role=Role.MEMBER)
    stranger = await make_member(org_b, role=Role.STAFF)
    created = await gql(
        CREATE, {"input": {"itemId": global_id("Item", desk.id), "startsAt": at(9), "endsAt": at(10)}}, principal=member
    )
    booking_id = created["data"]["bookingCreate"]["booking"]["id"]

    # when the stranger tries to cancel it, it is refused and nothing changes
    refused = await gql(CANCEL, {"id": booking_id}, principal=stranger)
    assert refused["data"]["bookingCancel"]["booking"] is None
    assert len(refused["data"]["bookingCancel"]["errors"]) == 1
    assert [b.state for b in await Booking.all()] == [BookingState.CONFIRMED]

    # and they see neither it in their list nor on the item, while the staff see it
    mine = await gql("{ bookings(first: 10) { edges { node { id } } } }", principal=stranger)
    assert mine["data"]["bookings"]["edges"] == []
    on_item = "query($id: ID!) { node(id: $id) { ... on Item { bookings(first: 10) { edges { node { id mine } } } } } }"
    seen = await gql(on_item, {"id": global_id("Item", desk.id)}, principal=stranger)
    assert seen["data"]["node"]["bookings"]["edges"] == []
    seen = await gql(on_item, {"id": global_id("Item", desk.id)}, principal=staff_a)
    assert seen["data"]["node"]["bookings"]["edges"] == [{"node": {"id": booking_id, "mine": False}}]


async def test_anonymous_callers_cannot_book(client, desk):
    variables = {"input": {"itemId": global_id("Item", desk.id), "startsAt": at(9), "endsAt": at(10)}}
    response = await client.post("/graphql", json={"query": CREATE, "variables": variables})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await Booking.all().count() == 0


async def test_availability_of_an_item(gql, desk, staff_a):
    await gql(
        CREATE,
        {"input": {"itemId": global_id("Item", desk.id), "startsAt": at(9), "endsAt": at(10)}},
        principal=staff_a,
    )
    query = "query($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on Item { availability(from: $from, to: $to) { start end } } } }"
    answer = await gql(query, {"id": global_id("Item", desk.id), "from": at(8), "to": at(12)}, principal=staff_a)
    periods = answer["data"]["node"]["availability"]
    assert [(dt.datetime.fromisoformat(p["start"]), dt.datetime.fromisoformat(p["end"])) for p in periods] == [
        (dt.datetime.fromisoformat(at(8)), dt.datetime.fromisoformat(at(9))),
        (dt.datetime.fromisoformat(at(10)), dt.datetime.fromisoformat(at(12))),
    ]


async def test_a_page_of_items_answers_the_fields_bookings_adds(gql, desk, staff_a):
    """A page loads only what its selection reads: the fields on ``Item`` declare what
    they read of the row (``reads("id", "organization_id")``)."""
    await gql(
        CREATE,
        {"input": {"itemId": global_id("Item", desk.id), "startsAt": at(9), "endsAt": at(10)}},
        principal=staff_a,
    )
    query = (
        "query($from: DateTime!, $to: DateTime!) { items(first: 5) { edges { node {"
        " availability(from: $from, to: $to) { start } bookings(first: 5) { edges { node { state } } } } } } }"
    )
    answer = await gql(query, {"from": at(8), "to": at(12)}, principal=staff_a)
    assert "errors" not in answer, answer
    node = answer["data"]["items"]["edges"][0]["node"]
    assert len(node["availability"]) == 2
    assert [edge["node"]["state"] for edge in node["bookings"]["edges"]] == ["CONFIRMED"]


async def test_availability_refuses_a_time_without_zone_or_backwards_with_a_reason(gql, desk, staff_a):
    query = "query($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on Item { availability(from: $from, to: $to) { start } } } }"
    item = global_id("Item", desk.id)
    naive = await gql(
        query,
        {"id": item, "from": "2026-12-10T00:00:00", "to": "2026-12-12T00:00:00"},
        principal=staff_a,
        locale="fr",
    )
    assert [e["message"] for e in naive["errors"]] == ["Indiquez l’heure avec son fuseau horaire."]
    backwards = await gql(query, {"id": item, "from": at(12), "to": at(8)}, principal=staff_a, locale="fr")
    assert [e["message"] for e in backwards["errors"]] == ["La fin doit suivre le début."]
    far = await gql(
        query, {"id": item, "from": "9999-12-30T00:00:00Z", "to": "9999-12-31T00:00:00Z"}, principal=staff_a
    )
    assert "the year must be between 1900 and 2999" in far["errors"][0]["message"]


# --- what a partner's walk through the API found -------------------------------------------------

PAGE_AVAILABILITY = (
    "query($from: DateTime!, $to: DateTime!) { items(first: 5, orderBy: {field: ID, direction: ASC}) {"
    " edges { node { title availability(from: $from, to: $to) { start end } } } } }"
)


async def test_a_page_of_items_answers_availability_null_for_those_that_cannot_be_booked(
    gql, desk, org_a, org_b, staff_a, staff_b
):
    # given, besides the bookable desk, an item that is not bookable and a bookable item of an
    # organization that then switched bookings off
    await create_item(staff_a, org_a.id, {"title": "Chaise", "visibility": "public"})
    drill = await create_item(staff_b, org_b.id, {"title": "Perceuse", "visibility": "public"})
    await make_bookable(staff_b, drill.id, {"slot_minutes": 30})
    await set_module_enabled(system_principal(), org_b.id, {"module": "bookings", "enabled": False})

    # when a partner asks a catalogue page with the availability of each item
    answer = await gql(PAGE_AVAILABILITY, {"from": at(8), "to": at(12)}, principal=staff_a, locale="fr")

    # then the page is answered, with no error: periods for the desk, null for the others
    assert "errors" not in answer, answer
    nodes = {e["node"]["title"]: e["node"]["availability"] for e in answer["data"]["items"]["edges"]}
    assert nodes == {
        "Bureau partagé": [{"start": nodes["Bureau partagé"][0]["start"], "end": nodes["Bureau partagé"][0]["end"]}],
        "Chaise": None,
        "Perceuse": None,
    }
    assert dt.datetime.fromisoformat(nodes["Bureau partagé"][0]["start"]) == dt.datetime.fromisoformat(at(8))


async def test_a_fully_booked_item_answers_an_empty_list_not_null(gql, desk, staff_a):
    await gql(
        CREATE,
        {"input": {"itemId": global_id("Item", desk.id), "startsAt": at(9), "endsAt": at(10)}},
        principal=staff_a,
    )
    answer = await gql(PAGE_AVAILABILITY, {"from": at(9), "to": at(10)}, principal=staff_a)
    assert answer["data"]["items"]["edges"] == [{"node": {"title": "Bureau partagé", "availability": []}}]


async def test_bad_availability_arguments_are_still_errors_on_an_item_that_cannot_be_booked(gql, org_a, staff_a):
    # given only an item that is not bookable
    await create_item(staff_a, org_a.id, {"title": "Chaise", "visibility": "public"})

    # when the window is backwards, naive or too long, it is refused with its reason
    backwards = await gql(PAGE_AVAILABILITY, {"from": at(12), "to": at(8)}, principal=staff_a, locale="fr")
    naive = await gql(
        PAGE_AVAILABILITY, {"from": "2026-12-10T00:00:00", "to": "2026-12-12T00:00:00"}, principal=staff_a, locale="fr"
    )
    too_long = await gql(
        PAGE_AVAILABILITY, {"from": "2026-12-01T00:00:00Z", "to": "2027-03-01T00:00:00Z"}, principal=staff_a
    )

    assert [(e["message"], e["extensions"]["code"], e["path"]) for e in backwards["errors"]] == [
        ("La fin doit suivre le début.", "INVALID", ["items", "edges", 0, "node", "availability"])
    ]
    assert [e["message"] for e in naive["errors"]] == ["Indiquez l’heure avec son fuseau horaire."]
    assert [(e["message"], e["extensions"]["code"]) for e in too_long["errors"]] == [
        ("Ask for at most two months at a time.", "OUT_OF_RANGE")
    ]
    # the rest of the page is still answered
    assert backwards["data"]["items"]["edges"] == [{"node": {"title": "Chaise", "availability": None}}]


async def test_cancelling_a_cancelled_booking_is_refused_for_the_request_as_a_whole(gql, desk, staff_a):
    created = await gql(
        CREATE,
        {"input": {"itemId": global_id("Item", desk.id), "startsAt": at(9), "endsAt": at(10)}},
        principal=staff_a,
    )
    booking_id = created["data"]["bookingCreate"]["booking"]["id"]
    assert (await gql(CANCEL, {"id": booking_id}, principal=staff_a))["data"]["bookingCancel"]["errors"] == []

    again = await gql(CANCEL, {"id": booking_id}, principal=staff_a, locale="fr")

    assert again["data"]["bookingCancel"] == {
        "booking": None,
        "errors": [
            {
                "field": None,
                "code": "INVALID_STATE",
                "message": "Cette réservation ne peut plus être modifiée ainsi.",
            }
        ],
    }


async def test_an_end_before_the_start_is_refused_on_ends_at(gql, desk, staff_a):
    answer = await gql(
        CREATE,
        {"input": {"itemId": global_id("Item", desk.id), "startsAt": at(10), "endsAt": at(9)}},
        principal=staff_a,
        locale="fr",
    )
    assert answer["data"]["bookingCreate"] == {
        "booking": None,
        "errors": [{"field": "endsAt", "code": "INVALID", "message": "La fin doit suivre le début."}],
    }
    assert await Booking.all().count() == 0


async def test_every_refusal_of_the_booking_mutations_names_one_of_their_input_fields(gql, desk, staff_a):
    """A payload error's ``field`` is an input field of its mutation (camelCase) or null."""
    item_id = global_id("Item", desk.id)
    created = await gql(CREATE, {"input": {"itemId": item_id, "startsAt": at(9), "endsAt": at(10)}}, principal=staff_a)
    booking_id = created["data"]["bookingCreate"]["booking"]["id"]
    past = (dt.datetime.now(PARIS) - dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    creates = [
        {"itemId": item_id, "startsAt": at(9), "endsAt": at(10)},  # taken
        {"itemId": item_id, "startsAt": at(10), "endsAt": at(9)},  # backwards
        {"itemId": item_id, "startsAt": at(9), "endsAt": at(9).replace(":00:00", ":10:00")},  # not whole slots
        {"itemId": item_id, "startsAt": past.isoformat(), "endsAt": (past + dt.timedelta(hours=1)).isoformat()},
        {"itemId": item_id, "startsAt": at(11), "endsAt": at(12), "note": "x" * 501},
        {"itemId": "bm90IGFuIGlk", "startsAt": at(11), "endsAt": at(12)},
        {"itemId": item_id, "startsAt": at(11), "endsAt": at(12), "partnerMemberId": "bm90IGFuIGlk"},
    ]
    cancels = [booking_id, global_id("BookingsBooking", 999_999), "bm90IGFuIGlk"]

    fields = {"bookingCreate": set(), "bookingCancel": set()}
    for values in creates:
        answer = await gql(CREATE, {"input": values}, principal=staff_a)
        assert answer["data"]["bookingCreate"]["errors"], values
        fields["bookingCreate"] |= {e["field"] for e in answer["data"]["bookingCreate"]["errors"]}
    await gql(CANCEL, {"id": booking_id}, principal=staff_a)  # then cancelling it again is refused
    for value in cancels:
        answer = await gql(CANCEL, {"id": value}, principal=staff_a)
        assert answer["data"]["bookingCancel"]["errors"], value
        fields["bookingCancel"] |= {e["field"] for e in answer["data"]["bookingCancel"]["errors"]}

    inputs = full_schema()._schema.type_map
    assert fields["bookingCreate"] <= {None, *inputs["BookingsBookingCreateInput"].fields}
    assert fields["bookingCancel"] <= {None, *inputs["BookingsBookingCancelInput"].fields}
    assert fields["bookingCreate"] >= {"startsAt", "endsAt", "note", "itemId"}


async def test_a_taken_slot_is_refused_without_offering_a_waiting_list_the_api_does_not_have(gql, desk, staff_a):
    values = {"input": {"itemId": global_id("Item", desk.id), "startsAt": at(9), "endsAt": at(10)}}
    await gql(CREATE, values, principal=staff_a)

    french = await gql(CREATE, values, principal=staff_a, locale="fr")
    english = await gql(CREATE, values, principal=staff_a, locale="en")

    assert french["data"]["bookingCreate"]["errors"] == [
        {
            "field": "startsAt",
            "code": "CONFLICT",
            "message": "Ce créneau est déjà réservé : choisissez un autre horaire.",
        }
    ]
    assert english["data"]["bookingCreate"]["errors"][0]["message"] == (
        "This slot is already booked: choose another time."
    )
