"""Clients for the staff UI: an httpx client on the ASGI app, logged in as a principal."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette

from fabcom.app import create_app
from fabcom.auth.models import User
from fabcom.auth.services import open_session
from fabcom.permissions import Principal
from fabcom.settings import Settings

BASE = "http://testserver"


class WebClient(httpx.AsyncClient):
    csrf_token: str = ""

    async def post_form(self, url: str, data: dict | None = None, **kwargs: object) -> httpx.Response:
        """A form POST carrying the CSRF token, as the browser sends it."""
        return await self.post(url, data={**(data or {}), "csrf_token": self.csrf_token}, **kwargs)  # type: ignore[arg-type]

    async def htmx_get(self, url: str, **kwargs: object) -> httpx.Response:
        return await self.get(url, headers={"HX-Request": "true"}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def app(db: Settings) -> Starlette:
    # The ``db`` fixture opened the database already: the app's lifespan is not run.
    return create_app(db)


@pytest.fixture
async def make_client(app: Starlette) -> AsyncIterator[Callable[..., Awaitable[WebClient]]]:
    async with AsyncExitStack() as stack:

        async def make(principal: Principal | None = None) -> WebClient:
            client = await stack.enter_async_context(WebClient(transport=httpx.ASGITransport(app=app), base_url=BASE))
            if principal is not None:
                user = await User.get(id=principal.user_id)
                session, key = await open_session(user)
                client.cookies.set("fabcom_session", key)
                client.csrf_token = session.csrf_token
            else:
                await client.get("/login")
                client.csrf_token = client.cookies.get("fabcom_csrf") or ""
            return client

        yield make


@pytest.fixture
def png() -> bytes:
    """A tiny real PNG image."""
    return png_bytes()


def png_bytes(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format="PNG")
    return out.getvalue()
