"""Messages that no resolver writes — limits, malformed IDs and cursors, a bad token, a
malformed request — are answered in the caller's language like the resolvers' own: the
token's account's, else ``Accept-Language``'s. Their ``extensions.code`` never changes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fabcom.auth.models import User

NNBSP = "\u202f"  # French thousands separator
DEEP = (
    "{ organizations(first: 1) { edges { node { items(first: 1) { edges { node { organization {"
    " items(first: 1) { edges { node { title } } } } } } } } } } }"
)

# name -> (query, variables, code, English, French)
LIMITS: dict[str, tuple[str, dict[str, Any] | None, str, str, str]] = {
    "depth": (
        DEEP,
        None,
        "MAX_DEPTH",
        "Queries may nest at most 10 levels.",
        "Une requête s’imbrique sur 10 niveaux au plus.",
    ),
    "aliases": (
        "{ " + " ".join(f"a{n}: __typename" for n in range(16)) + " }",
        None,
        "MAX_ALIASES",
        "Queries may use at most 15 aliases.",
        "Une requête utilise au plus 15 alias.",
    ),
    "tokens": (
        "{ " + "__typename " * 2100 + "}",
        None,
        "MAX_TOKENS",
        "Queries may hold at most 2,000 tokens.",
        f"Une requête contient au plus 2{NNBSP}000 lexèmes.",
    ),
    "nodes": (
        "{ organizations(first: 100) { edges { node { items(first: 100) { totalCount } } } } }",
        None,
        "MAX_NODE_LIMIT",
        "This query could return more than 10,000 nodes: ask for smaller pages.",
        f"Cette requête pourrait renvoyer plus de 10{NNBSP}000 nœuds : demandez des pages plus petites.",
    ),
    "pagination": (
        "{ items { totalCount } }",
        None,
        "PAGINATION_REQUIRED",
        "You must provide `first` or `last` to paginate the `items` connection.",
        "Donnez `first` ou `last` pour paginer la connexion `items`.",
    ),
    "input list": (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": ["SXRlbTox"] * 251},
        "INPUT_LIST_TOO_LONG",
        "Input lists hold at most 250 values.",
        "Une liste en entrée contient au plus 250 valeurs.",
    ),
}


@pytest.mark.parametrize("limit", sorted(LIMITS))
@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_limit_is_told_in_the_language_asked(api, db, limit, locale):
    query, variables, code, english, french = LIMITS[limit]

    answer = await api(query, variables, locale=locale)

    assert answer.status == 200
    assert answer.body == {"errors": [{"message": english if locale == "en" else french, "extensions": {"code": code}}]}


# name -> (query, variables, English, French): answered with data, the error at its field
MALFORMED = {
    "id": (
        'query { node(id: "nope") { id } }',
        {"node": None},
        "Invalid ID: 'nope'.",
        "Identifiant invalide : 'nope'.",
    ),
    "cursor": (
        'query { items(first: 5, after: "nope") { totalCount } }',
        None,
        "Invalid cursor: 'nope'. A cursor works only with the orderBy of the page that gave it.",
        "Curseur invalide : 'nope'. Un curseur ne vaut que pour l’orderBy de la page qui l’a donné.",
    ),
}


@pytest.mark.parametrize("what", sorted(MALFORMED))
@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_malformed_id_or_cursor_is_told_in_the_language_asked(api, db, what, locale):
    query, data, english, french = MALFORMED[what]

    answer = await api(query, locale=locale)

    assert answer.status == 200
    assert [(e["message"], e["extensions"]) for e in answer.body["errors"]] == [
        (english if locale == "en" else french, {"code": "BAD_USER_INPUT"})
    ]
    assert answer.body["data"] == data


@pytest.mark.parametrize(
    ("locale", "message"),
    [("en", "The token is invalid, expired or revoked."), ("fr", "Le jeton est invalide, expiré ou révoqué.")],
)
async def test_a_bad_token_is_told_in_the_language_asked(client, db, locale, message):
    response = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": "Bearer fabcom_pat_nope", "Accept-Language": locale},
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}


async def test_a_token_sent_with_another_scheme_is_told_how_to_send_it(client, staff_a, token_for):
    token = await token_for(staff_a)
    response = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": f"Token {token}", "Accept-Language": "en"},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Send the token as `Authorization: Bearer <token>`."


async def test_an_anonymous_program_posting_another_type_is_told_to_send_json(client, db):
    """Not « this form has expired »: a program without a session has no cookie to protect."""
    for headers, body in (({"Content-Type": "text/plain"}, "{ __typename }"), ({}, {"query": "{ __typename }"})):
        sent = {"content": body} if isinstance(body, str) else {"data": body}
        response = await client.post("/graphql", headers={**headers, "Accept-Language": "en"}, **sent)
        assert response.status_code == 415
        assert response.json() == {
            "errors": [{"message": "Send the operation as application/json.", "extensions": {"code": "BAD_REQUEST"}}]
        }


# name -> (request, status, code, English, French)
REQUESTS: dict[str, tuple[dict[str, Any], int, str, str, str]] = {
    "not JSON": (
        {"content": b"{nope", "headers": {"Content-Type": "application/json"}},
        400,
        "BAD_REQUEST",
        "The body is not valid JSON.",
        "Le corps de la requête n’est pas du JSON valide.",
    ),
    "anonymous mutation": (
        {"json": {"query": 'mutation { itemDelete(input: {id: "SXRlbTox"}) { errors { code } } }'}},
        401,
        "UNAUTHENTICATED",
        "Authentication required: send a token.",
        "Authentification requise : envoyez un jeton.",
    ),
    "unknown operation": (
        {"json": {"query": "query A { __typename }", "operationName": "B"}},
        200,
        "GRAPHQL_VALIDATION_FAILED",
        "Unknown operation named 'B'.",
        "Aucune opération ne s’appelle 'B'.",
    ),
    "anonymous introspection": (
        {"json": {"query": "{ __schema { queryType { name } } }"}},
        200,
        "INTROSPECTION_DISABLED",
        "Introspection needs authentication: send a token.",
        "L’introspection demande d’être authentifié·e : envoyez un jeton.",
    ),
}


@pytest.mark.parametrize("request_", sorted(REQUESTS))
@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_refused_request_is_told_in_the_language_asked(client, db, request_, locale):
    arguments, status, code, english, french = REQUESTS[request_]
    headers = {**arguments.get("headers", {}), "Accept-Language": locale}

    response = await client.post("/graphql", **{**arguments, "headers": headers})

    assert response.status_code == status
    assert response.json()["errors"] == [
        {"message": english if locale == "en" else french, "extensions": {"code": code}}
    ]


@pytest.mark.parametrize(
    ("locale", "message"),
    [("en", "Send the operation as application/json."), ("fr", "Envoyez l’opération en application/json.")],
)
async def test_a_wrong_content_type_is_told_in_the_tokens_language(client, staff_a, token_for, locale, message):
    await User.filter(id=staff_a.user_id).update(locale=locale)
    token = await token_for(staff_a)

    response = await client.post(
        "/graphql",
        content="{ __typename }",
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 415
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}


@pytest.mark.parametrize(("account", "asked"), [("en", "fr"), ("fr", "en")])
async def test_a_program_gets_the_language_it_asks_for_else_its_accounts(api, staff_a, token_for, account, asked):
    """A program's Accept-Language is its author's choice (a partner's integration may want
    English from a French account): it wins; without one, the token's account decides."""
    await User.filter(id=staff_a.user_id).update(locale=account)
    token = await token_for(staff_a)
    english = ["Invalid ID: 'nope'.", "You must provide `first` or `last` to paginate the `items` connection."]
    french = ["Identifiant invalide : 'nope'.", "Donnez `first` ou `last` pour paginer la connexion `items`."]

    for locale, expected in (
        (asked, english if asked == "en" else french),
        (None, english if account == "en" else french),
    ):
        malformed = await api('query { node(id: "nope") { id } }', token=token, locale=locale)
        limited = await api("{ items { totalCount } }", token=token, locale=locale)
        assert [e["message"] for e in malformed.body["errors"] + limited.body["errors"]] == expected


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"API rate limit exceeded: retry in \d+ seconds?\."),
        ("fr", r"Limite de requêtes de l’API atteinte : réessayez dans \d+ secondes?\."),
    ],
)
async def test_the_rate_limit_is_told_in_the_language_asked(api, db, staff_a, token_for, monkeypatch, locale, message):
    monkeypatch.setattr(db, "api_rate_limit", 1)
    await User.filter(id=staff_a.user_id).update(locale=locale)
    token = await token_for(staff_a)
    await api("{ items(first: 1) { totalCount } }", token=token)

    over = await api("{ items(first: 1) { totalCount } }", token=token)

    assert over.status == 429
    assert over.error_codes == ["RATE_LIMITED"]
    assert re.fullmatch(message, over.body["errors"][0]["message"])


@pytest.mark.parametrize(("locale", "message"), [("en", "Unexpected error."), ("fr", "Erreur inattendue.")])
async def test_an_unexpected_error_is_told_in_the_language_asked(api, db, monkeypatch, locale, message):
    from fabcom.gql import loaders

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("SELECT secret FROM /etc/passwd")

    monkeypatch.setattr(loaders, "items_queryset", broken)

    answer = await api("{ items(first: 1) { totalCount } }", locale=locale)

    assert answer.body["errors"] == [
        {"message": message, "extensions": {"code": "INTERNAL_SERVER_ERROR"}, "path": ["items"]}
    ]
