"""The contract partners code against: connections, search, filters, mutations and
their typed errors, the rate budget, and a fixed number of SQL queries per page."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest
from tortoise import connections

from fabcom.auth.models import User
from fabcom.gql.ids import decode_global_id, global_id
from fabcom.inventory.models import Attachment, Item, Location, StockMovement
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.network.models import ExchangeRequest, Partnership, PartnershipStatus

PAGE = "query($after: String) { items(first: 2, after: $after, orderBy: {field: TITLE}) { totalCount edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
BACK = "query($before: String) { items(last: 2, before: $before, orderBy: {field: TITLE}) { edges { node { title } } pageInfo { hasPreviousPage startCursor } } }"


async def test_paging_forward_and_backward_visits_every_item_once(api, org_a, staff_a):
    titles = ["Armoire", "Banc", "Chaise", "Desserte", "Étagère"]
    for title in reversed(titles):
        await create_item(staff_a, org_a.id, {"title": title, "visibility": "public"})
    seen, after = [], None
    while True:
        connection = (await api(PAGE, {"after": after})).data["items"]
        assert connection["totalCount"] == 5
        seen += [e["node"]["title"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == titles
    back, before = [], None
    while True:
        connection = (await api(BACK, {"before": before})).data["items"]
        back = [e["node"]["title"] for e in connection["edges"]] + back
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert back == titles


async def test_search_matches_title_description_and_category_on_both_databases(api, org_a, staff_a):
    await create_item(staff_a, org_a.id, {"title": "Chaise pliante", "visibility": "public"})
    await create_item(staff_a, org_a.id, {"title": "Lot", "description": "trois chaises", "visibility": "public"})
    await create_item(staff_a, org_a.id, {"title": "Vélo", "category_code": "C_15", "visibility": "public"})
    await create_item(staff_a, org_a.id, {"title": "Chaise secrète", "visibility": "private"})
    query = "query($q: String) { items(first: 10, filter: {search: $q}, orderBy: {field: TITLE}) { totalCount edges { node { title } } } }"

    async def titles(q: str) -> list[str]:
        return [e["node"]["title"] for e in (await api(query, {"q": q})).data["items"]["edges"]]

    assert await titles("chais") == ["Chaise pliante", "Lot"]
    assert await titles("CHAISE pliante") == ["Chaise pliante"]
    category = (
        await api('{ items(first: 1, filter: {search: "Vélo"}) { edges { node { category { labelFr } } } } }')
    ).data
    label = category["items"]["edges"][0]["node"]["category"]["labelFr"]
    assert await titles(label.split()[0]) == ["Vélo"]
    assert await titles("'; DROP TABLE fabcom_item; --") == []
    assert await titles('"chaise" OR *') == []
    # an edit is searchable at once (triggers keep the index in sync)
    lot = await Item.get(title="Lot")
    from fabcom.inventory.services import update_item

    await update_item(staff_a, lot.id, {"description": "une armoire"})
    assert await titles("armoire") == ["Lot"]
    assert await titles("chaises") == []


async def test_search_ignores_accents_on_both_databases(api, org_a, staff_a):
    """People type without accents (on a tablet especially): "velo" finds "Vélo"."""
    await create_item(staff_a, org_a.id, {"title": "Vélo de ville", "visibility": "public"})
    await create_item(
        staff_a, org_a.id, {"title": "Lot", "description": "Électroménager réparé", "visibility": "public"}
    )
    await create_item(staff_a, org_a.id, {"title": "Valise", "visibility": "public"})
    query = "query($q: String) { items(first: 10, filter: {search: $q}, orderBy: {field: TITLE}) { edges { node { title } } } }"

    async def titles(q: str) -> list[str]:
        return [e["node"]["title"] for e in (await api(query, {"q": q})).data["items"]["edges"]]

    assert await titles("velo") == ["Vélo de ville"]
    assert await titles("vélo") == ["Vélo de ville"]
    assert await titles("VÉLO") == ["Vélo de ville"]
    assert await titles("electromenager repare") == ["Lot"]
    assert await titles("vel") == ["Vélo de ville"]
    edited = await Item.get(title="Valise")
    from fabcom.inventory.services import update_item

    await update_item(staff_a, edited.id, {"title": "Fauteuil en velours côtelé"})
    assert await titles("cotele") == ["Fauteuil en velours côtelé"]


async def test_a_search_with_no_word_matches_nothing_and_a_blank_one_is_no_search(api, org_a, staff_a):
    """« ??? » asks for no word: nothing matches (it listed every item); spaces only are
    no search, like an empty text."""
    await create_item(staff_a, org_a.id, {"title": "Chaise", "visibility": "public"})
    await create_item(staff_a, org_a.id, {"title": "Table", "visibility": "public"})
    query = "query($q: String) { items(first: 10, filter: {search: $q}, orderBy: {field: TITLE}) { totalCount edges { node { title } } } }"

    async def found(q: str) -> tuple[int, list[str]]:
        items = (await api(query, {"q": q})).data["items"]
        return items["totalCount"], [e["node"]["title"] for e in items["edges"]]

    for punctuation in ("???", "-- !", "« » …", "*"):
        assert await found(punctuation) == (0, []), punctuation
    assert await found("") == (2, ["Chaise", "Table"])
    assert await found("   ") == (2, ["Chaise", "Table"])
    assert await found("chaise ?") == (1, ["Chaise"])  # the words typed count, the rest is ignored


def test_the_search_migration_folds_the_letters_the_search_folds():
    from importlib import import_module

    from fabcom.gql import search

    migration = import_module("fabcom.migrations.0015_search_accents")
    assert (migration.ACCENTED, migration.UNACCENTED) == (search.ACCENTED, search.UNACCENTED)


async def test_filters_combine(api, org_a, org_b, staff_a, staff_b):
    await create_item(staff_a, org_a.id, {"title": "A1", "visibility": "public", "sharing_modes": ["give"]})
    await create_item(
        staff_a, org_a.id, {"title": "A2", "visibility": "public", "sharing_modes": ["sell"], "status": "reserved"}
    )
    await create_item(staff_b, org_b.id, {"title": "B1", "visibility": "public", "sharing_modes": ["give", "lend"]})
    query = (
        "query($f: ItemFilter) { items(first: 10, filter: $f, orderBy: {field: TITLE}) { edges { node { title } } } }"
    )

    async def titles(f: dict) -> list[str]:
        return [e["node"]["title"] for e in (await api(query, {"f": f})).data["items"]["edges"]]

    assert await titles({"organizationSlug": "recyclerie-a"}) == ["A1", "A2"]
    assert await titles({"sharingMode": "GIVE"}) == ["A1", "B1"]
    assert await titles({"sharingMode": "GIVE", "organizationSlug": "fablab-b"}) == ["B1"]
    assert await titles({"status": "RESERVED"}) == ["A2"]
    assert await titles({"visibility": "PRIVATE"}) == []
    assert await titles({"categoryCode": "nope"}) == []


async def test_in_stock_narrows_the_items_to_those_with_stock_and_status_keeps_its_meaning(api, org_a, staff_a):
    """A partner's catalogue asks for ``status: AVAILABLE, inStock: true``; a sync tool that
    asks for ``status: AVAILABLE`` alone still gets every available item, empty ones too."""
    await create_item(staff_a, org_a.id, {"title": "Armoire", "visibility": "public", "initial_quantity": "1"})
    await create_item(staff_a, org_a.id, {"title": "Banc vendu", "visibility": "public"})
    await create_item(
        staff_a,
        org_a.id,
        {"title": "Chaise promise", "visibility": "public", "status": "reserved", "initial_quantity": "2"},
    )
    query = (
        "query($f: ItemFilter) { items(first: 10, filter: $f, orderBy: {field: TITLE}) { edges { node { title } } } }"
    )

    async def titles(f: dict) -> list[str]:
        return [e["node"]["title"] for e in (await api(query, {"f": f})).data["items"]["edges"]]

    assert await titles({"status": "AVAILABLE"}) == ["Armoire", "Banc vendu"]
    assert await titles({"status": "AVAILABLE", "inStock": True}) == ["Armoire"]
    assert await titles({"inStock": True}) == ["Armoire", "Chaise promise"]
    assert await titles({"inStock": False}) == ["Banc vendu"]
    assert await titles({"inStock": None}) == ["Armoire", "Banc vendu", "Chaise promise"]


async def test_item_create_returns_the_item_and_records_its_opening_stock(api, org_a, staff_a, token_for):
    token = await token_for(staff_a)
    answer = await api(
        """mutation { itemCreate(input: {organizationSlug: "recyclerie-a", title: "Chaise", categoryCode: "C_15",
           initialQuantity: "4", unitWeightKg: "4.5", visibility: PUBLIC, sharingModes: [GIVE]}) {
             item { title quantity unit visibility sharingModes category { code } organization { slug } }
             errors { field code message } } }""",
        token=token,
    )
    assert answer.data == {
        "itemCreate": {
            "item": {
                "title": "Chaise",
                "quantity": "4.000",
                "unit": "PIECE",
                "visibility": "PUBLIC",
                "sharingModes": ["GIVE"],
                "category": {"code": "C_15"},
                "organization": {"slug": "recyclerie-a"},
            },
            "errors": [],
        }
    }
    item = await Item.get(title="Chaise")
    assert await StockMovement.filter(item_id=item.id).values_list("kind", "quantity") == [("donation", Decimal(4))]


async def test_refused_mutations_explain_in_the_callers_language_and_change_nothing(api, org_a, staff_a, token_for):
    await User.filter(id=staff_a.user_id).update(locale="en")
    token = await token_for(staff_a)
    bad = """mutation { itemCreate(input: {organizationSlug: "recyclerie-a", title: "", categoryCode: "nope"}) {
               item { title } errors { field code message } } }"""
    answer = await api(bad, token=token)
    assert answer.data == {
        "itemCreate": {
            "item": None,
            "errors": [{"field": "title", "code": "REQUIRED", "message": "This field is required."}],
        }
    }
    await User.filter(id=staff_a.user_id).update(locale="fr")
    token_fr = await token_for(staff_a)
    answer = await api(bad, token=token_fr)
    assert answer.data["itemCreate"]["errors"] == [
        {"field": "title", "code": "REQUIRED", "message": "Ce champ est obligatoire."}
    ]
    # a program that names its language in Accept-Language gets it, whatever its account's
    asked = await api(bad, token=token_fr, locale="en-GB,en;q=0.8")
    assert asked.data["itemCreate"]["errors"][0]["message"] == "This field is required."
    unspoken = await api(bad, token=token_fr, locale="de")
    assert unspoken.data["itemCreate"]["errors"][0]["message"] == "Ce champ est obligatoire."
    assert await Item.all().count() == 0


async def test_stock_cannot_go_negative_through_the_api(api, org_a, staff_a, token_for):
    item = await create_item(staff_a, org_a.id, {"title": "Vélo", "initial_quantity": "1"})
    answer = await api(
        'mutation($id: ID!) { stockMovementRecord(input: {itemId: $id, kind: SALE, quantity: "2"}) { stockMovement { quantity } item { quantity } errors { field code } } }',
        {"id": global_id("Item", item.id)},
        token=await token_for(staff_a),
    )
    assert answer.data == {
        "stockMovementRecord": {
            "stockMovement": None,
            "item": None,
            "errors": [{"field": "quantity", "code": "INSUFFICIENT_STOCK"}],
        }
    }
    assert (await Item.get(id=item.id)).quantity == Decimal(1)
    assert await StockMovement.filter(item_id=item.id).count() == 1


async def test_a_partner_requests_an_item_and_the_owner_accepts(api, org_a, org_b, staff_a, staff_b, token_for):
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    staff_b_token = await token_for(staff_b)
    staff_a_token = await token_for(staff_a)
    item = await create_item(
        staff_a,
        org_a.id,
        {"title": "Perceuse", "visibility": "partners", "sharing_modes": ["lend"], "initial_quantity": "1"},
    )
    created = await api(
        'mutation($id: ID!) { exchangeRequestCreate(input: {itemId: $id, requesterOrganizationSlug: "fablab-b", kind: BORROW}) { exchangeRequest { id status item { title } } errors { code } } }',
        {"id": global_id("Item", item.id)},
        token=staff_b_token,
    )
    request = created.data["exchangeRequestCreate"]["exchangeRequest"]
    assert request["status"] == "PENDING"
    assert request["item"] == {"title": "Perceuse"}
    refused = await api(
        "mutation($id: ID!) { exchangeRequestRespond(input: {id: $id, action: ACCEPT}) { exchangeRequest { status } errors { code } } }",
        {"id": request["id"]},
        token=staff_b_token,
    )
    assert refused.data == {
        "exchangeRequestRespond": {"exchangeRequest": None, "errors": [{"code": "PERMISSION_DENIED"}]}
    }
    accepted = await api(
        "mutation($id: ID!) { exchangeRequestRespond(input: {id: $id, action: ACCEPT}) { exchangeRequest { status } errors { code } } }",
        {"id": request["id"]},
        token=staff_a_token,
    )
    assert accepted.data == {"exchangeRequestRespond": {"exchangeRequest": {"status": "ACCEPTED"}, "errors": []}}
    listed = await api("{ exchangeRequests(first: 5) { totalCount edges { node { status } } } }", token=staff_b_token)
    assert listed.data["exchangeRequests"]["totalCount"] == 1
    assert await ExchangeRequest.all().count() == 1


async def test_partnership_request_and_response(api, org_a, org_b, make_member, token_for):
    owner_a = await make_member(org_a, role=Role.OWNER)
    owner_b = await make_member(org_b, role=Role.OWNER)
    asked = await api(
        'mutation { partnershipRequest(input: {organizationSlug: "recyclerie-a", partnerSlug: "fablab-b"}) { partnership { id status partner { slug } } errors { code } } }',
        token=await token_for(owner_a),
    )
    link = asked.data["partnershipRequest"]["partnership"]
    assert link["status"] == "REQUESTED"
    answered = await api(
        "mutation($id: ID!) { partnershipRespond(input: {id: $id, response: ACCEPT}) { partnership { status } errors { code } } }",
        {"id": link["id"]},
        token=await token_for(owner_b),
    )
    assert answered.data == {"partnershipRespond": {"partnership": {"status": "ACCEPTED"}, "errors": []}}


async def test_projects_and_tasks(api, org_a, staff_a, token_for):
    token = await token_for(staff_a)
    created = await api(
        'mutation { projectCreate(input: {organizationSlug: "recyclerie-a", title: "Atelier vélo", visibility: PUBLIC}) { project { id title } errors { code } } }',
        token=token,
    )
    project_id = created.data["projectCreate"]["project"]["id"]
    backwards = await api(
        'mutation { projectCreate(input: {organizationSlug: "recyclerie-a", title: "Hier", startsOn: "2026-06-01", endsOn: "2026-05-01"}) { project { id } errors { field code } } }',
        token=token,
    )
    assert backwards.data["projectCreate"] == {"project": None, "errors": [{"field": "endsOn", "code": "INVALID"}]}
    task = await api(
        'mutation($p: ID!) { taskCreate(input: {projectId: $p, title: "Trier"}) { task { id status } errors { code } } }',
        {"p": project_id},
        token=token,
    )
    task_id = task.data["taskCreate"]["task"]["id"]
    await api(
        "mutation($t: ID!) { taskUpdate(input: {id: $t, status: DONE}) { task { status } errors { code } } }",
        {"t": task_id},
        token=token,
    )
    read = await api(
        "query($p: ID!) { project(id: $p) { title uri tasks(first: 10) { totalCount edges { node { title status } } } } }",
        {"p": project_id},
    )
    assert read.data["project"]["tasks"] == {"totalCount": 1, "edges": [{"node": {"title": "Trier", "status": "DONE"}}]}
    assert (
        read.data["project"]["uri"]
        == f"http://127.0.0.1:8000/o/recyclerie-a/projects/{decode_global_id(project_id)[1]}"
    )


async def test_membership_invite_e_mails_an_invitation_to_an_unknown_address(api, org_a, org_b, make_member, token_for):
    from fabcom.jobs.models import Job
    from fabcom.members.models import Invitation

    admin = await make_member(org_a, role=Role.ADMIN)
    mutation = (
        "mutation($e: String!, $o: String!) { membershipInvite(input: {organizationSlug: $o, email: $e, role: STAFF}) "
        "{ member { email } invitation { email role expiresAt } errors { field code } } }"
    )
    answer = await api(mutation, {"e": "New@Example.org", "o": "recyclerie-a"}, token=await token_for(admin))
    payload = answer.data["membershipInvite"]
    assert payload["member"] is None
    assert payload["errors"] == []
    assert (payload["invitation"]["email"], payload["invitation"]["role"]) == ("new@example.org", "STAFF")
    assert await Invitation.filter(organization_id=org_a.id, email="new@example.org").count() == 1
    assert await Job.filter(name="send_invitation").count() == 1

    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    admin_b = await make_member(org_b, role=Role.ADMIN)
    for intruder in (volunteer, admin_b):
        refused = await api(mutation, {"e": "other@example.org", "o": "recyclerie-a"}, token=await token_for(intruder))
        assert refused.data["membershipInvite"]["invitation"] is None
        assert refused.data["membershipInvite"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert await Invitation.filter(email="other@example.org").count() == 0


async def test_rate_budget_headers_cost_and_429(api, db, org_a, staff_a, token_for, monkeypatch):
    monkeypatch.setattr(db, "api_rate_limit", 3)
    token = await token_for(staff_a)
    first = await api("{ items(first: 100) { totalCount } }", token=token)
    assert first.body["extensions"]["cost"]["requestedQueryCost"] == 1
    assert first.headers["x-ratelimit-limit"] == "3"
    assert first.headers["x-ratelimit-remaining"] == "2"
    mutation = 'mutation { itemCreate(input: {organizationSlug: "recyclerie-a", title: "X"}) { errors { code } } }'
    over = await api(mutation, token=token)  # costs 1 + 5
    assert over.status == 429
    assert over.error_codes == ["RATE_LIMITED"]
    assert int(over.headers["retry-after"]) > 0
    assert over.headers["x-ratelimit-remaining"] == "0"
    assert await Item.all().count() == 0


@pytest.mark.parametrize("size", [10, 100])
async def test_a_page_costs_the_same_number_of_queries_whatever_its_size(api, org_a, staff_a, size, monkeypatch):
    location = await Location.create(organization=org_a, name="Réserve")
    items = await Item.bulk_create(
        [
            Item(organization=org_a, title=f"Objet {n}", visibility="public", location=location, category_id=1)
            for n in range(100)
        ]
    )
    items = await Item.all()
    await Attachment.bulk_create(
        [
            Attachment(
                organization=org_a,
                item=item,
                original_name="p.jpg",
                stored_name=f"{item.id}.jpg",
                content_type="image/jpeg",
                size=1,
                sha256="0" * 64,
            )
            for item in items
        ]
    )
    conn = connections.get("default")
    statements: list[str] = []
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_many", "execute_script"):
        original = getattr(conn, name)

        def counted(sql, *args, _original=original, **kwargs):
            statements.append(sql)
            return _original(sql, *args, **kwargs)

        monkeypatch.setattr(conn, name, counted)
    answer = await api(
        "query($n: Int) { items(first: $n) { totalCount edges { node { title uri organization { name } category { code } location { name } photos { url } } } } }",
        {"n": size},
    )
    edges = answer.data["items"]["edges"]
    assert len(edges) == size
    assert all(len(e["node"]["photos"]) == 1 and e["node"]["location"] == {"name": "Réserve"} for e in edges)
    # the rate budget, the count, the page with its to-one relations, the photos
    assert len(statements) == 4, statements
    statements.clear()
    without_total = await api(
        "query($n: Int) { items(first: $n) { edges { node { title photos { url } } } } }", {"n": size}
    )
    assert len(without_total.data["items"]["edges"]) == size
    assert len(statements) == 3, statements  # no COUNT(*) when totalCount is not asked for


async def test_the_rate_budget_lives_in_redis_when_configured(api_settings, staff_a):
    from fabcom.gql.ratelimit import charge
    from fabcom.testing.services import REDIS_ENV, require

    url = require(REDIS_ENV, "Redis").rsplit("/", 1)[0] + "/13"  # DB 13: the API's tests only
    settings = api_settings.model_copy(update={"redis_url": url, "api_rate_limit": 10})
    key = f"token:test-{secrets.token_hex(8)}"  # a fresh key: runs never share a count
    first = await charge(settings, key, True, 4, now=1_000_000.0)
    second = await charge(settings, key, True, 7, now=1_000_010.0)
    next_hour = await charge(settings, key, True, 1, now=1_003_700.0)
    assert (first.used, first.remaining, first.exceeded) == (4, 6, False)
    assert (second.used, second.remaining, second.exceeded) == (11, 0, True)
    assert (next_hour.used, next_hour.reset_at) == (1, 1_004_400)


def test_the_mirror_migration_folds_as_the_network_search_does():
    from importlib import import_module

    from fabcom.i18n import fold

    migration = import_module("fabcom.migrations.0016_mirror_search_fold")
    for text in ["Théière ÉMAILLÉE", "Œuvre à Noël", "Straße", "Ёлка", "ﬁn"]:
        assert migration._fold(text) == fold(text), text
