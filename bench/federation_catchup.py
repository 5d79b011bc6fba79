"""Catch-up ingest of shared items into the mirror, against its floor (PostgreSQL).

(a) the floor: export 10,000 item rows with asyncpg, encode them with orjson, decode
    them, and write them into ``fabcom_mirror_item`` with one bulk upsert (one statement);
(b) fabcom's ingest path: the same 10,000 items as the ``Create`` activities fabcom
    emits, arriving as JSON pages of 500 (decoded with orjson), each page handed to
    ``dispatch_batch`` (parse, check, sanitise, one upsert per page);
(c) incremental: 100 changed items out of 100,000 already mirrored, one page.

Statements sent to the database are counted for (b) and (c): they grow with the number
of pages, not of items. The end-to-end HTTP path (paged outbox, signatures) is the
transport half's (fedt). Settings: ``FABCOM_BENCH_POSTGRES_URL`` (a server where the user
may create databases), ``BENCH_ITEMS`` (10000), ``BENCH_PAGE`` (500), ``BENCH_ROUNDS`` (5),
``BENCH_SQLITE=1`` to add the ingest path on SQLite.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson

ADMIN_URL = os.environ.get(
    "FABCOM_BENCH_POSTGRES_URL",
    os.environ.get("FABCOM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
)
N_ITEMS = int(os.environ.get("BENCH_ITEMS", "10000"))
PAGE = int(os.environ.get("BENCH_PAGE", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
BIG = 100_000
CHANGED = 100
A = "https://a.example"
A_ACTOR = f"{A}/ap/o/recyclerie-a"
T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)

EXPORT = """SELECT i.id, i.title, i.description, c.code AS category_code, i.quantity, i.unit, i.condition,
  i.status, i.sharing_modes, i.visibility, i.updated_at FROM fabcom_item i
  LEFT JOIN fabcom_category c ON c.id = i.category_id
  WHERE i.organization_id = $1 AND i.visibility <> 'private' AND i.deleted_at IS NULL ORDER BY i.id"""

FLOOR_UPSERT = """INSERT INTO fabcom_mirror_item (uri, organization_id, title, content, search_text, category_code,
  quantity, unit, condition, status, sharing_modes, visibility, url, image_url, remote_updated_at, document,
  received_at)
SELECT t.uri, $2, t.title, t.content, t.search_text, t.category_code, t.quantity, t.unit, t.condition, t.status,
  t.sharing_modes::jsonb, t.visibility, t.uri, '', t.updated, t.document::jsonb, now()
FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::text[], $9::text[],
  $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::text[])
  AS t(uri, title, content, search_text, category_code, quantity, unit, condition, status, sharing_modes,
  visibility, updated, document)
ON CONFLICT (uri) DO UPDATE SET title = excluded.title, content = excluded.content,
  search_text = excluded.search_text, category_code = excluded.category_code, quantity = excluded.quantity,
  unit = excluded.unit, condition = excluded.condition, status = excluded.status,
  sharing_modes = excluded.sharing_modes, visibility = excluded.visibility,
  remote_updated_at = excluded.remote_updated_at, document = excluded.document, received_at = excluded.received_at
WHERE fabcom_mirror_item.organization_id = excluded.organization_id
  AND fabcom_mirror_item.remote_updated_at <= excluded.remote_updated_at"""


def dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def seed_items(conn: asyncpg.Connection, org_id: int, count: int) -> None:
    """``count`` shared items of organization ``org_id``, written in one statement."""
    await conn.execute(
        """INSERT INTO fabcom_item (organization_id, title, description, category_id, unit, quantity, condition,
        status, visibility, sharing_modes, attributes, created_at, updated_at)
        SELECT $1, 'Objet ' || g, 'Description de l''objet ' || g, (SELECT id FROM fabcom_category WHERE code = 'C_15'),
          'piece', (g % 7) + 1, 'good', 'available', 'partners', '["give","lend"]'::jsonb, '{}'::jsonb, $2, $2
        FROM generate_series(1, $3) AS g""",
        org_id,
        T0,
        count,
    )


async def floor(conn: asyncpg.Connection, source_org: int, mirror_org: int) -> float:
    """Export, encode, decode, one bulk upsert."""
    started = time.perf_counter()
    rows = await conn.fetch(EXPORT, source_org)
    wire = orjson.dumps([dict(r) for r in rows], default=str)
    received = orjson.loads(wire)
    cols: dict[str, list[Any]] = {k: [] for k in ("uri", "title", "content", "search", "code", "qty", "unit")}
    cols.update({k: [] for k in ("cond", "status", "modes", "vis", "updated", "doc")})
    for r in received:
        cols["uri"].append(f"{A}/ap/items/{r['id']}")
        cols["title"].append(r["title"])
        cols["content"].append(r["description"])
        cols["search"].append(f"{r['title']} {r['description']}".lower())
        cols["code"].append(r["category_code"])
        cols["qty"].append(Decimal(r["quantity"]))
        cols["unit"].append(r["unit"])
        cols["cond"].append(r["condition"])
        cols["status"].append(r["status"])
        cols["modes"].append(r["sharing_modes"])
        cols["vis"].append(r["visibility"])
        cols["updated"].append(dt.datetime.fromisoformat(r["updated_at"]))
        cols["doc"].append(orjson.dumps(r).decode())
    await conn.execute(
        FLOOR_UPSERT,
        cols["uri"],
        mirror_org,
        cols["title"],
        cols["content"],
        cols["search"],
        cols["code"],
        cols["qty"],
        cols["unit"],
        cols["cond"],
        cols["status"],
        cols["modes"],
        cols["vis"],
        cols["updated"],
        cols["doc"],
    )
    return time.perf_counter() - started


def activities(count: int, start: int = 1, updated: dt.datetime = T0) -> list[bytes]:
    """The Create activities fabcom emits for ``count`` items, as JSON pages of PAGE."""
    from fabcom.federation import vocab
    from fabcom.federation.models import Audience

    docs = []
    for n in range(start, start + count):
        obj = vocab.item_object(
            pk=n,
            actor=A_ACTOR,
            title=f"Objet {n}",
            description=f"Description de l'objet {n}",
            category_code="C_15",
            quantity_value=Decimal((n % 7) + 1),
            unit="piece",
            condition="good",
            status="available",
            sharing_modes=["give", "lend"],
            audience=Audience.PARTNERS,
            published=T0,
            updated=updated,
            base=A,
        )
        docs.append(vocab.activity("Create", actor=A_ACTOR, obj=obj, audience=Audience.PARTNERS, published=T0, base=A))
    return [orjson.dumps(docs[i : i + PAGE]) for i in range(0, len(docs), PAGE)]


class StatementCounter:
    """Counts the statements Tortoise sends (BEGIN/COMMIT included)."""

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        from tortoise import connections

        conn = connections.get("default")
        counter = self
        for name in ("execute_query", "execute_insert", "execute_script", "execute_many", "execute_query_dict"):
            method = getattr(type(conn), name)

            def wrap(method: Any = method) -> Any:
                async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
                    counter.count += 1
                    return await method(self, *args, **kwargs)

                return counted

            setattr(type(conn), name, wrap())


async def ingest(pages: list[bytes], sender: Any) -> float:
    from fabcom.federation.handlers import dispatch_batch

    started = time.perf_counter()
    for page in pages:
        await dispatch_batch(orjson.loads(page), sender)
    return time.perf_counter() - started


async def run_backend(url: str, label: str) -> dict[str, Any]:
    from tortoise import connections

    from fabcom.db import close_database, open_database
    from fabcom.federation.handlers import Sender, load_handlers
    from fabcom.federation.mirror_models import MirrorItem
    from fabcom.inventory.services import seed_categories
    from fabcom.migrations_api import apply_migrations
    from fabcom.orgs.models import Organization
    from fabcom.settings import Settings

    var = Path(tempfile.mkdtemp(prefix="fabcom-bench-"))
    settings = Settings(var_dir=var, database_url=url, secret_key="bench")
    await apply_migrations(settings)
    await open_database(settings)
    await seed_categories()
    load_handlers()
    result: dict[str, Any] = {"backend": label}
    try:
        source = await Organization.create(slug="recyclerie-a", name="Recyclerie A")
        mirror_org = await Organization.create(slug="a-remote", name="A", is_local=False, remote_uri=A_ACTOR)
        sender = Sender(actor_uri=A_ACTOR, organization_id=mirror_org.id)
        counter = StatementCounter()
        counter.install()
        pages = activities(N_ITEMS)
        ingest_times, floor_times, statements = [], [], []
        if not settings.is_sqlite:
            pg = await asyncpg.connect(dsn(url))
            await seed_items(pg, source.id, N_ITEMS)
        for _ in range(ROUNDS):
            if not settings.is_sqlite:
                await MirrorItem.all().delete()
                floor_times.append(await floor(pg, source.id, mirror_org.id))
            await MirrorItem.all().delete()
            before = counter.count
            ingest_times.append(await ingest(pages, sender))
            statements.append(counter.count - before)
        assert await MirrorItem.all().count() == N_ITEMS
        result.update(
            items=N_ITEMS,
            pages=len(pages),
            floor_s=statistics.median(floor_times) if floor_times else None,
            ingest_s=statistics.median(ingest_times),
            ingest_statements=statistics.median(statements),
        )
        # Incremental: BIG already mirrored, CHANGED of them updated in one page.
        if not settings.is_sqlite:
            await MirrorItem.all().delete()
            await pg.execute("DELETE FROM fabcom_item")
            await seed_items(pg, source.id, BIG)
            await floor(pg, source.id, mirror_org.id)
            ids = [r["id"] for r in await pg.fetch("SELECT id FROM fabcom_item ORDER BY id LIMIT $1", CHANGED)]
            await pg.close()
        else:
            await ingest(activities(BIG), sender)
            ids = list(range(1, CHANGED + 1))
        incremental, inc_statements = [], []
        for r in range(ROUNDS):
            later = T0 + dt.timedelta(hours=r + 1)
            page = activities(CHANGED, start=ids[0], updated=later)
            before = counter.count
            incremental.append(await ingest(page, sender))
            inc_statements.append(counter.count - before)
        result.update(
            incremental_s=statistics.median(incremental), incremental_statements=statistics.median(inc_statements)
        )
        await connections.get("default").execute_query("SELECT 1")
    finally:
        await close_database()
    return result


async def main() -> None:
    results = []
    admin = await asyncpg.connect(dsn(ADMIN_URL))
    name = f"fabcom_bench_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        results.append(await run_backend(with_database(ADMIN_URL, name), "PostgreSQL"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    if os.environ.get("BENCH_SQLITE") == "1":
        path = Path(tempfile.mkdtemp(prefix="fabcom-bench-")) / "bench.sqlite3"
        results.append(await run_backend(f"sqlite://{path}", "SQLite"))
    print(
        f"{'backend':<11} {'items':>6} {'pages':>5} {'floor':>9} {'ingest':>9} {'×floor':>7} {'stmts':>6}"
        f" {'100/100k':>9} {'stmts':>6}"
    )
    for r in results:
        ratio = f"{r['ingest_s'] / r['floor_s']:.1f}" if r["floor_s"] else "–"
        floor_text = f"{r['floor_s'] * 1000:.0f} ms" if r["floor_s"] else "–"
        print(
            f"{r['backend']:<11} {r['items']:>6} {r['pages']:>5} {floor_text:>9} {r['ingest_s'] * 1000:>6.0f} ms"
            f" {ratio:>7} {r['ingest_statements']:>6.0f} {r['incremental_s'] * 1000:>6.1f} ms"
            f" {r['incremental_statements']:>6.0f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
