"""``/graphql``: the HTTP endpoint (limits, rate budget, masking, orjson) and GraphiQL.

The endpoint is written out rather than taken from ``strawberry.asgi`` so that every
check runs before any resolver: the request's shape, the parser's token limit, the
limits of ``fabcom.gql.limits``, authentication of mutations and the rate budget.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson
from graphql import DocumentNode, GraphQLError, GraphQLSchema, GraphQLSyntaxError, OperationType, parse, specified_rules
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType as StrawberryOperationType

from fabcom.gql.context import Context, PublicError, public_text
from fabcom.gql.limits import MAX_TOKENS, analyse
from fabcom.gql.pagination import count_store
from fabcom.gql.ratelimit import budget_key, charge
from fabcom.i18n import N_, ngettext
from fabcom.module_system.registry import build_registry
from fabcom.permissions import Principal
from fabcom.settings import Settings

if TYPE_CHECKING:
    import strawberry

logger = logging.getLogger("fabcom.gql")
MAX_BODY_BYTES = 100_000
ASSETS = Path(__file__).resolve().parent.parent / "static" / "graphiql"
_SUGGESTION = re.compile(r" Did you mean .*\?$")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def _fail(
    request: Request, status: int, message: str, code: str, headers: dict[str, str] | None = None, **params: Any
) -> JSONResponse:
    """A refusal before the operation runs; ``message`` (an English message id) is answered
    in the caller's language: their account's, else ``Accept-Language``'s."""
    text = public_text(request.state.locale, message, **params)
    return JSONResponse({"errors": [_error(text, code)]}, status_code=status, headers=headers)


def _syntax_error(exc: GraphQLSyntaxError, locale: str) -> dict[str, Any]:
    """Where the query stops being GraphQL, said in the caller's language; graphql-core's
    own description of the mistake stays in English inside it, like a compiler's."""
    line, column = exc.locations[0] if exc.locations else (1, 1)
    detail = exc.message.removeprefix("Syntax Error: ")
    message = N_("The query is not valid GraphQL at line {line}, column {column}: {detail}")
    text = public_text(locale, message, line=line, column=column, detail=detail)
    error = _error(text, "GRAPHQL_PARSE_FAILED")
    error["locations"] = [{"line": line, "column": column}]
    return error


@lru_cache(maxsize=512)
def parse_document(query: str) -> DocumentNode:
    """Parsed once per distinct query text; more than ``MAX_TOKENS`` tokens is refused."""
    return parse(query, max_tokens=MAX_TOKENS, no_location=False)


@lru_cache(maxsize=512)
def validation_errors(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
    """The schema's rules (Strawberry's among them) broken by ``document``, checked once per
    distinct query: before the limits and the rate budget, so that a request the schema
    refuses is told what is wrong with it and costs nothing."""
    return validate_document(schema, document, tuple(specified_rules))


def _format_error(error: GraphQLError, principal: Principal, locale: str) -> dict[str, Any]:
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        # A bug, a database failure…: log it, tell nothing of its insides.
        logger.error("GraphQL resolver failed", exc_info=original)
        formatted: dict[str, Any] = {
            "message": public_text(locale, N_("Unexpected error.")),
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
        if error.path:
            formatted["path"] = error.path
        return formatted
    formatted = cast("dict[str, Any]", error.formatted)
    public = error if isinstance(error, PublicError) else original
    if isinstance(public, PublicError):  # raised by fabcom (limits, ids, scopes) or a module
        formatted["message"] = public.text(locale)
        formatted["extensions"] = dict(public.extensions or {})
    if not principal.is_authenticated:
        formatted["message"] = _SUGGESTION.sub("", formatted["message"])
    formatted.setdefault("extensions", {}).setdefault(
        "code", "GRAPHQL_VALIDATION_FAILED" if error.path is None else "BAD_USER_INPUT"
    )
    return formatted


def _request_data(request: Request, body: bytes | None) -> dict[str, Any] | JSONResponse:
    if body is None:
        params = request.query_params
        data: dict[str, Any] = {"query": params.get("query"), "operationName": params.get("operationName")}
        if params.get("variables"):
            try:
                data["variables"] = orjson.loads(params["variables"])
            except orjson.JSONDecodeError:
                return _fail(request, 400, N_("`variables` is not valid JSON."), "BAD_REQUEST")
        return data
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _fail(request, 400, N_("The body is not valid JSON."), "BAD_REQUEST")
    if isinstance(data, list):
        message = N_("Batched queries are not supported: send one operation per request.")
        return _fail(request, 400, message, "BATCHING_DISABLED")
    if not isinstance(data, dict):
        return _fail(request, 400, N_("The body must be a JSON object with a `query`."), "BAD_REQUEST")
    return data


class GraphQLEndpoint:
    """POST (and GET for queries only) ``/graphql``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._schema: strawberry.Schema | None = None
        self.slots = asyncio.Semaphore(settings.api_max_concurrency)

    @property
    def schema(self) -> strawberry.Schema:
        """Built once, from the enabled modules (the core's schema plus their schema.py),
        on first use rather than at import: importing the GraphQL types and building the
        schema is about half of the process's start-up, and ``/healthz`` and the pages do
        not need it. ``warm_up`` builds it in the background just after start-up."""
        if self._schema is None:
            from fabcom.gql.schema import build_schema

            self._schema = build_schema(build_registry(self.settings.modules))
        return self._schema

    async def handle(self, request: Request) -> Response:
        state = request.state
        if state.auth_error == "not_bearer":
            message = N_("Send the token as `Authorization: Bearer <token>`.")
            return _fail(request, 401, message, "UNAUTHENTICATED", {"WWW-Authenticate": "Bearer"})
        if state.auth_error:
            message = N_("The token is invalid, expired or revoked.")
            return _fail(request, 401, message, "UNAUTHENTICATED", {"WWW-Authenticate": "Bearer"})
        if request.method == "GET":
            if "query" not in request.query_params and "text/html" in request.headers.get("accept", ""):
                return graphiql_page(request)
            body = None
        else:
            if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                # Also what protects session cookies from cross-site form posts.
                return _fail(request, 415, N_("Send the operation as application/json."), "BAD_REQUEST")
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                message = N_("The request is larger than {limit} bytes.")
                return _fail(request, 413, message, "BAD_REQUEST", limit=MAX_BODY_BYTES)
        data = _request_data(request, body)
        if isinstance(data, Response):
            return data
        query, variables, operation_name = data.get("query"), data.get("variables"), data.get("operationName")
        if not isinstance(query, str) or not query.strip():
            return _fail(request, 400, N_("A `query` string is required."), "BAD_REQUEST")
        if variables is not None and not isinstance(variables, dict):
            return _fail(request, 400, N_("`variables` must be a JSON object."), "BAD_REQUEST")
        if operation_name is not None and not isinstance(operation_name, str):
            return _fail(request, 400, N_("`operationName` must be a string."), "BAD_REQUEST")
        return await self.run(request, query, dict(variables or {}), operation_name, is_get=body is None)

    async def run(
        self, request: Request, query: str, variables: dict[str, Any], operation_name: str | None, *, is_get: bool
    ) -> Response:
        principal: Principal = request.state.principal
        locale: str = request.state.locale
        try:
            document = parse_document(query)
        except GraphQLSyntaxError as exc:
            if exc.message.startswith("Syntax Error: Document contains more than"):  # graphql-core's token limit
                text = public_text(locale, N_("Queries may hold at most {limit} tokens."), limit=MAX_TOKENS)
                return JSONResponse({"errors": [_error(text, "MAX_TOKENS")]})
            return JSONResponse({"errors": [_syntax_error(exc, locale)]})
        invalid = validation_errors(self.schema._schema, document)
        if invalid:
            return JSONResponse({"errors": [_format_error(e, principal, locale) for e in invalid]})
        try:
            analysis = analyse(self.schema._schema, document, operation_name, dict(variables))
        except PublicError as exc:
            return JSONResponse({"errors": [_format_error(exc, principal, locale)]})
        if analysis.errors:
            return JSONResponse({"errors": [_format_error(e, principal, locale) for e in analysis.errors]})
        is_mutation = analysis.operation.operation == OperationType.MUTATION
        if is_mutation and is_get:
            return _fail(request, 405, N_("Mutations must be sent with POST."), "METHOD_NOT_ALLOWED", {"Allow": "POST"})
        if is_mutation and not principal.is_authenticated:
            message = N_("Authentication required: send a token.")
            return _fail(request, 401, message, "UNAUTHENTICATED", {"WWW-Authenticate": "Bearer"})
        if analysis.introspection and not principal.is_authenticated:
            message = N_("Introspection needs authentication: send a token.")
            return _fail(request, 200, message, "INTROSPECTION_DISABLED")
        key, authenticated = budget_key(principal, request.client.host if request.client else "")
        budget = await charge(self.settings, key, authenticated, analysis.cost)
        headers = budget.headers()
        if budget.exceeded:
            retry = max(1, budget.reset_at - int(time.time()))
            headers["Retry-After"] = str(retry)
            text = ngettext(
                locale,
                "API rate limit exceeded: retry in {n} second.",
                "API rate limit exceeded: retry in {n} seconds.",
                retry,
            )
            return JSONResponse({"errors": [_error(text, "RATE_LIMITED")]}, status_code=429, headers=headers)
        context = Context(principal=principal, locale=request.state.locale, settings=self.settings)
        store = count_store.set(self.settings.redis_url or "")
        try:
            async with self.slots:
                result = await self.schema.execute(
                    query,
                    variable_values=variables,
                    context_value=context,
                    operation_name=operation_name,
                    allowed_operation_types=(StrawberryOperationType.QUERY,)
                    if is_get
                    else (StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION),
                )
        finally:
            count_store.reset(store)
        payload: dict[str, Any] = {}
        if result.errors:
            payload["errors"] = [_format_error(e, principal, locale) for e in result.errors]
        payload["data"] = result.data
        payload["extensions"] = {
            "cost": {
                "requestedQueryCost": analysis.cost,
                "estimatedNodes": analysis.nodes,
                "limit": budget.limit,
                "remaining": budget.remaining,
                "resetAt": budget.reset_at,
            }
        }
        return JSONResponse(payload, headers=headers)


GRAPHIQL_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fabcom GraphQL API</title>
<link rel="stylesheet" href="{assets}/graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</div>
<script src="{assets}/react.production.min.js"></script>
<script src="{assets}/react-dom.production.min.js"></script>
<script src="{assets}/graphiql.min.js"></script>
<script src="{assets}/graphiql-init.js"></script>
</body>
</html>
"""


def graphiql_page(request: Request) -> HTMLResponse:
    """GraphiQL, every file served by this instance (no CDN)."""
    return HTMLResponse(
        GRAPHIQL_HTML.format(assets="/graphql/assets", endpoint="/graphql"),
        headers={
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:",
        },
    )


def graphql_routes(settings: Settings) -> list[BaseRoute]:
    """The routes to mount in the application (``fabcom.gql.routes`` mounts the same
    ones with this module imported on first use)."""
    endpoint = GraphQLEndpoint(settings)
    return [
        Route("/graphql", endpoint.handle, methods=["GET", "POST"], name="graphql"),
        Mount("/graphql/assets", StaticFiles(directory=ASSETS), name="graphiql-assets"),
    ]
