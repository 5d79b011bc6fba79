"""``/graphql`` mounted without importing the GraphQL machinery.

Importing Strawberry, graphql-core and fabcom's GraphQL types, then building the schema,
is about half of a web process's start-up; ``/healthz``, the pages and federation need
none of it. The application mounts this light endpoint: it imports ``fabcom.gql.views``
and builds the schema on the first ``/graphql`` request, or earlier through
``warm_up``, which the application runs just after the server starts listening.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fabcom.settings import Settings

if TYPE_CHECKING:
    from fabcom.gql.views import GraphQLEndpoint

ASSETS = Path(__file__).resolve().parent.parent / "static" / "graphiql"


class LazyGraphQLEndpoint:
    """``fabcom.gql.views.GraphQLEndpoint``, created (and its schema built) on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._endpoint: GraphQLEndpoint | None = None
        self._serving: set[asyncio.Task[Any]] = set()  # the requests being answered

    @property
    def endpoint(self) -> GraphQLEndpoint:
        if self._endpoint is None:
            from fabcom.gql.views import GraphQLEndpoint

            endpoint = GraphQLEndpoint(self.settings)
            endpoint.schema  # noqa: B018 - build it now: a refused module fails here, not mid-request
            self._endpoint = endpoint
        return self._endpoint

    async def handle(self, request: Request) -> Response:
        task = asyncio.current_task()
        assert task is not None  # an ASGI request is always served in a task
        self._serving.add(task)
        try:
            return await self.endpoint.handle(request)
        finally:
            self._serving.discard(task)

    async def answered(self, timeout_s: float) -> None:
        """Return once the ``/graphql`` requests being served now are answered, or after
        ``timeout_s``."""
        if self._serving:
            await asyncio.wait(set(self._serving), timeout=timeout_s)

    async def warm_up(self, delay_s: float = 0.2) -> None:
        """Build the schema soon after the server listens, so that the first API call does
        not pay for it. A module whose GraphQL contribution is refused (a name clash, a
        missing prefix) raises ``ModuleError`` here, naming the module."""
        await asyncio.sleep(delay_s)
        self.endpoint  # noqa: B018 - the property builds and keeps the endpoint


def graphql_routes(endpoint: LazyGraphQLEndpoint) -> list[BaseRoute]:
    """The routes to mount in the application."""
    return [
        Route("/graphql", endpoint.handle, methods=["GET", "POST"], name="graphql"),
        Mount("/graphql/assets", StaticFiles(directory=ASSETS), name="graphiql-assets"),
    ]
