"""Every response carries the security headers: each GET route of the route table (the
core's, GraphQL's, every module's), as a visitor and as staff, its error pages and the
static files; HSTS only behind https."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from fabcom.app import create_app
from fabcom.inventory.services import create_item
from fabcom.projects.services import create_project, create_task
from fabcom.web.security import CONTENT_SECURITY_POLICY

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def get_paths(routes: list[BaseRoute], prefix: str = "") -> list[str]:
    """Every GET path template of the route table, mounts included."""
    paths: list[str] = []
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                paths += get_paths(list(route.routes), prefix + route.path)
            else:
                paths.append(prefix + route.path + "/{path}")
        elif isinstance(route, Route) and route.methods and "GET" in route.methods:
            paths.append(prefix + route.path)
    return paths


def fill(template: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return values.get(name, "1")

    return re.sub(r"\{([^}]+)\}", one, template)


def assert_secure(response: httpx.Response, where: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (where, response.status_code, name)
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert "unsafe-inline" not in csp or where.startswith("/graphql"), where
    assert "strict-transport-security" not in response.headers, where


@pytest.fixture
async def values(org_a, staff_a) -> dict[str, str]:
    item = await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "1"})
    project = await create_project(staff_a, org_a.id, {"title": "Atelier"})
    task = await create_task(staff_a, project.id, {"title": "Poncer"})
    return {
        "slug": org_a.slug,
        "item_id": str(item.id),
        "project_id": str(project.id),
        "task_id": str(task.id),
        "fmt": "csv",
        "path": "fabcom.js",
        "token": "not-a-token",
    }


async def test_every_get_route_answers_with_the_security_headers(app, client, login, staff_a, values):
    paths = get_paths(app.routes)
    assert len(paths) >= 25  # the table really was enumerated (core, GraphQL, modules, static)
    assert "/m/bookings/mine" in paths
    assert "/static/{path}" in paths
    statuses: dict[int, int] = {}
    for signed_in in (False, True):
        if signed_in:
            await login(client, staff_a)
        for template in paths:
            url = fill(template, values)
            if template == "/graphql/assets/{path}":
                url = "/graphql/assets/graphiql-init.js"
            response = await client.get(url, headers={"Accept": "text/html"})
            assert_secure(response, url)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert statuses.get(200, 0) >= 20
    # The GraphiQL page keeps its own (looser) policy, still unframeable.
    graphiql = await client.get("/graphql", headers={"Accept": "text/html"})
    assert "style-src 'self' 'unsafe-inline'" in graphiql.headers["content-security-policy"]


async def test_pages_use_the_strict_policy(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "'unsafe" not in CONTENT_SECURITY_POLICY


async def test_errors_and_static_files_carry_the_headers(client):
    for url, status in [("/no-such-page", 404), ("/static/nothing.js", 404), ("/static/fabcom.js", 200)]:
        response = await client.get(url)
        assert response.status_code == status
        assert_secure(response, url)
    refused = await client.post("/logout")  # no CSRF token: 403 from the middleware
    assert refused.status_code == 403
    assert_secure(refused, "/logout")


async def test_a_crash_answers_500_with_the_headers(db):
    app = create_app(db)

    async def boom(request):
        raise RuntimeError("boom")

    app.router.routes.insert(0, Route("/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert_secure(response, "/boom")


async def test_hsts_only_when_the_public_url_is_https(db):
    secure = create_app(db.model_copy(update={"base_url": "https://fabcom.example.org"}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=secure), base_url="https://testserver") as http:
        response = await http.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
