"""The network search (web page and GraphQL ``networkItems``), the member's consent page
and the JSON-LD context document, over HTTP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabcom.auth.models import User
from fabcom.auth.services import create_api_token, open_session
from fabcom.federation import vocab
from fabcom.federation.handlers import Sender, dispatch
from fabcom.federation.mirror_models import FederatedExchange, MirrorItem, SharedProfile
from fabcom.federation.models import Audience, OutboxActivity
from fabcom.members.models import Role
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.permissions import system_principal

T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)


async def share(org, actor: str, base: str, pk: int, title: str, category: str = "C_15") -> None:
    obj = vocab.item_object(
        pk=pk,
        actor=actor,
        title=title,
        description="",
        category_code=category,
        quantity_value=Decimal(3),
        unit="piece",
        condition="good",
        status="available",
        sharing_modes=["give"],
        audience=Audience.PARTNERS,
        published=T0,
        updated=T0,
        base=base,
    )
    activity = vocab.activity("Create", actor=actor, obj=obj, audience=Audience.PARTNERS, published=T0, base=base)
    await dispatch(activity, Sender(actor_uri=actor, organization_id=org.id))


@pytest.fixture
async def network(make_org, org_a):
    """org_a is a partner of remote B (two shared items), not of remote C (one)."""
    b = await make_org("b-remote", name="Fablab Bellevue", is_local=False, remote_uri="https://b.example/ap/o/b")
    c = await make_org("c-remote", name="Inconnu C", is_local=False, remote_uri="https://c.example/ap/o/c")
    await Partnership.create(organization=org_a, partner=b, status=PartnershipStatus.ACCEPTED)
    await share(b, "https://b.example/ap/o/b", "https://b.example", 1, "Chaise en chêne")
    await share(b, "https://b.example/ap/o/b", "https://b.example", 2, "Perceuse", category="C_10")
    await share(c, "https://c.example/ap/o/c", "https://c.example", 1, "Chaise de C")
    return b


async def signed_in(client, principal) -> str:
    session, key = await open_session(await User.get(id=principal.user_id))
    client.cookies.set("fabcom_session", key)
    return session.csrf_token


async def test_network_page_shows_partners_items_only_and_sends_a_request(client, org_a, staff_a, network):
    csrf = await signed_in(client, staff_a)

    page = await client.get(f"/o/{org_a.slug}/network")
    assert page.status_code == 200
    assert "Chaise en chêne" in page.text
    assert "Fablab Bellevue" in page.text
    assert "Perceuse" in page.text
    assert "Chaise de C" not in page.text
    found = await client.get(f"/o/{org_a.slug}/network", params={"q": "chaise"}, headers={"HX-Request": "true"})
    assert "Chaise en chêne" in found.text
    assert "Perceuse" not in found.text
    assert "<html" not in found.text
    by_category = await client.get(f"/o/{org_a.slug}/network", params={"category": "C_10"})
    assert "Perceuse" in by_category.text
    assert "Chaise en chêne" not in by_category.text

    mirror = await MirrorItem.get(title="Chaise en chêne")
    sent = await client.post(
        f"/o/{org_a.slug}/network/request",
        data={"mirror_item_id": str(mirror.id), "kind": "receive", "quantity": "2", "csrf_token": csrf},
    )
    assert sent.status_code == 303
    exchange = await FederatedExchange.get()
    assert (exchange.kind, exchange.quantity, exchange.status) == ("receive", 2, "pending")
    assert (await OutboxActivity.get()).type == "Offer"
    listing = await client.get(f"/o/{org_a.slug}/network")
    assert "Chaise en chêne</strong>" in listing.text

    # cancelling it asks first
    cancel = f"/o/{org_a.slug}/network/exchanges/{exchange.id}/cancel"
    asked = await client.post(cancel, data={"csrf_token": csrf})
    assert asked.status_code == 200
    assert "Annuler votre demande pour « Chaise en chêne » ?" in asked.text
    assert (await FederatedExchange.get(id=exchange.id)).status == "pending"
    cancelled = await client.post(cancel, data={"csrf_token": csrf, "confirm": "1"})
    assert cancelled.status_code == 303
    assert (await FederatedExchange.get(id=exchange.id)).status == "cancelled"


async def test_one_search_shows_partners_here_and_on_other_servers_with_their_origin(
    client, make_org, org_a, staff_a, network
):
    from fabcom.inventory.services import create_item
    from fabcom.permissions import load_principal

    here = await make_org("atelier-local", name="Atelier du quartier")
    await Partnership.create(organization=here, partner=org_a, status=PartnershipStatus.ACCEPTED)
    await create_item(
        system_principal(),
        here.id,
        {"title": "Chaise pliante", "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "4"},
    )
    await signed_in(client, await load_principal(staff_a.user_id))
    page = await client.get(f"/o/{org_a.slug}/network", params={"q": "chaise"})
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert len(rows) == 2
    assert "Chaise en chêne" in rows[0]
    assert "Fablab Bellevue" in rows[0]
    assert '<span class="badge origin-remote">autre serveur</span><br><small>b.example</small>' in rows[0]
    assert "Mobilier" in rows[0]  # the mirrored item's category, named here
    assert "Chaise pliante" in rows[1]
    assert "Atelier du quartier" in rows[1]
    assert '<span class="badge origin-local">ce site</span>' in rows[1]
    assert 'action="/o/recyclerie-a/exchanges/new"' in rows[1]
    assert 'action="/o/recyclerie-a/network/request"' in rows[0]


async def test_a_non_partners_mirrored_item_cannot_be_requested_and_volunteers_cannot_ask(
    client, org_a, make_member, network
):
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    csrf = await signed_in(client, volunteer)
    foreign = await MirrorItem.get(title="Chaise de C")
    mine = await MirrorItem.get(title="Chaise en chêne")

    page = await client.get(f"/o/{org_a.slug}/network")
    assert "Chaise en chêne" in page.text
    assert 'name="mirror_item_id"' not in page.text  # volunteers see, staff ask
    for target in (foreign, mine):
        refused = await client.post(
            f"/o/{org_a.slug}/network/request",
            data={"mirror_item_id": str(target.id), "kind": "receive", "csrf_token": csrf},
        )
        assert refused.status_code == 403
    assert await FederatedExchange.all().count() == 0


async def test_graphql_network_items_searches_the_mirror_of_partners_only(
    client, org_a, staff_a, network, org_b, staff_b
):
    _token, secret = await create_api_token(
        system_principal(), staff_a.user_id, {"name": "t", "scopes": ["network:read"]}
    )
    query = """query($f: NetworkItemFilter) { networkItems(first: 10, filter: $f) {
        totalCount edges { node { title quantity unit sharingModes categoryCode organization { name } } } } }"""

    answer = await client.post(
        "/graphql",
        json={"query": query, "variables": {"f": {"search": "chaise"}}},
        headers={"Authorization": f"Bearer {secret}"},
    )
    data = answer.json()["data"]["networkItems"]
    assert data["totalCount"] == 1
    assert data["edges"][0]["node"] == {
        "title": "Chaise en chêne",
        "quantity": "3.000",
        "unit": "piece",
        "sharingModes": ["give"],
        "categoryCode": "C_15",
        "organization": {"name": "Fablab Bellevue"},
    }

    _token, other = await create_api_token(
        system_principal(), staff_b.user_id, {"name": "t", "scopes": ["network:read"]}
    )
    nothing = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {other}"})
    assert nothing.json()["data"]["networkItems"]["totalCount"] == 0
    anonymous = await client.post("/graphql", json={"query": query})
    assert anonymous.json()["data"]["networkItems"]["totalCount"] == 0


async def test_graphql_network_items_in_stock_leaves_out_what_a_partner_has_no_more_of(client, org_a, staff_a, network):
    await MirrorItem.filter(title="Perceuse").update(quantity=0)  # the partner lent its last one
    _token, secret = await create_api_token(
        system_principal(), staff_a.user_id, {"name": "t", "scopes": ["network:read"]}
    )
    query = "query($f: NetworkItemFilter) { networkItems(first: 10, filter: $f) { edges { node { title } } } }"

    async def titles(f: dict | None) -> list[str]:
        answer = await client.post(
            "/graphql", json={"query": query, "variables": {"f": f}}, headers={"Authorization": f"Bearer {secret}"}
        )
        return sorted(e["node"]["title"] for e in answer.json()["data"]["networkItems"]["edges"])

    assert await titles(None) == ["Chaise en chêne", "Perceuse"]  # as before: every shared item
    assert await titles({"inStock": True}) == ["Chaise en chêne"]
    assert await titles({"inStock": False}) == ["Perceuse"]


async def test_a_member_consents_and_withdraws_on_their_account_page(client, org_a, make_member):
    member = await make_member(org_a, role=Role.MEMBER)
    csrf = await signed_in(client, member)

    page = await client.get("/account/partners")
    assert "Laisser nos partenaires me reconnaître" in page.text
    given = await client.post(
        "/account/partners", data={"organization_id": str(org_a.id), "consent": "yes", "csrf_token": csrf}
    )
    assert given.status_code == 303
    assert await SharedProfile.filter(user_id=member.user_id).count() == 1
    assert "Nos partenaires peuvent me reconnaître" in (await client.get("/account/partners")).text

    await client.post("/account/partners", data={"organization_id": str(org_a.id), "consent": "no", "csrf_token": csrf})
    assert await SharedProfile.all().count() == 0
    assert [r.type for r in await OutboxActivity.all().order_by("id")] == ["Create", "Delete"]


async def test_the_json_ld_context_is_served(client):
    answer = await client.get("/ap/context.jsonld")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ld+json"
    assert answer.json() == vocab.CONTEXT_DOCUMENT


async def test_partners_projects_are_found_on_the_page_and_in_graphql(client, org_a, staff_a, staff_b, network):
    actor, base = "https://b.example/ap/o/b", "https://b.example"
    project = vocab.project_object(
        pk=4,
        actor=actor,
        title="Atelier vélo",
        summary="Réparer ensemble",
        description="",
        status="active",
        licence="CC-BY-SA-4.0",
        starts_on=None,
        ends_on=None,
        needs=[],
        audience=Audience.PARTNERS,
        published=T0,
        updated=T0,
        base=base,
    )
    activity = vocab.activity("Create", actor=actor, obj=project, audience=Audience.PARTNERS, published=T0, base=base)
    await dispatch(activity, Sender(actor_uri=actor, organization_id=network.id))
    await signed_in(client, staff_a)

    page = await client.get(f"/o/{org_a.slug}/network")
    assert "<strong>Atelier vélo</strong> — Fablab Bellevue" in page.text
    assert "Réparer ensemble" in page.text

    query = "{ networkProjects(first: 5) { totalCount edges { node { title summary status organization { name } } } } }"
    for principal, expected in ((staff_a, 1), (staff_b, 0)):
        _token, secret = await create_api_token(
            system_principal(), principal.user_id, {"name": "t", "scopes": ["network:read"]}
        )
        answer = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {secret}"})
        assert answer.json()["data"]["networkProjects"]["totalCount"] == expected
    assert answer.json()["data"]["networkProjects"]["edges"] == []


async def test_graphql_network_items_by_partner_slug_named_as_in_item_filter(client, org_a, staff_a, network):
    """``organizationSlug`` as ``ItemFilter`` names it; ``organization``, its former name,
    still answers the same (deprecated, not removed)."""
    _token, secret = await create_api_token(
        system_principal(), staff_a.user_id, {"name": "t", "scopes": ["network:read"]}
    )
    query = "query($f: NetworkItemFilter) { networkItems(first: 10, filter: $f) { edges { node { title organization { slug } } } } }"

    async def titles(f: dict | None) -> list[str]:
        answer = await client.post(
            "/graphql", json={"query": query, "variables": {"f": f}}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert "errors" not in answer.json(), answer.json()
        return sorted(e["node"]["title"] for e in answer.json()["data"]["networkItems"]["edges"])

    answer = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {secret}"})
    slug = answer.json()["data"]["networkItems"]["edges"][0]["node"]["organization"]["slug"]
    assert await titles({"organizationSlug": slug}) == await titles({"organization": slug}) != []
    assert await titles({"organizationSlug": "nobody-here"}) == []
    both = await client.post(
        "/graphql",
        json={"query": query, "variables": {"f": {"organizationSlug": slug, "organization": "another"}}},
        headers={"Authorization": f"Bearer {secret}", "Accept-Language": "fr"},
    )
    assert both.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "organizationSlug" in both.json()["errors"][0]["message"]


async def test_asking_a_partner_on_another_server_answers_on_its_row_and_keeps_the_search(
    client, org_a, staff_a, network
):
    csrf = await signed_in(client, staff_a)
    mirror = await MirrorItem.get(title="Chaise en chêne")
    foreign = await MirrorItem.get(title="Chaise de C")
    url = f"/o/{org_a.slug}/network/request"
    ask = {"mirror_item_id": str(mirror.id), "kind": "receive", "q": "chaise", "csrf_token": csrf}

    # too many: the error comes on that row, with what was typed, and nothing is sent
    refused = await client.post(url, data={**ask, "quantity": "9"}, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    assert refused.text.startswith(f'<tr id="net-item-remote-{mirror.id}">')
    assert "Chaise en chêne — Stock insuffisant" in refused.text
    assert 'value="9" inputmode="decimal" size="4" aria-invalid="true"' in refused.text
    assert '<input type="hidden" name="q" value="chaise">' in refused.text
    assert await FederatedExchange.all().count() == 0

    # granted: the same row says so, and offers no second request
    sent = await client.post(url, data={**ask, "quantity": "2"}, headers={"HX-Request": "true"})
    assert sent.status_code == 200
    assert "Chaise en chêne — Demande envoyée au partenaire." in sent.text
    assert "Déjà demandé" in sent.text
    assert 'name="mirror_item_id"' not in sent.text
    assert await FederatedExchange.all().count() == 1
    page = await client.get(f"/o/{org_a.slug}/network", params={"q": "chaise"})
    row = page.text.split(f'<tr id="net-item-remote-{mirror.id}">')[1].split("</tr>")[0]
    assert "Déjà demandé" in row
    assert "<form" not in row
    again = await client.post(url, data={**ask, "quantity": "1"}, headers={"HX-Request": "true"})
    assert again.status_code == 400
    assert "Votre structure a déjà demandé cet objet." in again.text
    assert await FederatedExchange.all().count() == 1

    # an item of a server that is no partner: its row says so, without naming it
    other = await client.post(
        url, data={**ask, "mirror_item_id": str(foreign.id), "quantity": "1"}, headers={"HX-Request": "true"}
    )
    assert other.status_code == 400
    assert f'<tr id="net-item-remote-{foreign.id}">' in other.text
    assert "Cet objet n’est plus partagé avec vous." in other.text
    assert "Chaise de C" not in other.text
    assert await FederatedExchange.all().count() == 1

    # without JavaScript, the same search comes back with the answer
    plain = await client.post(url, data={**ask, "quantity": "9"})
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/o/{org_a.slug}/network?q=chaise"
