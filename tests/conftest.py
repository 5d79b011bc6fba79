"""Fixtures: every database test runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from fabcom import clock
from fabcom.auth.models import User
from fabcom.db import close_database, open_database
from fabcom.inventory.services import seed_categories
from fabcom.members.models import Membership, Role
from fabcom.migrations_api import apply_migrations
from fabcom.orgs.models import Organization
from fabcom.permissions import Principal, load_principal
from fabcom.settings import Settings
from fabcom.testing.services import POSTGRES_ENV, create_postgres_database, drop_postgres_database, require

# Kept between tests: the shipped taxonomy and the migration history.
KEPT_TABLES = {"fabcom_category", "tortoise_migrations"}


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Settings]:
    """A migrated database for the whole session, one per backend (tests are grouped by it)."""
    var_dir = tmp_path_factory.mktemp(f"var-{request.param}")
    url = ""
    if request.param == "postgres":
        url = await create_postgres_database(require(POSTGRES_ENV, "PostgreSQL"))
    settings = Settings(var_dir=var_dir, database_url=url, secret_key="test-secret")
    await apply_migrations(settings)
    # Tortoise caches each model's INSERT per connection name ("default" for both
    # backends): forget SQLite's before running on PostgreSQL, and the other way round.
    EXECUTOR_CACHE.clear()
    await open_database(settings)
    await seed_categories()
    try:
        yield settings
    finally:
        await close_database()
        if url:
            await drop_postgres_database(url)


@pytest.fixture
async def db(database: Settings) -> AsyncIterator[Settings]:
    """An empty database (but for the taxonomy) for one test."""
    yield database
    conn = connections.get("default")
    tables = [
        *sorted(
            model._meta.db_table
            for app in Tortoise.apps.values()
            for model in app.values()
            if model._meta.db_table not in KEPT_TABLES
        ),
        "fabcom_project_partner",
    ]
    if database.is_sqlite:
        await conn.execute_script(
            "PRAGMA foreign_keys=OFF;" + "".join(f'DELETE FROM "{t}";' for t in tables) + "PRAGMA foreign_keys=ON;"
        )
    else:
        await conn.execute_script(
            f"TRUNCATE {', '.join(chr(34) + t + chr(34) for t in tables)} RESTART IDENTITY CASCADE"
        )


@pytest.fixture
def backend(database: Settings) -> str:
    return "sqlite" if database.is_sqlite else "postgres"


_counter = itertools.count(1)


@pytest.fixture
def make_org(db: Settings) -> Callable[..., Awaitable[Organization]]:
    async def make(slug: str | None = None, **fields: object) -> Organization:
        n = next(_counter)
        return await Organization.create(
            slug=slug or f"org-{n}", name=fields.pop("name", f"Organisation {n}"), **fields
        )

    return make


@pytest.fixture
def make_member(db: Settings) -> Callable[..., Awaitable[Principal]]:
    """A user with ``role`` in each given organization, as the principal services take."""

    async def make(*orgs: Organization, role: Role = Role.STAFF, scopes: list[str] | None = None) -> Principal:
        n = next(_counter)
        user = await User.create(email=f"user{n}@example.org", display_name=f"Personne {n}")
        for org in orgs:
            await Membership.create(user=user, organization=org, role=role, valid_from=clock.today())
        return await load_principal(user.id, scopes=scopes)

    return make


@pytest.fixture
async def org_a(make_org: Callable[..., Awaitable[Organization]]) -> Organization:
    return await make_org("recyclerie-a", name="Recyclerie A", kind="ressourcerie")


@pytest.fixture
async def org_b(make_org: Callable[..., Awaitable[Organization]]) -> Organization:
    return await make_org("fablab-b", name="Fablab B", kind="fablab")


@pytest.fixture
async def staff_a(make_member: Callable[..., Awaitable[Principal]], org_a: Organization) -> Principal:
    return await make_member(org_a, role=Role.STAFF)


@pytest.fixture
async def staff_b(make_member: Callable[..., Awaitable[Principal]], org_b: Organization) -> Principal:
    return await make_member(org_b, role=Role.STAFF)


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
