"""A token without the scope a field needs is told so (``INSUFFICIENT_SCOPE``) instead of
being answered an empty list; public data needs no scope; sessions are never refused;
the refusal says nothing of the data (fabcom.gql.scopes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fabcom.auth.models import ApiToken, User
from fabcom.auth.services import create_api_token, open_session
from fabcom.gql.ids import global_id
from fabcom.gql.mutations import Mutation
from fabcom.gql.scopes import RequiresScope
from fabcom.inventory.models import Item, StockMovement
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
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
