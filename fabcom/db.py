"""Database wiring: the Tortoise config (one app for the core, one per module) and lifecycle."""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
import sys
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import tortoise.backends.sqlite.executor  # noqa: F401 - registers Tortoise's adapters, overridden below
from pypika_tortoise.terms import Function as PypikaFunction
from tortoise import Tortoise, fields
from tortoise import models as tortoise_models
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError
from tortoise.expressions import Function
from tortoise.models import Model

from fabcom.i18n import fold
from fabcom.settings import ConfigError, Settings


def _utc_text(value: dt.datetime) -> str:
    return (value.astimezone(dt.UTC) if value.tzinfo else value).isoformat(" ", timespec="microseconds")


# SQLite compares datetimes as text. Stored in UTC with a fixed width, they compare in
# time order whatever offset the caller used (Tortoise would keep "+01:00" as given).
sqlite3.register_adapter(dt.datetime, _utc_text)


@functools.cache
def _source_has_field_comments(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as source:
            return "#:" in source.read()
    except OSError:
        return True  # let Tortoise look, as it would have


_tortoise_get_comments = tortoise_models._get_comments


def _get_comments(cls: type[Model]) -> dict[str, str]:
    """Tortoise reads ``#:`` comments above fields as their descriptions by parsing each
    model class's source (``inspect.getsource``): about 0.1 s of every start-up for fabcom's
    fifty models, none of which has such a comment. A file without ``#:`` cannot have one:
    skip the parse for it, and let Tortoise do it for any file that has one."""
    path = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if path and not _source_has_field_comments(path):
        return {}
    return _tortoise_get_comments(cls)


tortoise_models._get_comments = _get_comments


async def _begin_immediate(self: SqliteTransactionWrapper) -> None:
    """Tortoise begins SQLite transactions with a plain (deferred) ``BEGIN``: the
    transaction reads from a snapshot and asks for the write lock only at its first write.
    If another process (``fabcom worker``, a second web process) committed in between, that
    write fails at once with "database is locked", whatever the busy timeout. ``BEGIN
    IMMEDIATE`` takes the write lock first, waiting up to the busy timeout for it; readers
    outside transactions are not blocked (WAL), and one process already runs its
    transactions one at a time."""
    try:
        await self._connection.commit()
        await self._connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise TransactionManagementError(exc) from exc


SqliteTransactionWrapper.begin = _begin_immediate  # type: ignore[method-assign]


def _fold(value: Any) -> Any:
    return value if value is None else fold(str(value))


_tortoise_post_connect = SqliteClient._post_connect


async def _post_connect(self: SqliteClient) -> None:
    """SQLite cannot compare names as people type them (its ``lower()`` folds ASCII letters
    only, and it has no ``translate()``): every connection gets ``fabcom_fold(text)``,
    ``fabcom.i18n.fold`` itself, which ``fabcom.gql.search.folded_sql`` calls."""
    await _tortoise_post_connect(self)
    assert self._connection is not None  # called right after the connection is opened
    await self._connection.create_function("fabcom_fold", 1, _fold, deterministic=True)


SqliteClient._post_connect = _post_connect  # type: ignore[method-assign,assignment]

# Every model module of the core's Tortoise app "fabcom". Modules add their own apps.
CORE_MODELS = [
    "fabcom.orgs.models",
    "fabcom.auth.models",
    "fabcom.members.models",
    "fabcom.inventory.models",
    "fabcom.projects.models",
    "fabcom.network.models",
    "fabcom.audit.models",
    "fabcom.notifications.models",
    "fabcom.jobs.models",
    "fabcom.webhooks.models",
    "fabcom.notifications.preference_models",
    "fabcom.web.models",
    "fabcom.federation.models",
    "fabcom.federation.mirror_models",
    "fabcom.module_system.models",
]

# SQLite: WAL lets readers run beside the single writer; the busy timeout makes a
# second process wait for the write lock instead of failing with "database is locked".
SQLITE_PRAGMAS = {"journal_mode": "WAL", "busy_timeout": 5000, "foreign_keys": "ON", "synchronous": "NORMAL"}


class TimestampedModel(Model):
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


async def _keep_session_state(connection: Any) -> None:
    """What the pool does to a connection it takes back, besides what asyncpg always does
    (roll back an open transaction): nothing. asyncpg's default sends ``RESET ALL``,
    ``UNLISTEN *``, ``CLOSE ALL`` and ``pg_advisory_unlock_all()``: one more round trip
    after *every* query, for session state fabcom never sets (it uses ``SET LOCAL`` and
    no LISTEN, cursor or session advisory lock). A page of five queries paid ten."""


def connection_config(url: str) -> dict[str, Any]:
    """Turn a database URL into a Tortoise connection dict, refusing unknown schemes."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url.split("://", 1)[1].split("?", 1)[0] or ":memory:"
        return {"engine": "tortoise.backends.sqlite", "credentials": {"file_path": path, **SQLITE_PRAGMAS}}
    if parts.scheme in ("postgres", "postgresql", "asyncpg"):
        options = dict(parse_qsl(parts.query))
        return {
            "engine": "tortoise.backends.asyncpg",
            "credentials": {
                "host": parts.hostname or "127.0.0.1",
                "port": parts.port or 5432,
                "user": parts.username or "postgres",
                "password": parts.password or "",
                "database": parts.path.lstrip("/") or "fabcom",
                "minsize": int(options.get("minsize", 1)),
                "maxsize": int(options.get("maxsize", 10)),
                "reset": _keep_session_state,
            },
        }
    raise ConfigError(f"FABCOM_DATABASE_URL: unsupported scheme {parts.scheme!r}")


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The whole Tortoise config: the core app plus one app per enabled module."""
    from fabcom.module_system.contributions import tortoise_apps
    from fabcom.module_system.registry import build_registry

    apps: dict[str, dict[str, Any]] = {
        "fabcom": {"models": CORE_MODELS, "default_connection": "default", "migrations": "fabcom.migrations"},
    }
    apps.update(tortoise_apps(build_registry(settings.modules)))
    return {
        "connections": {"default": connection_config(settings.effective_database_url)},
        "apps": apps,
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(settings: Settings) -> None:
    """Activate the enabled modules' hooks and open the connection pool. The global
    fallback lets request tasks started by the ASGI server find the context opened in
    the lifespan task (Tortoise issue #2244)."""
    from fabcom.module_system.contributions import register_hooks
    from fabcom.module_system.registry import activate, build_registry

    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    register_hooks(activate(build_registry(settings.modules)))
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_database() -> None:
    await Tortoise.close_connections()
    # Tortoise caches each model's INSERT/DELETE SQL per connection *name*: opening
    # "default" on another backend later (SQLite then PostgreSQL in the test session)
    # would reuse SQLite's placeholders.
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()


class _RoundSQL(PypikaFunction):
    def __init__(self, term: Any, decimals: int, alias: str | None = None) -> None:
        super().__init__("ROUND", term, decimals, alias=alias)


class Round(Function):
    """``ROUND(expr, n)``. SQLite keeps decimals as text and computes in binary floats:
    rounding the result of ``quantity + delta`` stores ``0.7`` rather than
    ``0.6999999999999993``, so later exact comparisons still hold. Harmless on PostgreSQL."""

    database_func = _RoundSQL
