"""The pytest plugin of fabcom, loaded automatically (entry point ``pytest11``) wherever
fabcom is installed, so module authors get the same fixtures as the core's tests.

Every database test runs on SQLite and, when ``FABCOM_TEST_POSTGRES_URL`` is set, on
PostgreSQL too; all installed first-party modules are enabled, so their tables exist.
"""

from __future__ import annotations

import asyncio
import graphlib
import itertools
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from fabcom import clock
from fabcom.app import create_app
from fabcom.auth.middleware import SESSION_COOKIE
from fabcom.auth.models import User
from fabcom.auth.services import open_session
from fabcom.db import close_database, open_database
from fabcom.inventory.services import seed_categories
from fabcom.members.models import Membership, Role
from fabcom.module_system.registry import active_registry, discover
from fabcom.orgs.models import Organization
from fabcom.permissions import Principal, load_principal
from fabcom.settings import Settings
from fabcom.testing import cache
from fabcom.testing.services import POSTGRES_ENV, drop_postgres_database, require

# Kept between tests: the shipped taxonomy and the migration history.
KEPT_TABLES = {"fabcom_category", "tortoise_migrations"}


_OWNS_CACHE = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    """The run's shared cache (``fabcom.testing.cache``), made by pytest's first process
    before xdist starts its workers, which inherit it."""
    config.stash[_OWNS_CACHE] = cache.start_run()


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_OWNS_CACHE, False):
        cache.end_run()


@pytest.fixture(scope="session")
async def _migrated_databases() -> AsyncIterator[dict[str, Settings]]:
    """The migrated database of each backend for this test process, kept until its end.
    Under ``pytest-xdist --dist loadfile`` a worker's files alternate backends, so pytest
    sets ``database`` up again for nearly every file: it must not migrate each time."""
    migrated: dict[str, Settings] = {}
    yield migrated
    for settings in migrated.values():
        if not settings.is_sqlite:
            await drop_postgres_database(settings.database_url)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _migrated_databases: dict[str, Settings],
) -> AsyncIterator[Settings]:
    """A migrated database, one per backend, open while the tests of that backend run."""
    settings = _migrated_databases.get(request.param)
    if settings is None:
        var_dir = tmp_path_factory.mktemp(f"var-{request.param}")
        modules = sorted(discover())
        url = ""
        if request.param == "postgres":
            url = await cache.migrated_postgres_database(require(POSTGRES_ENV, "PostgreSQL"), ",".join(modules))
        else:
            await asyncio.to_thread(cache.prepare_var_dir, var_dir, ",".join(modules))
        settings = Settings(var_dir=var_dir, database_url=url, secret_key="test-secret", modules=modules)
        _migrated_databases[request.param] = settings
    await open_database(settings)
    await seed_categories()
    try:
        yield settings
    finally:
        await close_database()
        # Tortoise caches INSERT statements per connection name and table, not per
        # dialect: forget SQLite's "?" placeholders before PostgreSQL's turn.
        EXECUTOR_CACHE.clear()


@pytest.fixture
async def db(database: Settings) -> AsyncIterator[Settings]:
    """An empty instance (but for the taxonomy) for one test: no rows, no uploads."""
    yield database
    await connections.get("default").execute_script("".join(f'DELETE FROM "{t}";' for t in _tables_children_first()))
    shutil.rmtree(database.uploads_dir, ignore_errors=True)


def _tables_children_first() -> list[str]:
    """Every table but the kept ones, each after the tables whose rows point at it, so
    that plain DELETEs (much faster than TRUNCATE on small tables) never break a
    foreign key, on SQLite and PostgreSQL alike."""
    graph: dict[str, set[str]] = {}
    for app in Tortoise.apps.values():
        for model in app.values():
            table = model._meta.db_table
            graph.setdefault(table, set())
            for name in model._meta.fk_fields | model._meta.o2o_fields:
                target = model._meta.fields_map[name].related_model._meta.db_table
                if target != table:
                    graph.setdefault(target, set()).add(table)  # delete ``table`` before ``target``
            for name in model._meta.m2m_fields:
                graph.setdefault(table, set()).add(model._meta.fields_map[name].through)
                graph.setdefault(model._meta.fields_map[name].through, set())
    order = list(graphlib.TopologicalSorter(graph).static_order())
    return [t for t in order if t not in KEPT_TABLES]


@pytest.fixture
def module_env() -> Iterator[Callable[[str, str], None]]:
    """Set a module's ``FABCOM_<SLUG>_*`` variable for one test: ``module_env("FABCOM_X_LIMIT", "5")``.

    A running instance reads module settings once, at start-up; this re-reads them from
    the environment after each change and again once the test has restored it."""

    def refresh() -> None:
        registry = active_registry()
        if registry is not None:
            registry.refresh_settings()

    with pytest.MonkeyPatch.context() as patch:

        def set_variable(name: str, value: str) -> None:
            patch.setenv(name, value)
            refresh()

        yield set_variable
    refresh()


@pytest.fixture
def sql_statements(db: Settings, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries the test sends from here on through the default connection's
    ``execute_query`` and ``execute_query_dict`` (Tortoise's selects and fabcom's own
    statements; not inserts, nor what runs on a transaction's connection), in order, to
    check that a page costs no statement per row. Clear the list between steps."""
    connection = connections.get("default")
    statements: list[str] = []
    for name in ("execute_query", "execute_query_dict"):
        original = getattr(connection, name)

        def counted(sql: str, *args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            statements.append(sql)
            return _original(sql, *args, **kwargs)

        monkeypatch.setattr(connection, name, counted)
    return statements


@pytest.fixture
def backend(database: Settings) -> str:
    return "sqlite" if database.is_sqlite else "postgres"


_counter = itertools.count(1)


@pytest.fixture
def make_org(db: Settings) -> Callable[..., Awaitable[Organization]]:
    async def make(slug: str | None = None, **fields: Any) -> Organization:
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
    """The checkout's root (for tests about the project's own files)."""
    return Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def app(db: Settings) -> Starlette:
    """The application on the test database (already open: the lifespan is not run)."""
    return create_app(db)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to ``app`` in-process, anonymous until ``login``."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
def login(db: Settings) -> Callable[[httpx.AsyncClient, Principal], Awaitable[None]]:
    """Sign ``client`` in as ``principal``'s user, with a real server-side session."""

    async def sign_in(http: httpx.AsyncClient, principal: Principal) -> None:
        user = await User.get(id=principal.user_id)
        _, key = await open_session(user)
        http.cookies.set(SESSION_COOKIE, key)

    return sign_in
