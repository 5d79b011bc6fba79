"""Hostile requests are refused before any resolver runs, with a clean error."""

from __future__ import annotations

import pytest

from fabcom.gql.limits import MAX_ALIASES, MAX_DEPTH
from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item


def nested(depth: int) -> str:
    """A query ``depth`` fields deep: organization > items > edges > node > organization > …"""
    cycle = ["items(first: 1)", "edges", "node", "organization"]
    containers = ['organization(slug: "recyclerie-a")'] + [cycle[n % 4] for n in range(depth - 2)]
    leaf = {"items": "totalCount", "edges": "cursor", "node": "title", "organization": "slug"}
    last = containers[-1].split("(")[0]
    return "{ " + " { ".join(containers) + " { " + leaf[last] + " }" * len(containers) + " }"


async def test_depth_10_passes_and_11_is_refused(api, staff_a, org_a):
    await create_item(staff_a, org_a.id, {"title": "Chaise", "visibility": "public"})
    assert "errors" not in (await api(nested(MAX_DEPTH))).body
    answer = await api(nested(MAX_DEPTH + 1), locale="en")
    assert answer.body == {
        "errors": [{"message": "Queries may nest at most 10 levels.", "extensions": {"code": "MAX_DEPTH"}}]
    }


async def test_aliases_are_counted_through_fragments(api, db):
    fifteen = " ".join(f"a{n}: me {{ email }}" for n in range(MAX_ALIASES))
    assert "errors" not in (await api("{ " + fifteen + " }")).body
    # 8 aliases in a fragment spread twice: 16
    fragment = " ".join(f"b{n}: me {{ email }}" for n in range(8))
    answer = await api("query { ...F ...F } fragment F on Query { " + fragment + " }")
    assert answer.error_codes == ["MAX_ALIASES"]
    assert "data" not in answer.body
    twenty = " ".join(f"c{n}: me {{ email }}" for n in range(20))
    assert (await api("{ " + twenty + " }")).error_codes == ["MAX_ALIASES"]  # said once


async def test_more_than_2000_tokens_is_refused_by_the_parser(api, db):
    answer = await api("{ " + "__typename " * 2100 + "}", locale="en")
    assert answer.status == 200
    assert answer.error_codes == ["MAX_TOKENS"]
    assert answer.body["errors"][0]["message"] == "Queries may hold at most 2,000 tokens."
    # a mistake that merely mentions "tokens" is told as the syntax error it is
    mistake = await api('{ "tokens" }', locale="en")
    assert mistake.error_codes == ["GRAPHQL_PARSE_FAILED"]
    assert mistake.body["errors"][0]["message"] == (
        "The query is not valid GraphQL at line 1, column 3: Expected Name, found String 'tokens'."
    )
    assert mistake.body["errors"][0]["locations"] == [{"line": 1, "column": 3}]


async def test_a_syntax_error_says_where_in_the_callers_language(api, db):
    answer = await api("{\n  items(first: 5) {\n    edges { node { title }\n}", locale="fr")
    assert answer.error_codes == ["GRAPHQL_PARSE_FAILED"]
    error = answer.body["errors"][0]
    assert error["message"] == (
        "La requête n’est pas du GraphQL valide, ligne 4, colonne 2 : Expected Name, found <EOF>."
    )
    assert error["locations"] == [{"line": 4, "column": 2}]
    assert "data" not in answer.body


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ("", "PAGINATION_REQUIRED"),
        ("first: 0", "PAGINATION_INVALID"),
        ("first: 101", "PAGINATION_INVALID"),
        ("last: -1", "PAGINATION_INVALID"),
        ("first: 1, last: 1", "PAGINATION_INVALID"),
    ],
)
async def test_connections_need_first_or_last_within_1_to_100(api, db, arguments, code):
    query = "{ items" + (f"({arguments})" if arguments else "") + " { totalCount } }"
    answer = await api(query)
    assert answer.error_codes == [code]
    assert "data" not in answer.body


async def test_page_sizes_given_as_variables_are_checked_too(api, db):
    answer = await api("query($n: Int) { items(first: $n) { totalCount } }", {"n": 500})
    assert answer.error_codes == ["PAGINATION_INVALID"]


async def test_estimated_node_count_over_10000_is_refused(api, db):
    # 100 organizations x 100 items = 10,100 nodes with the organizations themselves
    query = "{ organizations(first: 100) { edges { node { items(first: 100) { totalCount } } } } }"
    answer = await api(query, locale="en")
    assert answer.body == {
        "errors": [
            {
                "message": "This query could return more than 10,000 nodes: ask for smaller pages.",
                "extensions": {"code": "MAX_NODE_LIMIT"},
            }
        ]
    }
    fine = "{ organizations(first: 99) { edges { node { items(first: 100) { totalCount } } } } }"
    assert "errors" not in (await api(fine)).body


async def test_input_lists_over_250_values_are_refused(api, db):
    ids = ["SXRlbTox"] * 251
    answer = await api("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert answer.error_codes == ["INPUT_LIST_TOO_LONG"]
    literal = "[" + ", ".join('"SXRlbTox"' for _ in range(251)) + "]"
    answer = await api("{ nodes(ids: " + literal + ") { id } }")
    assert answer.error_codes[0] in ("INPUT_LIST_TOO_LONG", "MAX_TOKENS")


async def test_batched_queries_are_refused(client, db):
    response = await client.post(
        "/graphql", json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}], headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "Batched queries are not supported: send one operation per request.",
                "extensions": {"code": "BATCHING_DISABLED"},
            }
        ]
    }


async def test_get_never_runs_a_mutation(client, org_a, staff_a, token_for):
    item = await create_item(staff_a, org_a.id, {"title": "Chaise"})
    token = await token_for(staff_a)
    mutation = 'mutation { itemDelete(input: {id: "SXRlbTox"}) { deletedId } }'.replace(
        "SXRlbTox", __import__("fabcom.gql.ids", fromlist=["global_id"]).global_id("Item", item.id)
    )
    response = await client.get("/graphql", params={"query": mutation}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert (await Item.get(id=item.id)).deleted_at is None
    # a query by GET works
    response = await client.get("/graphql", params={"query": "{ __typename }"})
    assert response.json()["data"] == {"__typename": "Query"}


async def test_form_posts_are_refused_so_cookies_cannot_be_ridden_cross_site(client, db, staff_a, token_for, login):
    # without a session there is no cookie to ride: the program is told what to send
    response = await client.post("/graphql", content="query={ __typename }", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    # a cross-site form riding a session cookie (text/plain, no CSRF token) is stopped before GraphQL runs
    await login(client, staff_a)
    response = await client.post("/graphql", content="query={ __typename }", headers={"Content-Type": "text/plain"})
    assert response.status_code == 403
    client.cookies.clear()
    # a partner's script with a token but the wrong content type is told what to send
    token = await token_for(staff_a)
    response = await client.post(
        "/graphql",
        content="query={ __typename }",
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 415


async def test_introspection_is_for_authenticated_callers(api, staff_a, token_for):
    query = "{ __schema { queryType { name } } }"
    anonymous = await api(query)
    assert anonymous.error_codes == ["INTROSPECTION_DISABLED"]
    authenticated = await api(query, token=await token_for(staff_a))
    assert authenticated.data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_recursive_introspection_is_refused(api, staff_a, token_for):
    query = "{ __schema { types { fields { type { fields { name } } } } } }"
    answer = await api(query, token=await token_for(staff_a))
    assert answer.error_codes == ["MAX_DEPTH"]


async def test_graphiqls_own_introspection_query_passes(api, staff_a, token_for):
    from graphql import get_introspection_query

    answer = await api(get_introspection_query(descriptions=True), token=await token_for(staff_a))
    assert answer.data["__schema"]["queryType"]["name"] == "Query"


async def test_field_suggestions_are_hidden_from_anonymous_callers(api, staff_a, token_for):
    anonymous = await api("{ itemz(first: 1) { totalCount } }")
    assert anonymous.body["errors"][0]["message"] == "Cannot query field 'itemz' on type 'Query'."
    known = await api("{ itemz(first: 1) { totalCount } }", token=await token_for(staff_a))
    assert "Did you mean" in known.body["errors"][0]["message"]


async def test_a_bad_token_is_401_not_anonymous(client, db):
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer fabcom_pat_nope"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("bad", ["nope", "SXRlbTo=", "SXRlbTphYmM=", "!!!", "Tm9wZTox"])
async def test_malformed_ids_are_clean_errors_or_null(api, db, bad):
    answer = await api("query($id: ID!) { node(id: $id) { id } }", {"id": bad}, locale="en")
    assert answer.status == 200
    if "errors" in answer.body:
        assert answer.error_codes == ["BAD_USER_INPUT"]
        assert answer.body["errors"][0]["message"].startswith("Invalid ID")
        assert answer.body["data"] == {"node": None}
    else:  # well-formed ID of a type that does not exist ("Nope:1")
        assert answer.body["data"] == {"node": None}


@pytest.mark.parametrize("cursor", ["nope", "WzEsMV0x", "WyJ4IiwtMV0", "e30", "W251bGwsMV0"])
async def test_malformed_cursors_are_clean_errors(api, db, cursor):
    answer = await api("query($c: String) { items(first: 5, after: $c) { totalCount } }", {"c": cursor}, locale="en")
    assert answer.status == 200
    assert answer.error_codes == ["BAD_USER_INPUT"]
    assert answer.body["errors"][0]["message"].startswith("Invalid cursor")
    assert answer.body["data"] is None


async def test_unexpected_errors_are_masked(api, db, monkeypatch):
    from fabcom.gql import loaders

    def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM /etc/passwd")

    monkeypatch.setattr(loaders, "items_queryset", broken)
    answer = await api("{ items(first: 1) { totalCount } }", locale="en")
    assert answer.body["errors"] == [
        {"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}, "path": ["items"]}
    ]
    assert "passwd" not in str(answer.body)


async def test_an_overlong_or_nul_slug_is_unknown_not_a_server_error(api, staff_a, token_for):
    token = await token_for(staff_a)
    for slug in ("x" * 210, "a\u0000b"):
        answer = await api("query($s: String!) { organization(slug: $s) { name } }", {"s": slug}, token=token)
        assert answer.body == {"data": {"organization": None}, "extensions": answer.body["extensions"]}
        listed = await api(
            "query($s: String!) { items(first: 5, filter: {organizationSlug: $s}) { totalCount } }",
            {"s": slug},
            token=token,
        )
        assert listed.body["data"] == {"items": {"totalCount": 0}}


async def test_a_wrongly_typed_page_size_is_told_as_a_type_error_not_a_limit(api, db):
    literal = await api('{ items(first: "two") { totalCount } }', locale="en")
    assert literal.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Int cannot represent non-integer value" in literal.body["errors"][0]["message"]
    typed = "query ($f: Int!) { items(first: $f) { totalCount } }"
    wrong = await api(typed, {"f": "two"}, locale="en")
    assert wrong.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Variable '$f' has invalid value: Int cannot represent" in wrong.body["errors"][0]["message"]
    missing = await api(typed, locale="en")
    assert "Expected a value of non-null type 'Int!' to be provided." in missing.body["errors"][0]["message"]
    # a variable's default counts as given
    assert "errors" not in (await api("query ($f: Int = 5) { items(first: $f) { totalCount } }")).body


async def test_a_query_the_schema_refuses_costs_nothing(api, db, staff_a, token_for, monkeypatch):
    monkeypatch.setattr(db, "api_rate_limit", 10)
    token = await token_for(staff_a)
    assert (await api("{ items(first: 5) { totalCount } }", token=token)).headers["x-ratelimit-remaining"] == "9"
    for refused in ("{ items(first: 5) { edges { node { idd } } } }", '{ items(first: "5") { totalCount } }'):
        answer = await api(refused, token=token)
        assert answer.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
        assert "extensions" not in answer.body
        assert "x-ratelimit-remaining" not in answer.headers
    assert (await api("{ items(first: 5) { totalCount } }", token=token)).headers["x-ratelimit-remaining"] == "8"
