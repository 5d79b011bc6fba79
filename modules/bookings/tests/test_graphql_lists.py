"""The API's lists of bookings: the top-level ``bookings`` shows the staff every booking of
their organizations' resources (and members their own), and ``Item.bookings`` on a page of
items is read in bulk, for a number of statements that does not grow with the page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fabcom.api import global_id, set_module_enabled
from fabcom.auth.services import create_api_token
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.permissions import system_principal
from modules.bookings.services import change_booking, create_booking, make_bookable

PARIS = ZoneInfo("Europe/Paris")
LIST = """query($after: String, $mine: Boolean, $org: String) {
  bookings(first: 2, after: $after, mine: $mine, organizationSlug: $org) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { note mine } } } }"""


def at(hour: int, days: int = 2) -> dt.datetime:
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), PARIS)


def booking(item, hour: int, note: str, days: int = 2) -> dict:
    return {"item_id": item.id, "starts_at": at(hour, days), "ends_at": at(hour + 1, days), "note": note}


@pytest.fixture
async def gql(client):
    async def run(query, variables=None, *, principal, scopes=("bookings:read",)):
        _token, secret = await create_api_token(
            system_principal(), principal.user_id, {"name": "test", "scopes": list(scopes)}
        )
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"},
        )
        assert response.status_code == 200
        return response.json()

    return run


@pytest.fixture
async def laser(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Découpeuse laser", "visibility": "public"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 60})
    return item


def notes(answer: dict) -> list[str]:
    assert "errors" not in answer, answer
    return [edge["node"]["note"] for edge in answer["data"]["bookings"]["edges"]]


async def test_the_staff_see_every_booking_of_their_organizations_resources(
    gql, laser, org_a, org_b, staff_a, make_member
):
    # given the laser of org_a booked by two of its members, one booking cancelled
    alice = await make_member(org_a, role=Role.MEMBER)
    bob = await make_member(org_a, role=Role.MEMBER)
    await create_booking(alice, booking(laser, 9, "Alice"))
    await create_booking(bob, booking(laser, 11, "Bob"))
    cancelled = await create_booking(bob, booking(laser, 14, "Bob, annulé"))
    await change_booking(bob, cancelled.id, "cancel")
    owner = await make_member(org_a, role=Role.OWNER)
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    stranger = await make_member(org_b, role=Role.OWNER)  # staff of another organization

    # when each asks for the bookings with bookings:read, then the owner and the volunteer
    # (who manage the bookings) see all three, soonest first, paged; members their own;
    # another organization's owner none
    first = await gql(LIST, principal=owner)
    assert notes(first) == ["Alice", "Bob"]
    assert first["data"]["bookings"]["totalCount"] == 3
    rest = await gql(LIST, {"after": first["data"]["bookings"]["pageInfo"]["endCursor"]}, principal=owner)
    assert notes(rest) == ["Bob, annulé"]
    assert (await gql(LIST, principal=volunteer))["data"]["bookings"]["totalCount"] == 3
    assert notes(await gql(LIST, principal=alice)) == ["Alice"]
    assert notes(await gql(LIST, principal=bob)) == ["Bob", "Bob, annulé"]
    stranger_sees = await gql(LIST, principal=stranger)
    assert (notes(stranger_sees), stranger_sees["data"]["bookings"]["totalCount"]) == ([], 0)
    # nor does naming the organization help
    assert notes(await gql(LIST, {"org": org_a.slug}, principal=stranger)) == []


async def test_the_filters_narrow_the_list_to_ones_own_or_to_one_organization(
    gql, laser, org_a, org_b, staff_a, staff_b, make_member
):
    # given a person on the staff of both organizations, who booked org_b's drill, and a
    # member's booking of org_a's laser
    both = await make_member(org_a, org_b, role=Role.STAFF)
    drill = await create_item(staff_b, org_b.id, {"title": "Perceuse", "visibility": "public"})
    await make_bookable(staff_b, drill.id, {"slot_minutes": 60})
    member = await make_member(org_a, role=Role.MEMBER)
    await create_booking(member, booking(laser, 9, "Membre"))
    await create_booking(both, booking(drill, 10, "Perceuse pour moi"))

    everything = await gql(LIST, principal=both)
    mine = await gql(LIST, {"mine": True}, principal=both)
    others = await gql(LIST, {"mine": False}, principal=both)
    of_a = await gql(LIST, {"org": org_a.slug}, principal=both)
    unknown = await gql(LIST, {"org": "nulle-part"}, principal=both)

    assert notes(everything) == ["Membre", "Perceuse pour moi"]
    assert [e["node"]["mine"] for e in everything["data"]["bookings"]["edges"]] == [False, True]
    assert notes(mine) == ["Perceuse pour moi"]
    assert notes(others) == ["Membre"]
    assert (notes(of_a), of_a["data"]["bookings"]["totalCount"]) == (["Membre"], 1)
    assert (notes(unknown), unknown["data"]["bookings"]["totalCount"]) == ([], 0)


async def test_an_organization_that_switched_bookings_off_is_left_out(gql, laser, org_a, staff_a, make_member):
    owner = await make_member(org_a, role=Role.OWNER)
    await create_booking(staff_a, booking(laser, 9, "Équipe"))
    assert notes(await gql(LIST, principal=owner)) == ["Équipe"]

    await set_module_enabled(system_principal(), org_a.id, {"module": "bookings", "enabled": False})

    assert notes(await gql(LIST, principal=owner)) == []


# --- Item.bookings on a page of items ---------------------------------------------------------------

ITEM_PAGE = """query($n: Int!) { items(first: $n, orderBy: {field: ID, direction: ASC}) { edges { node { title
  bookings(first: 2) { totalCount pageInfo { hasNextPage } edges { node { note } } } } } } }"""


async def test_item_bookings_on_a_page_cost_no_statement_per_item(gql, org_a, staff_a, make_member, sql_statements):
    # given five bookable items, each booked three times by the staff and once by a member
    member = await make_member(org_a, role=Role.MEMBER)
    items = []
    for n in range(5):
        item = await create_item(staff_a, org_a.id, {"title": f"Machine {n}", "visibility": "public"})
        await make_bookable(staff_a, item.id, {"slot_minutes": 60})
        for hour in (9, 11, 13):
            await create_booking(staff_a, booking(item, hour, f"{n}-{hour}"))
        await create_booking(member, booking(item, 15, f"{n}-membre"))
        items.append(item)

    # when the staff read one item's bookings, then five items'
    sql_statements.clear()
    one = await gql(ITEM_PAGE, {"n": 1}, principal=staff_a)
    for_one = len(sql_statements)
    sql_statements.clear()
    five = await gql(ITEM_PAGE, {"n": 5}, principal=staff_a)
    for_five = len(sql_statements)

    # then the five cost what one costs, and each item has its own page and count
    assert "errors" not in five, five
    assert for_five == for_one, sql_statements
    assert one["data"]["items"]["edges"][0]["node"]["bookings"] == {
        "totalCount": 4,
        "pageInfo": {"hasNextPage": True},
        "edges": [{"node": {"note": "0-9"}}, {"node": {"note": "0-11"}}],
    }
    assert [
        (e["node"]["title"], [b["node"]["note"] for b in e["node"]["bookings"]["edges"]])
        for e in five["data"]["items"]["edges"]
    ] == [(f"Machine {n}", [f"{n}-9", f"{n}-11"]) for n in range(5)]
    # and a member sees only their own booking of each, counted as such
    members_page = await gql(ITEM_PAGE, {"n": 5}, principal=member)
    assert [e["node"]["bookings"] for e in members_page["data"]["items"]["edges"]] == [
        {"totalCount": 1, "pageInfo": {"hasNextPage": False}, "edges": [{"node": {"note": f"{n}-membre"}}]}
        for n in range(5)
    ]


async def test_item_bookings_page_by_cursor_and_backwards(gql, laser, staff_a):
    for hour in (9, 10, 11, 12, 13):
        await create_booking(staff_a, booking(laser, hour, f"{hour}h"))
    query = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { node(id: $id) {
      ... on Item { bookings(first: $first, after: $after, last: $last, before: $before) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { note } } } } } }"""
    item_id = global_id("Item", laser.id)

    def page(answer):
        assert "errors" not in answer, answer
        found = answer["data"]["node"]["bookings"]
        return [e["node"]["note"] for e in found["edges"]], found["pageInfo"]

    first, info = page(await gql(query, {"id": item_id, "first": 2}, principal=staff_a))
    assert (first, info["hasNextPage"], info["hasPreviousPage"]) == (["9h", "10h"], True, False)
    second, info = page(await gql(query, {"id": item_id, "first": 2, "after": info["endCursor"]}, principal=staff_a))
    assert (second, info["hasNextPage"], info["hasPreviousPage"]) == (["11h", "12h"], True, True)
    last, info = page(await gql(query, {"id": item_id, "last": 2}, principal=staff_a))
    assert (last, info["hasNextPage"], info["hasPreviousPage"]) == (["12h", "13h"], False, True)
    before, info = page(await gql(query, {"id": item_id, "last": 2, "before": info["startCursor"]}, principal=staff_a))
    assert (before, info["hasNextPage"], info["hasPreviousPage"]) == (["10h", "11h"], True, True)


BOOKED_ITEMS = """query($n: Int) {
  bookings(first: $n) { edges { node { itemId item { id title organization { slug } category { code } photos { url } } } } } }"""


async def test_the_booked_items_of_a_page_cost_no_statement_per_booking(gql, org_a, staff_a, sql_statements):
    # given five items, each booked once
    items = []
    for n in range(5):
        item = await create_item(
            staff_a, org_a.id, {"title": f"Machine {n}", "visibility": "public", "category_code": "C_05"}
        )
        await make_bookable(staff_a, item.id, {"slot_minutes": 60})
        await create_booking(staff_a, booking(item, 9 + n, f"n° {n}"))
        items.append(item)

    # when the staff read one booking with its item, then five
    sql_statements.clear()
    one = await gql(BOOKED_ITEMS, {"n": 1}, principal=staff_a, scopes=("bookings:read", "inventory:read"))
    for_one = len(sql_statements)
    sql_statements.clear()
    five = await gql(BOOKED_ITEMS, {"n": 5}, principal=staff_a, scopes=("bookings:read", "inventory:read"))
    for_five = len(sql_statements)

    # then the five cost what one costs, and each booking has its item (its former id too)
    assert "errors" not in one, one
    assert "errors" not in five, five
    assert for_five == for_one, sql_statements
    assert [edge["node"] for edge in five["data"]["bookings"]["edges"]] == [
        {
            "itemId": global_id("Item", item.id),
            "item": {
                "id": global_id("Item", item.id),
                "title": item.title,
                "organization": {"slug": org_a.slug},
                "category": {"code": "C_05"},
                "photos": [],
            },
        }
        for item in items
    ]


async def test_a_booked_item_the_token_may_not_see_is_null(gql, org_a, staff_a):
    # given a booking of a private item, read with a token without inventory:read
    item = await create_item(staff_a, org_a.id, {"title": "Fraiseuse", "visibility": "private"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 60})
    await create_booking(staff_a, booking(item, 10, "fraiseuse"))

    answer = await gql(BOOKED_ITEMS, {"n": 5}, principal=staff_a)

    # then the booking is listed, its item null (as a missing one); with inventory:read, the item
    assert "errors" not in answer, answer
    assert [edge["node"]["item"] for edge in answer["data"]["bookings"]["edges"]] == [None]
    seen = await gql(BOOKED_ITEMS, {"n": 5}, principal=staff_a, scopes=("bookings:read", "inventory:read"))
    assert [edge["node"]["item"]["title"] for edge in seen["data"]["bookings"]["edges"]] == ["Fraiseuse"]
