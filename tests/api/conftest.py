"""Fixtures for the GraphQL API: an HTTP client on the app, tokens, and a query helper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tortoise import connections

from fabcom.app import create_app
from fabcom.auth.services import create_api_token
from fabcom.permissions import Principal, known_scopes, system_principal
from fabcom.settings import Settings


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: httpx.Headers

    @property
    def data(self) -> Any:
        assert "errors" not in self.body, self.body
        return self.body["data"]

    @property
    def error_codes(self) -> list[str]:
        return [e["extensions"]["code"] for e in self.body.get("errors", [])]


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        cookie: str | None = None,
        locale: str | None = None,
        operation_name: str | None = None,
    ) -> Answer:
        headers = {}
        if cookie:
            headers["Cookie"] = f"fabcom_session={cookie}"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if locale:
            headers["Accept-Language"] = locale
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if operation_name is not None:
            body["operationName"] = operation_name
        response = await self.client.post("/graphql", json=body, headers=headers)
        return Answer(response.status_code, response.json(), response.headers)


@pytest.fixture
async def api_settings(db: Settings) -> Settings:
    """The session's settings; the shared rate budget table is emptied for each test."""
    await connections.get("default").execute_script("DELETE FROM fabcom_api_budget")
    return db


@pytest.fixture
async def client(api_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # The ``db`` fixture already opened Tortoise: the app's lifespan is not run.
    app = create_app(api_settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


@pytest.fixture
def token_for(db: Settings) -> Callable[..., Awaitable[str]]:
    """A bearer token acting for ``principal``'s user (every scope of the instance, the
    enabled modules' included, unless told)."""

    async def make(principal: Principal, scopes: list[str] | None = None) -> str:
        assert principal.user_id is not None
        _token, secret = await create_api_token(
            system_principal(),
            principal.user_id,
            {"name": "test", "scopes": scopes or [s.code for s in known_scopes()]},
        )
        return secret

    return make
