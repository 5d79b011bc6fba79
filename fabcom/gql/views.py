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
from graphql import DocumentNode, GraphQLError, GraphQLSyntaxError, OperationType, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.types.graphql import OperationType as StrawberryOperationType

from fabcom.gql.context import Context, PublicError
from fabcom.gql.limits import MAX_TOKENS, analyse
from fabcom.gql.pagination import count_store
from fabcom.gql.ratelimit import budget_key, charge
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


def _fail(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [_error(message, code)]}, status_code=status, headers=headers)


@lru_cache(maxsize=512)
def parse_document(query: str) -> DocumentNode:
    """Parsed once per distinct query text; more than ``MAX_TOKENS`` tokens is refused."""
    return parse(query, max_tokens=MAX_TOKENS, no_location=False)


def _format_error(error: GraphQLError, principal: Principal) -> dict[str, Any]:
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        # A bug, a database failure…: log it, tell nothing of its insides.
        logger.error("GraphQL resolver failed", exc_info=original)
        formatted: dict[str, Any] = {"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        if error.path:
            formatted["path"] = error.path
        return formatted
    formatted = cast("dict[str, Any]", error.formatted)
    if isinstance(original, PublicError):
        formatted["extensions"] = dict(original.extensions or {})
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
                return _fail(400, "`variables` is not valid JSON.", "BAD_REQUEST")
        return data
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _fail(400, "The body is not valid JSON.", "BAD_REQUEST")
    if isinstance(data, list):
        return _fail(400, "Batched queries are not supported: send one operation per request.", "BATCHING_DISABLED")
    if not isinstance(data, dict):
        return _fail(400, "The body must be a JSON object with a `query`.", "BAD_REQUEST")
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
        if state.auth_error:
            return _fail(
                401, "The token is invalid, expired or revoked.", "UNAUTHENTICATED", {"WWW-Authenticate": "Bearer"}
            )
        if request.method == "GET":
            if "query" not in request.query_params and "text/html" in request.headers.get("accept", ""):
                return graphiql_page(request)
            body = None
        else:
            if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                # Also what protects session cookies from cross-site form posts.
                return _fail(415, "Send the operation as application/json.", "BAD_REQUEST")
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                return _fail(413, f"The request is larger than {MAX_BODY_BYTES:,} bytes.", "BAD_REQUEST")
        data = _request_data(request, body)
        if isinstance(data, Response):
            return data
        query, variables, operation_name = data.get("query"), data.get("variables"), data.get("operationName")
        if not isinstance(query, str) or not query.strip():
            return _fail(400, "A `query` string is required.", "BAD_REQUEST")
        if variables is not None and not isinstance(variables, dict):
            return _fail(400, "`variables` must be a JSON object.", "BAD_REQUEST")
        if operation_name is not None and not isinstance(operation_name, str):
            return _fail(400, "`operationName` must be a string.", "BAD_REQUEST")
        return await self.run(request, query, dict(variables or {}), operation_name, is_get=body is None)

    async def run(
        self, request: Request, query: str, variables: dict[str, Any], operation_name: str | None, *, is_get: bool
    ) -> Response:
        principal: Principal = request.state.principal
        try:
            document = parse_document(query)
        except GraphQLSyntaxError as exc:
            code = "MAX_TOKENS" if "tokens" in exc.message else "GRAPHQL_PARSE_FAILED"
            return JSONResponse({"errors": [_error(exc.message, code)]})
        try:
            analysis = analyse(self.schema._schema, document, operation_name, dict(variables))
        except PublicError as exc:
            return JSONResponse({"errors": [_format_error(exc, principal)]})
        if analysis.errors:
            return JSONResponse({"errors": [_format_error(e, principal) for e in analysis.errors]})
        is_mutation = analysis.operation.operation == OperationType.MUTATION
        if is_mutation and is_get:
            return _fail(405, "Mutations must be sent with POST.", "METHOD_NOT_ALLOWED", {"Allow": "POST"})
        if is_mutation and not principal.is_authenticated:
            return _fail(
                401, "Authentication required: send a token.", "UNAUTHENTICATED", {"WWW-Authenticate": "Bearer"}
            )
        if analysis.introspection and not principal.is_authenticated:
            return JSONResponse(
                {"errors": [_error("Introspection needs authentication: send a token.", "INTROSPECTION_DISABLED")]}
            )
        key, authenticated = budget_key(principal, request.client.host if request.client else "")
        budget = await charge(self.settings, key, authenticated, analysis.cost)
        headers = budget.headers()
        if budget.exceeded:
            retry = max(1, budget.reset_at - int(time.time()))
            headers["Retry-After"] = str(retry)
            return _fail(429, f"API rate limit exceeded: retry in {retry} seconds.", "RATE_LIMITED", headers)
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
            payload["errors"] = [_format_error(e, principal) for e in result.errors]
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
