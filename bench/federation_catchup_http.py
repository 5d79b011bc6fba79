"""Catch-up benchmark (issue 8), on PostgreSQL: B reads A's paged outbox over HTTP and
mirrors what A shares.

- **fabcom**: A is a real ``fabcom serve`` process on loopback with 10,000 shared items
  in its outbox; B (this process, its own database) runs ``catch_up_partner`` end to end:
  signed GETs of pages of ``outbox.PAGE_SIZE`` activities, A checks each signature (authorized fetch), B checks
  each activity's origin and mirrors the page with one batch upsert.
- **floor**: the same rows exported straight from A's database with asyncpg, parsed with
  orjson and written into B's mirror with one bulk upsert (fedo's ``ingest``).
- **raw floor**: the issue's floor, trusting every field: the rows exported with asyncpg,
  parsed with orjson, one bulk upsert without validation.
- **incremental**: 100 changed items out of 100,000 already caught up.

Statements executed on B are counted (they grow with the number of pages, not items).
``FABCOM_BENCH_PROFILE=1`` profiles one catch-up with pyinstrument on both sides: B in
this process, A by running ``fabcom serve`` under pyinstrument (its report is written to
``FABCOM_BENCH_PROFILE_A``, default ``bench-profile-a.txt``, when A stops).

Run: ``FABCOM_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.federation_catchup_http``
(falls back to ``FABCOM_TEST_POSTGRES_URL``). Creates and drops its own two databases."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

ITEMS = int(os.environ.get("BENCH_ITEMS", "10000"))
TOTAL = int(os.environ.get("BENCH_TOTAL", "100000"))
CHANGED = 100
PROFILE_A = os.environ.get("FABCOM_BENCH_PROFILE_A", "bench-profile-a.txt")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def documents(first: int, count: int, actor: str, base: str, kind: str = "Create") -> list[dict[str, Any]]:
    from fabcom.federation import vocab
    from fabcom.federation.models import Audience

    now = dt.datetime.now(dt.UTC)
    out = []
    for pk in range(first, first + count):
        obj = vocab.item_object(
            pk=pk,
            actor=actor,
            title=f"Objet {pk}",
            description=f"Un objet partagé numéro {pk}, en bon état.",
            category_code=None,
            quantity_value=Decimal(pk % 7 + 1),
            unit="piece",
            condition="good",
            status="available",
            sharing_modes=["give"],
            audience=Audience.PARTNERS,
            published=now,
            updated=now,
            base=base,
        )
        out.append(vocab.activity(kind, actor=actor, obj=obj, audience=Audience.PARTNERS, published=now, base=base))
    return out


async def add_outbox(dsn: str, organization_id: int, activities: list[dict[str, Any]]) -> None:
    """Write A's outbox rows straight into its database (as ``publish`` would, minus the jobs)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = [
            (
                organization_id,
                a["id"],
                a["type"],
                a["object"]["id"],
                "partners",
                "[]",
                orjson.dumps(a).decode(),
                dt.datetime.now(dt.UTC),
            )
            for a in activities
        ]
        await conn.copy_records_to_table(
            "fabcom_outbox_activity",
            records=rows,
            columns=[
                "organization_id",
                "activity_uri",
                "type",
                "object_uri",
                "audience",
                "recipients",
                "payload",
                "published_at",
            ],
        )
        # Fresh statistics, as a grown outbox has: right after a bulk load, stale ones could
        # make A sort the whole outbox for its first page (and time the catch-up out).
        await conn.execute("ANALYZE fabcom_outbox_activity")
    finally:
        await conn.close()


def unnest_upsert_sql() -> str:
    """The raw floor's statement: the bulk upsert fabcom used before 2026-12-07 (one array
    per column, unnested), kept here unchanged so that figures stay comparable."""
    from fabcom.federation.mirror import ITEM_COLUMNS

    names = list(ITEM_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in names if c not in ("uri", "organization_id"))
    arrays = ", ".join(f"${i}::{'text' if t == 'jsonb' else t}[]" for i, t in enumerate(ITEM_COLUMNS.values(), 1))
    select = ", ".join(f"t.{c}::jsonb" if t == "jsonb" else f"t.{c}" for c, t in ITEM_COLUMNS.items())
    return (
        f"INSERT INTO fabcom_mirror_item ({', '.join(names)}) SELECT {select}"
        f" FROM unnest({arrays}) AS t({', '.join(names)})"
        f" ON CONFLICT (uri) DO UPDATE SET {updates}"
        " WHERE fabcom_mirror_item.organization_id = excluded.organization_id"
        " AND fabcom_mirror_item.remote_updated_at <= excluded.remote_updated_at"
    )


async def raw_floor(dsn: str, source_org: int, mirror_org: int) -> None:
    """The issue's floor: A's rows exported with asyncpg, parsed with orjson, written into
    B's mirror with one bulk upsert, trusting every field (no pydantic, no origin check, no nh3)."""
    from tortoise import connections
    from tortoise.transactions import in_transaction

    from fabcom.federation.mirror import ITEM_COLUMNS

    conn = await asyncpg.connect(dsn)
    try:
        raw = await conn.fetch(
            "SELECT payload::text FROM fabcom_outbox_activity WHERE organization_id = $1 ORDER BY id", source_org
        )
    finally:
        await conn.close()
    now = dt.datetime.now(dt.UTC)
    rows = []
    for record in raw:
        obj = orjson.loads(record[0])["object"]
        resource = obj["resource"]
        rows.append(
            {
                "uri": obj["id"],
                "organization_id": mirror_org,
                "title": obj["name"],
                "content": obj["content"],
                "search_text": f"{obj['name']} {obj['content']}".lower(),
                "category_code": None,
                "quantity": Decimal(resource["accountingQuantity"]["hasNumericalValue"]),
                "unit": "piece",
                "condition": resource.get("condition", ""),
                "status": resource.get("itemStatus", "available"),
                "sharing_modes": '["give"]',
                "visibility": "partners",
                "url": obj.get("url", ""),
                "image_url": "",
                "remote_updated_at": dt.datetime.fromisoformat(obj["updated"]),
                "document": orjson.dumps(obj).decode(),
                "received_at": now,
            }
        )
    columns = [[row[c] for row in rows] for c in ITEM_COLUMNS]
    async with in_transaction():
        await connections.get("default").execute_query(unnest_upsert_sql(), columns)


def cpu_ms(pid: int | None = None) -> float:
    """CPU time (user + system) used so far by this process, or by process ``pid``: unlike
    wall time, it does not depend on how busy the shared machine is."""
    if pid is None:
        return time.process_time() * 1000
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


class StatementCounter:
    """Counts the statements B's connection executes."""

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        from tortoise.backends.asyncpg.client import AsyncpgDBClient

        counter = self
        for name in ("execute_query", "execute_insert", "execute_many", "execute_script", "execute_query_dict"):
            original = getattr(AsyncpgDBClient, name)

            def wrapped(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
                counter.count += 1
                return __original(self, *args, **kwargs)

            setattr(AsyncpgDBClient, name, wrapped)


async def main() -> None:
    from tortoise import Tortoise

    from fabcom.db import close_database, open_database
    from fabcom.federation import config, remote
    from fabcom.federation.catchup import catch_up
    from fabcom.federation.handlers import Sender
    from fabcom.federation.keys import generate_keypair
    from fabcom.federation.mirror import ingest
    from fabcom.federation.mirror_models import MirrorItem
    from fabcom.federation.models import ActorKey, RemoteActor
    from fabcom.federation.outbox import PAGE_SIZE
    from fabcom.inventory.services import seed_categories
    from fabcom.migrations_api import apply_migrations
    from fabcom.network.models import Partnership, PartnershipStatus
    from fabcom.orgs.models import Organization
    from fabcom.settings import Settings
    from fabcom.testing.processes import free_port
    from fabcom.testing.services import _asyncpg_dsn, create_postgres_database, drop_postgres_database

    server = os.environ.get("FABCOM_BENCH_POSTGRES_URL") or os.environ.get("FABCOM_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("set FABCOM_BENCH_POSTGRES_URL to a PostgreSQL server where databases may be created")
    url_a = await create_postgres_database(server, "fabcom_bench_a")
    url_b = await create_postgres_database(server, "fabcom_bench_b")
    port_a = free_port()
    base_a, base_b = f"http://127.0.0.1:{port_a}", "http://127.0.0.1:9"  # B never serves: A knows its key
    actor_a, actor_b = f"{base_a}/ap/o/atelier-a", f"{base_b}/ap/o/fablab-b"
    private_b, public_b = generate_keypair()
    process = None
    with tempfile.TemporaryDirectory() as tmp:
        settings_a = Settings(var_dir=Path(tmp) / "a", database_url=url_a, secret_key="a", base_url=base_a)
        settings_b = Settings(
            var_dir=Path(tmp) / "b",
            database_url=url_b,
            secret_key="b",
            base_url=base_b,
            federation_allow_private_addresses=True,
        )
        try:
            # A: the organization, B as an accepted partner whose key A already has, the outbox.
            await apply_migrations(settings_a)
            await open_database(settings_a)
            org_a = await Organization.create(slug="atelier-a", name="Atelier A")
            mirror_b = await Organization.create(slug="fablab-b-mirror", name="B", is_local=False, remote_uri=actor_b)
            await RemoteActor.create(
                uri=actor_b,
                host="127.0.0.1:9",
                organization=mirror_b,
                inbox=f"{actor_b}/inbox",
                key_id=f"{actor_b}#main-key",
                public_key_pem=public_b,
                fetched_at=dt.datetime.now(dt.UTC),
            )
            await Partnership.create(organization=mirror_b, partner=org_a, status=PartnershipStatus.ACCEPTED)
            await close_database()
            dsn_a = _asyncpg_dsn(url_a)
            await add_outbox(dsn_a, org_a.id, documents(1, ITEMS, actor_a, base_a))

            env = {
                **os.environ,
                "FABCOM_DATABASE_URL": url_a + "?maxsize=20",
                "FABCOM_VAR_DIR": str(Path(tmp) / "a"),
                "FABCOM_SECRET_KEY": "a",
                "FABCOM_BASE_URL": base_a,
                "FABCOM_REDIS_URL": "",
                "FABCOM_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "1",
            }
            profile = bool(os.environ.get("FABCOM_BENCH_PROFILE"))
            under = ["-m", "pyinstrument", "-r", "text", "-o", PROFILE_A] if profile else []
            process = subprocess.Popen(
                [sys.executable, *under, "-m", "fabcom", "serve", "--port", str(port_a)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            async with httpx.AsyncClient(timeout=1) as http:
                for _ in range(300):
                    try:
                        if (await http.get(f"{base_a}/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)

            # B: its organization and key, A's mirror (fetched live from A), the partnership.
            await apply_migrations(settings_b)
            await open_database(settings_b)
            config.use(settings_b)
            await seed_categories()
            org_b = await Organization.create(slug="fablab-b", name="Fablab B")
            await ActorKey.create(owner=f"org:{org_b.id}", private_key_pem=private_b, public_key_pem=public_b)
            actor = await remote.fetch_actor(actor_a)
            await Partnership.create(
                organization=org_b, partner_id=actor.organization_id, status=PartnershipStatus.ACCEPTED
            )
            sender = Sender(actor_a, actor.organization_id)
            counter = StatementCounter()
            counter.install()

            async def reset() -> None:
                await MirrorItem.all().delete()
                await RemoteActor.filter(id=actor.id).update(catch_up_next="")

            if profile:
                from pyinstrument import Profiler

                await reset()
                profiler = Profiler(async_mode="enabled")
                profiler.start()
                await catch_up(actor.organization_id)
                profiler.stop()
                print("--- B: one catch-up of", ITEMS, "items")
                print(profiler.output_text(unicode=False, color=False, show_all=False))

            fabcom_ms, floor_ms, raw_ms, statements = [], [], [], []
            cpu_a, cpu_b, cpu_floor, cpu_raw = [], [], [], []
            for _ in range(ROUNDS):
                await reset()
                before = counter.count
                start, a0, b0 = time.perf_counter(), cpu_ms(process.pid), cpu_ms()
                applied = await catch_up(actor.organization_id)
                fabcom_ms.append((time.perf_counter() - start) * 1000)
                cpu_a.append(cpu_ms(process.pid) - a0)
                cpu_b.append(cpu_ms() - b0)
                statements.append(counter.count - before)
                assert applied == ITEMS and await MirrorItem.all().count() == ITEMS, applied

                await reset()
                start, b0 = time.perf_counter(), cpu_ms()
                conn = await asyncpg.connect(dsn_a)
                try:
                    raw = await conn.fetch(
                        "SELECT payload::text FROM fabcom_outbox_activity WHERE organization_id = $1 ORDER BY id",
                        org_a.id,
                    )
                finally:
                    await conn.close()
                activities = [orjson.loads(r[0]) for r in raw]
                await ingest(activities, sender)
                floor_ms.append((time.perf_counter() - start) * 1000)
                cpu_floor.append(cpu_ms() - b0)
                assert await MirrorItem.all().count() == ITEMS

                await reset()
                start, b0 = time.perf_counter(), cpu_ms()
                await raw_floor(dsn_a, org_a.id, actor.organization_id)
                raw_ms.append((time.perf_counter() - start) * 1000)
                cpu_raw.append(cpu_ms() - b0)
                assert await MirrorItem.all().count() == ITEMS

            pages = -(-ITEMS // PAGE_SIZE)
            print(f"catch-up of {ITEMS:,} shared items, median of {ROUNDS} rounds (PostgreSQL)")
            f, o, r = statistics.median(fabcom_ms), statistics.median(floor_ms), statistics.median(raw_ms)
            print("| path | time | × floor with validation | × raw floor | statements on B |")
            print("| --- | ---: | ---: | ---: | ---: |")
            print(f"| raw floor: asyncpg export + orjson + one bulk upsert, no validation | {r:.0f} ms | – | 1.0 | 1 |")
            print(f"| floor with validation: the same through `mirror.ingest` | {o:.0f} ms | 1.0 | {o / r:.1f} | – |")
            print(
                f"| fabcom: paged outbox over HTTP ({pages} pages of {PAGE_SIZE}) | {f:.0f} ms | {f / o:.1f} |"
                f" {f / r:.1f} | {statistics.median(statements):.0f} |"
            )
            med = statistics.median
            print(
                f"CPU time, median: fabcom A {med(cpu_a):.0f} ms + B {med(cpu_b):.0f} ms;"
                f" floor with validation {med(cpu_floor):.0f} ms; raw floor {med(cpu_raw):.0f} ms"
                " (PostgreSQL's own CPU not counted)"
            )

            # Incremental: 100 changes out of TOTAL items already caught up.
            await reset()
            await add_outbox(dsn_a, org_a.id, documents(ITEMS + 1, TOTAL - ITEMS, actor_a, base_a))
            start = time.perf_counter()
            applied = await catch_up(actor.organization_id, max_pages=10_000)
            full_ms = (time.perf_counter() - start) * 1000
            incremental_ms, incremental_statements, incremental_cpu = [], [], []
            for round_ in range(ROUNDS):
                changed = documents(1 + round_ * CHANGED, CHANGED, actor_a, base_a, kind="Update")
                await add_outbox(dsn_a, org_a.id, changed)
                before = counter.count
                start, a0, b0 = time.perf_counter(), cpu_ms(process.pid), cpu_ms()
                applied = await catch_up(actor.organization_id)
                incremental_ms.append((time.perf_counter() - start) * 1000)
                incremental_cpu.append(cpu_ms(process.pid) - a0 + cpu_ms() - b0)
                incremental_statements.append(counter.count - before)
                assert applied == CHANGED, applied
            print(f"| first catch-up of {TOTAL:,} items | {full_ms:.0f} ms | – | – |")
            print(
                f"| incremental: {CHANGED} changed of {TOTAL:,} | {statistics.median(incremental_ms):.0f} ms | – |"
                f" {statistics.median(incremental_statements):.0f} |"
            )
            print(f"incremental CPU time A + B, median: {statistics.median(incremental_cpu):.0f} ms")
        finally:
            if process is not None:
                process.send_signal(signal.SIGINT)  # a clean stop (pyinstrument writes its report)
                process.wait(timeout=15)
            await Tortoise.close_connections()
            config.use(None)
            await drop_postgres_database(url_a)
            await drop_postgres_database(url_b)


if __name__ == "__main__":
    asyncio.run(main())
