"""``exchangeRequests(filter:)``: by status, by direction (the requests your organizations
made or received) and by organization, each narrowing what the caller may see, never
widening it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fabcom.inventory.services import create_item, delete_item, update_item
from fabcom.members.models import Role
from fabcom.network.models import ExchangeRequest, ExchangeStatus, Partnership, PartnershipStatus
from fabcom.orgs.models import Organization

QUERY = """query($f: ExchangeRequestFilter) { exchangeRequests(first: 50, filter: $f) {
  totalCount edges { node { message } } } }"""


@dataclass
class Exchanges:
    org_a: Organization
    org_b: Organization
    org_c: Organization
    org_d: Organization


async def ask(owner, requester, staff, message: str, status: ExchangeStatus = ExchangeStatus.PENDING) -> None:
    item = await create_item(staff, owner.id, {"title": f"Objet de {owner.slug}", "visibility": "partners"})
    await ExchangeRequest.create(
        item_id=item.id,
        owner_organization=owner,
        requester_organization=requester,
        kind="receive",
        message=message,
        status=status,
    )


@pytest.fixture
async def exchanges(make_org, make_member, org_a, org_b) -> Exchanges:
    """A and B exchange both ways; B and C between themselves (private to them); D, run by
    the same person as A (``two_hats``), asks A for an item."""
    org_c = await make_org("ressourcerie-c")
    org_d = await make_org("atelier-d")
    for one, other in ((org_a, org_b), (org_b, org_c), (org_d, org_a)):
        await Partnership.create(organization=one, partner=other, status=PartnershipStatus.ACCEPTED)
    staff = {org.id: await make_member(org, role=Role.STAFF) for org in (org_a, org_b, org_c, org_d)}
    await ask(org_a, org_b, staff[org_a.id], "B asks A")
    await ask(org_b, org_a, staff[org_b.id], "A asks B", ExchangeStatus.DECLINED)
    await ask(org_a, org_b, staff[org_a.id], "B asks A again", ExchangeStatus.ACCEPTED)
    await ask(org_c, org_b, staff[org_c.id], "B asks C")
    await ask(org_b, org_c, staff[org_b.id], "C asks B", ExchangeStatus.DECLINED)
    await ask(org_a, org_d, staff[org_a.id], "D asks A")
    return Exchanges(org_a, org_b, org_c, org_d)


async def messages(api, token: str, flt: dict | None = None) -> list[str]:
    answer = await api(QUERY, {"f": flt}, token=token)
    connection = answer.data["exchangeRequests"]
    assert connection["totalCount"] == len(connection["edges"])
    return sorted(edge["node"]["message"] for edge in connection["edges"])


async def test_each_filter_narrows_the_requests_of_your_organization(api, exchanges, staff_a, token_for):
    token = await token_for(staff_a)

    assert await messages(api, token) == ["A asks B", "B asks A", "B asks A again", "D asks A"]
    assert await messages(api, token, {"status": "PENDING"}) == ["B asks A", "D asks A"]
    assert await messages(api, token, {"status": "RETURNED"}) == []
    assert await messages(api, token, {"direction": "SENT"}) == ["A asks B"]
    assert await messages(api, token, {"direction": "RECEIVED"}) == ["B asks A", "B asks A again", "D asks A"]
    assert await messages(api, token, {"direction": "RECEIVED", "status": "ACCEPTED"}) == ["B asks A again"]
    # a partner's slug: what you exchanged with it, in the direction asked
    assert await messages(api, token, {"organizationSlug": "fablab-b"}) == ["A asks B", "B asks A", "B asks A again"]
    assert await messages(api, token, {"organizationSlug": "fablab-b", "direction": "SENT"}) == ["A asks B"]
    assert await messages(api, token, {"organizationSlug": "atelier-d"}) == ["D asks A"]
    # your own organization's slug: all of yours
    assert await messages(api, token, {"organizationSlug": "recyclerie-a", "direction": "SENT"}) == ["A asks B"]


async def test_with_two_organizations_the_slug_of_one_tells_whose_side_the_direction_is(
    api, exchanges, make_member, token_for
):
    """Someone on the staff of A and of D: D's request to A is sent (by D) and received (by
    A); naming one of the two takes the direction from its side."""
    two_hats = await make_member(exchanges.org_a, exchanges.org_d, role=Role.STAFF)
    token = await token_for(two_hats)

    assert await messages(api, token, {"direction": "SENT"}) == ["A asks B", "D asks A"]
    assert await messages(api, token, {"direction": "SENT", "organizationSlug": "recyclerie-a"}) == ["A asks B"]
    assert await messages(api, token, {"direction": "SENT", "organizationSlug": "atelier-d"}) == ["D asks A"]
    assert await messages(api, token, {"direction": "RECEIVED", "organizationSlug": "atelier-d"}) == []
    assert await messages(api, token, {"direction": "RECEIVED", "organizationSlug": "recyclerie-a"}) == [
        "B asks A",
        "B asks A again",
        "D asks A",
    ]


async def test_a_filter_never_shows_another_organizations_requests(api, exchanges, staff_a, token_for):
    """A's token naming B, or C, sees only what A itself exchanged with them: none of
    B and C's requests between themselves, whatever the other filters."""
    token = await token_for(staff_a)
    for flt in (
        {"organizationSlug": "fablab-b"},
        {"organizationSlug": "fablab-b", "direction": "RECEIVED"},
        {"organizationSlug": "fablab-b", "status": "PENDING"},
        {"organizationSlug": "fablab-b", "status": "DECLINED", "direction": "SENT"},
    ):
        assert not {"B asks C", "C asks B"} & set(await messages(api, token, flt)), flt
    assert await messages(api, token, {"organizationSlug": "ressourcerie-c"}) == []
    assert await messages(api, token, {"organizationSlug": "ressourcerie-c", "direction": "SENT"}) == []
    # a slug that names nobody, or could not be one, is an empty list, as items(filter:) answers it
    assert await messages(api, token, {"organizationSlug": "nobody-here"}) == []
    assert await messages(api, token, {"organizationSlug": "' OR 1=1 --"}) == []


async def test_a_filter_value_outside_its_enum_is_refused_before_anything_runs(api, exchanges, staff_a, token_for):
    token = await token_for(staff_a)
    for flt in ({"direction": "BOTH"}, {"status": "LOST"}):
        answer = await api(QUERY, {"f": flt}, token=token, locale="en")
        assert answer.error_codes == ["GRAPHQL_VALIDATION_FAILED"], flt
        assert "Variable '$f' has invalid value" in answer.body["errors"][0]["message"]
        assert "data" not in answer.body


ITEMS = """query($n: Int!) { exchangeRequests(first: $n) { edges { node { message
  item { title organization { slug } } } } } }"""


async def test_a_page_of_requests_reads_their_items_in_one_batch(api, org_a, org_b, staff_a, token_for, sql_statements):
    # given five requests of B for five of A's items
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    for n in range(5):
        await ask(org_a, org_b, staff_a, f"Demande {n}")
    token = await token_for(staff_a)
    sql_statements.clear()

    # when A reads one request with its item, then five
    one = await api(ITEMS, {"n": 1}, token=token)
    statements_for_one = len(sql_statements)
    sql_statements.clear()
    five = await api(ITEMS, {"n": 5}, token=token)

    # then each request has its item, for the same number of statements
    assert [edge["node"] for edge in five.data["exchangeRequests"]["edges"]] == [
        {
            "message": f"Demande {n}",
            "item": {"title": "Objet de recyclerie-a", "organization": {"slug": "recyclerie-a"}},
        }
        for n in reversed(range(5))
    ]
    assert one.data["exchangeRequests"]["edges"][0] == five.data["exchangeRequests"]["edges"][0]
    assert len(sql_statements) == statements_for_one, sql_statements


SEEN_ITEMS = """{ exchangeRequests(first: 10) { edges { node { message
  item { title } again: item { uri } } } } }"""


async def test_a_requests_item_is_shown_only_to_whom_may_see_it(api, org_a, org_b, staff_a, staff_b, token_for):
    """B asked A for four items: one A shares with partners, a public one, one A then made
    private, one A then deleted. Each reader sees in the batch the items it would see
    through ``item(id:)``, null for the others, at every place of the query."""
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    items = {}
    for title, visibility in (("Perceuse", "partners"), ("Scie", "public"), ("Secret", "partners"), ("Jeté", "public")):
        items[title] = await create_item(staff_a, org_a.id, {"title": title, "visibility": visibility})
        await ExchangeRequest.create(
            item_id=items[title].id,
            owner_organization=org_a,
            requester_organization=org_b,
            kind="receive",
            message=f"B veut {title}",
        )
    await update_item(staff_a, items["Secret"].id, {"visibility": "private"})
    await delete_item(staff_a, items["Jeté"].id)

    async def seen(principal, scopes=None) -> dict[str, tuple[str | None, str | None]]:
        answer = await api(SEEN_ITEMS, token=await token_for(principal, scopes))
        return {
            edge["node"]["message"]: (
                edge["node"]["item"] and edge["node"]["item"]["title"],
                edge["node"]["again"] and edge["node"]["again"]["uri"],
            )
            for edge in answer.data["exchangeRequests"]["edges"]
        }

    def uri(title: str) -> str:
        return f"http://127.0.0.1:8000/o/recyclerie-a/items/{items[title].id}"

    # the partner that asked: what A shares with it, not what A made private or deleted since
    assert await seen(staff_b) == {
        "B veut Perceuse": ("Perceuse", uri("Perceuse")),
        "B veut Scie": ("Scie", uri("Scie")),
        "B veut Secret": (None, None),
        "B veut Jeté": (None, None),
    }
    # its token without inventory:read: the public item only
    assert await seen(staff_b, ["network:read"]) == {
        "B veut Perceuse": (None, None),
        "B veut Scie": ("Scie", uri("Scie")),
        "B veut Secret": (None, None),
        "B veut Jeté": (None, None),
    }
    # the owner: its own items, but for the deleted one
    assert await seen(staff_a) == {
        "B veut Perceuse": ("Perceuse", uri("Perceuse")),
        "B veut Scie": ("Scie", uri("Scie")),
        "B veut Secret": ("Secret", uri("Secret")),
        "B veut Jeté": (None, None),
    }
