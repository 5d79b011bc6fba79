"""A token without the scope a field needs is told so (``INSUFFICIENT_SCOPE``) instead of
being answered an empty list; public data needs no scope; sessions are never refused;
the refusal says nothing of the data (fabcom.gql.scopes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fabcom.auth.models import ApiToken, User
from fabcom.auth.services import create_api_token, open_session
from fabcom.gql.ids import decode_global_id, global_id
from fabcom.gql.mutations import Mutation
from fabcom.gql.schema import full_schema
from fabcom.gql.scopes import RequiresScope, node_scopes
from fabcom.inventory.models import Item, StockMovement
from fabcom.inventory.services import create_item
from fabcom.members.models import Membership, Role
from fabcom.network.models import ExchangeRequest, Partnership, PartnershipStatus
from fabcom.permissions import SCOPES, Principal, system_principal
from fabcom.projects.models import Project

# field -> (query, the scope it needs, its totalCount for an admin of recyclerie-a with every scope)
SCOPED_QUERIES: dict[str, tuple[str, str, int]] = {
    "members": ('{ members(organizationSlug: "recyclerie-a", first: 10) { totalCount } }', "members:read", 1),
    "stockMovements": (
        "query($item: ID!) { stockMovements(itemId: $item, first: 10) { totalCount } }",
        "inventory:read",
        1,
    ),
    "partnerships": ("{ partnerships(first: 10) { totalCount } }", "network:read", 1),
    "exchangeRequests": ("{ exchangeRequests(first: 10) { totalCount } }", "network:read", 0),
    "networkItems": ("{ networkItems(first: 10) { totalCount } }", "network:read", 0),
    "networkProjects": ("{ networkProjects(first: 10) { totalCount } }", "network:read", 0),
}

FRENCH = "Ce jeton n’a pas la portée « {scope} » nécessaire à {field}."
ENGLISH = "This token lacks the {scope} scope that {field} needs."


@pytest.fixture
async def admin_a(make_member, org_a, org_b) -> Principal:
    """An admin of recyclerie-a (every right there), partnered with fablab-b, whose
    organization holds a private item with one stock movement."""
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    admin = await make_member(org_a, role=Role.ADMIN)
    await create_item(admin, org_a.id, {"title": "Perceuse", "visibility": "private", "initial_quantity": Decimal(1)})
    await create_item(admin, org_a.id, {"title": "Chaise", "visibility": "public"})
    return admin


async def _token(principal: Principal, scopes: list[str], locale: str = "fr") -> str:
    await User.filter(id=principal.user_id).update(locale=locale)
    _token_row, secret = await create_api_token(system_principal(), principal.user_id, {"name": "t", "scopes": scopes})
    return secret


def _without(scope: str) -> list[str]:
    return [s for s in SCOPES if s != scope]


async def _variables() -> dict[str, Any]:
    item = await Item.get(title="Perceuse")
    return {"item": global_id("Item", item.id)}


@pytest.mark.parametrize("field", sorted(SCOPED_QUERIES))
@pytest.mark.parametrize(("locale", "template"), [("en", ENGLISH), ("fr", FRENCH)])
async def test_a_token_without_the_scope_is_told_which_scope_the_field_needs(api, admin_a, field, locale, template):
    query, scope, _count = SCOPED_QUERIES[field]
    token = await _token(admin_a, _without(scope), locale)

    answer = await api(query, await _variables() if "$item" in query else None, token=token)

    assert answer.status == 200
    assert answer.body["errors"] == [
        {
            "message": template.format(scope=scope, field=field),
            "locations": [{"line": 1, "column": answer.body["errors"][0]["locations"][0]["column"]}],
            "path": [field],
            "extensions": {"code": "INSUFFICIENT_SCOPE"},
        }
    ]
    assert answer.body["data"] is None  # the connection is non-null: the null reaches data


@pytest.mark.parametrize("field", sorted(SCOPED_QUERIES))
async def test_a_token_with_the_scope_gets_the_data(api, admin_a, field):
    query, scope, count = SCOPED_QUERIES[field]
    token = await _token(admin_a, [scope])

    answer = await api(query, await _variables() if "$item" in query else None, token=token)

    assert answer.data[field]["totalCount"] == count


@pytest.mark.parametrize("field", sorted(SCOPED_QUERIES))
async def test_a_session_is_never_refused_for_scopes(api, admin_a, field):
    query, _scope, count = SCOPED_QUERIES[field]
    _session, cookie = await open_session(await User.get(id=admin_a.user_id))

    answer = await api(query, await _variables() if "$item" in query else None, cookie=cookie)

    assert answer.data[field]["totalCount"] == count


@pytest.mark.parametrize("field", sorted(SCOPED_QUERIES))
async def test_anonymous_callers_still_get_empty_lists(api, admin_a, field):
    query, _scope, _count = SCOPED_QUERIES[field]

    answer = await api(query, await _variables() if "$item" in query else None)

    assert answer.data[field]["totalCount"] == 0


@pytest.mark.parametrize("field", sorted(SCOPED_QUERIES))
async def test_a_token_with_the_scope_but_no_role_gets_empty_lists_not_errors(
    api, admin_a, make_member, make_org, field
):
    query, scope, _count = SCOPED_QUERIES[field]
    outsider = await make_member(await make_org("ailleurs"), role=Role.OWNER)
    token = await _token(outsider, [scope])

    answer = await api(query, await _variables() if "$item" in query else None, token=token)

    assert answer.data[field]["totalCount"] == 0


async def test_the_refusal_is_the_same_for_an_existing_and_a_made_up_organization(api, admin_a):
    token = await _token(admin_a, ["inventory:read"], "en")
    query = "query($slug: String!) { members(organizationSlug: $slug, first: 10) { totalCount } }"

    existing = await api(query, {"slug": "recyclerie-a"}, token=token)
    made_up = await api(query, {"slug": "nulle-part-xyz"}, token=token)

    assert existing.body["errors"][0]["extensions"] == {"code": "INSUFFICIENT_SCOPE"}
    assert existing.body == made_up.body | {"extensions": existing.body["extensions"]}  # the rate budget moved on


async def test_a_token_with_no_scope_at_all_still_reads_public_data(api, admin_a):
    token = await _token(admin_a, ["org:admin"])
    await ApiToken.all().update(scopes=[])  # not offered any more, but older tokens may hold none
    public = await Item.get(title="Chaise")
    await Project.create(lead_organization_id=public.organization_id, title="Atelier vélo", visibility="public")

    answer = await api(
        "query($id: ID!) { items(first: 10) { edges { node { title } } } item(id: $id) { title }"
        " organizations(first: 10) { totalCount } projects(first: 10) { edges { node { title } } } }",
        {"id": global_id("Item", public.id)},
        token=token,
    )

    assert answer.data["items"]["edges"] == [{"node": {"title": "Chaise"}}]  # the private one is not listed
    assert answer.data["item"] == {"title": "Chaise"}
    assert answer.data["organizations"]["totalCount"] == 2
    assert answer.data["projects"]["edges"] == [{"node": {"title": "Atelier vélo"}}]


# mutation -> (its call, the scope it needs)
MUTATIONS: dict[str, tuple[str, str]] = {
    "itemCreate": ('itemCreate(input: {organizationSlug: $slug, title: "Table"})', "inventory:write"),
    "itemUpdate": ('itemUpdate(input: {id: $id, title: "Table"})', "inventory:write"),
    "itemDelete": ("itemDelete(input: {id: $id})", "inventory:write"),
    "stockMovementRecord": (
        'stockMovementRecord(input: {itemId: $id, kind: SALE, quantity: "1"})',
        "inventory:write",
    ),
    "projectCreate": ('projectCreate(input: {organizationSlug: $slug, title: "Atelier"})', "projects:write"),
    "projectUpdate": ('projectUpdate(input: {id: $id, title: "Atelier"})', "projects:write"),
    "taskCreate": ('taskCreate(input: {projectId: $id, title: "Scier"})', "projects:write"),
    "taskUpdate": ('taskUpdate(input: {id: $id, title: "Scier"})', "projects:write"),
    "membershipInvite": (
        'membershipInvite(input: {organizationSlug: $slug, email: "new@example.org"})',
        "members:write",
    ),
    "exchangeRequestCreate": (
        "exchangeRequestCreate(input: {itemId: $id, requesterOrganizationSlug: $slug, kind: RECEIVE})",
        "network:write",
    ),
    "exchangeRequestRespond": ("exchangeRequestRespond(input: {id: $id, action: ACCEPT})", "network:write"),
    "partnershipRequest": (
        'partnershipRequest(input: {organizationSlug: $slug, partnerSlug: "fablab-b"})',
        "network:write",
    ),
    "partnershipRespond": ("partnershipRespond(input: {id: $id, response: BLOCK})", "network:write"),
}


def _mutation(field: str) -> str:
    call = MUTATIONS[field][0]
    params = ", ".join(p for p, used in (("$slug: String!", "$slug" in call), ("$id: ID!", "$id" in call)) if used)
    return f"mutation({params}) {{ result: {call} {{ errors {{ code field message }} }} }}"


async def _rows() -> list[int]:
    return [
        await Item.all().count(),
        await StockMovement.all().count(),
        await Project.all().count(),
        await Partnership.all().count(),
        await ExchangeRequest.all().count(),
    ]


@pytest.mark.parametrize("field", sorted(MUTATIONS))
@pytest.mark.parametrize(("locale", "template"), [("en", ENGLISH), ("fr", FRENCH)])
async def test_a_mutation_without_its_scope_is_refused_in_its_payload(api, admin_a, field, locale, template):
    _call, scope = MUTATIONS[field]
    token = await _token(admin_a, _without(scope), locale)
    item = await Item.get(title="Perceuse")
    before = await _rows()

    answer = await api(_mutation(field), {"slug": "recyclerie-a", "id": global_id("Item", item.id)}, token=token)

    message = template.format(scope=scope, field=field)
    assert answer.data == {"result": {"errors": [{"code": "INSUFFICIENT_SCOPE", "field": None, "message": message}]}}
    assert await _rows() == before


@pytest.mark.parametrize("field", ["itemCreate", "membershipInvite", "partnershipRequest"])
async def test_a_mutation_refusal_is_the_same_for_an_existing_and_a_made_up_organization(api, admin_a, field):
    token = await _token(admin_a, ["inventory:read"])

    existing = await api(_mutation(field), {"slug": "recyclerie-a"}, token=token)
    made_up = await api(_mutation(field), {"slug": "nulle-part-xyz"}, token=token)

    assert existing.data["result"]["errors"][0]["code"] == "INSUFFICIENT_SCOPE"
    assert existing.data == made_up.data


async def test_a_mutation_with_its_scope_runs(api, admin_a):
    token = await _token(admin_a, ["inventory:write"], "en")

    answer = await api(_mutation("itemCreate"), {"slug": "recyclerie-a"}, token=token)

    assert answer.data == {"result": {"errors": []}}
    assert await Item.filter(title="Table").count() == 1


def test_every_mutation_of_the_core_declares_its_scope():
    declared = {
        field.graphql_name or field.python_name: [e.scope for e in field.extensions if isinstance(e, RequiresScope)]
        for field in Mutation.__strawberry_definition__.fields  # type: ignore[attr-defined]
    }
    assert {name: scopes for name, scopes in declared.items() if len(scopes) != 1} == {}


# --- node(id:) and nodes(ids:) ------------------------------------------------------------------

# Node type -> the scope its list asks, hence node(id:) too
NODE_SCOPES = {
    "Member": "members:read",
    "StockMovement": "inventory:read",
    "Partnership": "network:read",
    "ExchangeRequest": "network:read",
}
NODE = "query($id: ID!) { node(id: $id) { id } }"


async def _node_id(type_name: str, admin: Principal) -> str:
    """The global id of one object of ``type_name`` that ``admin`` (of recyclerie-a) may read."""
    if type_name == "Member":
        return global_id("Member", (await Membership.get(user_id=admin.user_id)).id)
    if type_name == "StockMovement":
        return global_id("StockMovement", (await StockMovement.get()).id)
    if type_name == "Partnership":
        return global_id("Partnership", (await Partnership.get()).id)
    chaise = await Item.get(title="Chaise")
    partnership = await Partnership.get()
    exchange = await ExchangeRequest.create(
        item=chaise,
        owner_organization_id=chaise.organization_id,
        requester_organization_id=partnership.partner_id,
        kind="receive",
    )
    return global_id("ExchangeRequest", exchange.id)


def _made_up(node_id: str) -> str:
    type_name, _pk = decode_global_id(node_id)
    return global_id(type_name, 99999)


def _without_cost(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "extensions"}  # the rate budget moves on


def test_every_scoped_node_type_is_tried_here():
    """node(id:) asks of each Node type the scope of its list: this table (and the
    bookings module's tests for BookingsBooking) covers each of them."""
    assert node_scopes(full_schema()._schema) == {
        **{type_name: (scope,) for type_name, scope in NODE_SCOPES.items()},
        "BookingsBooking": ("bookings:read",),
    }


@pytest.mark.parametrize("type_name", sorted(NODE_SCOPES))
@pytest.mark.parametrize(("locale", "template"), [("en", ENGLISH), ("fr", FRENCH)])
async def test_node_without_the_scope_is_refused_the_same_whether_the_object_exists_or_not(
    api, admin_a, type_name, locale, template
):
    scope = NODE_SCOPES[type_name]
    real = await _node_id(type_name, admin_a)
    token = await _token(admin_a, _without(scope), locale)

    existing = await api(NODE, {"id": real}, token=token)
    made_up = await api(NODE, {"id": _made_up(real)}, token=token)

    assert existing.status == made_up.status == 200
    assert _without_cost(existing.body) == _without_cost(made_up.body)
    assert [(e["message"], e["path"], e["extensions"]) for e in existing.body["errors"]] == [
        (template.format(scope=scope, field=type_name), ["node"], {"code": "INSUFFICIENT_SCOPE"})
    ]
    assert existing.body["data"] == {"node": None}


@pytest.mark.parametrize("type_name", sorted(NODE_SCOPES))
async def test_node_with_the_scope_or_a_session_answers_the_object(api, admin_a, type_name):
    real = await _node_id(type_name, admin_a)
    _session, cookie = await open_session(await User.get(id=admin_a.user_id))

    with_scope = await api(NODE, {"id": real}, token=await _token(admin_a, [NODE_SCOPES[type_name]]))
    by_session = await api(NODE, {"id": real}, cookie=cookie)

    assert with_scope.data == by_session.data == {"node": {"id": real}}


@pytest.mark.parametrize("type_name", sorted(NODE_SCOPES))
async def test_node_to_an_anonymous_caller_is_still_null_without_error(api, admin_a, type_name):
    answer = await api(NODE, {"id": await _node_id(type_name, admin_a)})

    assert answer.data == {"node": None}


async def test_nodes_refuses_each_object_without_its_scope_at_its_place(api, admin_a):
    chaise = global_id("Item", (await Item.get(title="Chaise")).id)
    member = await _node_id("Member", admin_a)
    ids = [chaise, member, _made_up(member), "nope"]
    token = await _token(admin_a, _without("members:read"), "en")

    answer = await api("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}, token=token)

    assert answer.body["data"] == {"nodes": [{"id": chaise}, None, None, None]}  # a malformed id stays a plain null
    assert [(e["path"], e["extensions"]["code"], e["message"]) for e in answer.body["errors"]] == [
        (["nodes", index], "INSUFFICIENT_SCOPE", ENGLISH.format(scope="members:read", field="Member"))
        for index in (1, 2)
    ]
