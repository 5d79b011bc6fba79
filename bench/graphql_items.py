"""The GraphQL items page on 100,000 items in PostgreSQL, three ways, in one run:

(a) the floor: asyncpg, the same page as one JOIN plus the photos and the count, encoded
    with orjson, in-process (no HTTP);
(b) fabcom: ``items(first: 100)`` with organization, category, location and photos, over
    HTTP through ``fabcom serve``, at concurrency 1 and 8;
(c) PostGraphile 4 (npm ``postgraphile@4``, pointed at the same database) on the
    equivalent query, when ``node_modules/.bin/postgraphile`` is found (set
    ``BENCH_POSTGRAPHILE`` to its path).

A series reads the same 100 items again by their global ids, ``nodes(ids: [...])`` at
concurrency 1, to compare with the page. A fourth series sends the floor's page and fabcom's one after the other, request by
request, so that the ratio of their p50s is taken over the same minutes (the machine's
speed drifts between series). Every answer's body is checked (GraphQL answers 200 even
when it fails). Each fabcom and
PostGraphile series also reports the server process's CPU time per request (user +
system, from ``/proc``), which holds better than wall-clock times on a busy machine.
Settings:
``FABCOM_BENCH_POSTGRES_URL`` (a server where the user may create databases),
``BENCH_ITEMS`` (100000), ``BENCH_REQUESTS`` (400 per series).
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson

ADMIN_URL = os.environ.get("FABCOM_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
N_ITEMS = int(os.environ.get("BENCH_ITEMS", "100000"))
N_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "400"))
ROOT = Path(__file__).resolve().parent.parent

FABCOM_QUERY = """{ items(first: 100) { totalCount edges { cursor node { id title quantity unit
  organization { name slug } category { code labelFr } location { name } photos { url } } }
  pageInfo { hasNextPage endCursor } } }"""

# The same page without totalCount: fabcom then skips the COUNT(*), the dearest part here.
FABCOM_QUERY_PAGE = FABCOM_QUERY.replace("{ items(first: 100) { totalCount", "{ items(first: 100) {")

# The same items (the first 100) read again by their global ids, as a sync tool refreshing
# what it holds does: nodes(ids:) should cost what the page costs.
NODES_QUERY = (
    "{ nodes(ids: ["
    + ", ".join('"' + base64.b64encode(f"Item:{n}".encode()).decode() + '"' for n in range(1, 101))
    + "]) { ... on Item { id title quantity unit organization { name slug } category { code labelFr }"
    " location { name } photos { url } } } }"
)

POSTGRAPHILE_QUERY = """{ allFabcomItems(first: 100, orderBy: ID_ASC, condition: {visibility: "public"}) {
  totalCount edges { cursor node { id title quantity unit
  fabcomOrganizationByOrganizationId { name slug } fabcomCategoryByCategoryId { code labelFr }
  fabcomLocationByLocationId { name } fabcomAttachmentsByItemId { nodes { storedName } } } }
  pageInfo { hasNextPage endCursor } } }"""

FLOOR_PAGE = """SELECT i.id, i.title, i.quantity, i.unit, o.name AS org_name, o.slug, c.code, c.label_fr,
  l.name AS location FROM fabcom_item i JOIN fabcom_organization o ON o.id = i.organization_id
  LEFT JOIN fabcom_category c ON c.id = i.category_id LEFT JOIN fabcom_location l ON l.id = i.location_id
  WHERE i.visibility = 'public' AND i.deleted_at IS NULL ORDER BY i.id LIMIT 101"""


def dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def summary(name: str, latencies: list[float], wall: float, cpu_s: float | None = None) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "name": name,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "rps": len(ordered) / wall,
        "cpu_ms": None if cpu_s is None else cpu_s / len(ordered) * 1000,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def seed(url: str) -> None:
    """Migrate with fabcom, then 100k public items in 20 organizations, one photo in three."""
    env = {**os.environ, "FABCOM_DATABASE_URL": url, "FABCOM_VAR_DIR": tempfile.mkdtemp()}
    subprocess.run([sys.executable, "-m", "fabcom", "migrate"], env=env, check=True, capture_output=True)
    from fabcom.db import close_database, open_database
    from fabcom.inventory.services import seed_categories
    from fabcom.settings import Settings

    settings = Settings(database_url=url, secret_key="bench", var_dir=Path(env["FABCOM_VAR_DIR"]))
    await open_database(settings)
    await seed_categories()
    await close_database()
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.execute(
            "INSERT INTO fabcom_organization (slug, name, kind, description, address, postal_code, city, country,"
            " email, website, is_local, created_at, updated_at) SELECT 'org-' || n, 'Organisation ' || n, 'other',"
            " '', '', '', 'Lyon', 'FR', '', '', true, now(), now() FROM generate_series(1, 20) n"
        )
        await conn.execute(
            "INSERT INTO fabcom_location (organization_id, name, created_at, updated_at)"
            " SELECT o.id, 'Réserve ' || n, now(), now() FROM fabcom_organization o, generate_series(1, 3) n"
        )
        await conn.execute(
            "INSERT INTO fabcom_item (organization_id, title, description, category_id, location_id, unit, quantity,"
            " condition, status, visibility, sharing_modes, attributes, created_at, updated_at)"
            " SELECT 1 + n % 20, 'Objet ' || n, 'Description de l''objet ' || n,"
            " (SELECT id FROM fabcom_category ORDER BY id LIMIT 1 OFFSET n % 20),"
            " (SELECT id FROM fabcom_location ORDER BY id LIMIT 1 OFFSET n % 60),"
            f" 'piece', 1 + n % 5, 'good', 'available', 'public', '[\"give\"]', '{{}}', now(), now()"
            f" FROM generate_series(1, {N_ITEMS}) n"
        )
        await conn.execute(
            "INSERT INTO fabcom_attachment (organization_id, item_id, original_name, stored_name, content_type,"
            " size, sha256, position, created_at) SELECT organization_id, id, 'photo.jpg', id || '.jpg',"
            " 'image/jpeg', 1000, repeat('0', 64), 0, now() FROM fabcom_item WHERE id % 3 = 0"
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def floor(url: str, with_total: bool) -> dict[str, Any]:
    pool = await asyncpg.create_pool(dsn(url), min_size=1, max_size=1)
    page = floor_page(pool, with_total)
    for _ in range(50):
        await page()
    latencies = []
    start = time.perf_counter()
    for _ in range(N_REQUESTS):
        t = time.perf_counter()
        body = await page()
        latencies.append(time.perf_counter() - t)
    wall = time.perf_counter() - start
    assert len(orjson.loads(body)["data"]["items"]["edges"]) == 100
    await pool.close()
    label = "JOIN + photos + count" if with_total else "JOIN + photos, no count"
    return summary(f"floor: asyncpg {label} + orjson (in-process)", latencies, wall)


def floor_page(pool: asyncpg.Pool, with_total: bool) -> Any:
    """The floor's page: one JOIN, the photos, the count when asked, orjson."""

    async def page() -> bytes:
        async with pool.acquire() as conn:
            total = None
            if with_total:
                total = await conn.fetchval(
                    "SELECT count(*) FROM fabcom_item WHERE visibility = 'public' AND deleted_at IS NULL"
                )
            rows = await conn.fetch(FLOOR_PAGE)
            ids = [r["id"] for r in rows[:100]]
            photos: dict[int, list[dict[str, str]]] = {}
            for p in await conn.fetch(
                "SELECT item_id, stored_name FROM fabcom_attachment WHERE item_id = ANY($1::int[])", ids
            ):
                photos.setdefault(p["item_id"], []).append({"url": f"/uploads/{p['stored_name']}"})
        edges = [
            {
                "node": {
                    "id": r["id"],
                    "title": r["title"],
                    "quantity": str(r["quantity"]),
                    "unit": r["unit"],
                    "organization": {"name": r["org_name"], "slug": r["slug"]},
                    "category": {"code": r["code"], "labelFr": r["label_fr"]},
                    "location": {"name": r["location"]},
                    "photos": photos.get(r["id"], []),
                }
            }
            for r in rows[:100]
        ]
        return orjson.dumps({"data": {"items": {"totalCount": total, "edges": edges}}})

    return page


async def interleaved(url: str, endpoint: str, pid: int) -> list[dict[str, Any]]:
    """The floor's page and fabcom's (no totalCount, c=1) one after the other, request by
    request: both p50s come from the same minutes of a machine whose speed drifts (on the
    shared development machine, ±20 % between runs a minute apart), so their ratio holds."""
    pool = await asyncpg.create_pool(dsn(url), min_size=1, max_size=1)
    page = floor_page(pool, with_total=False)
    floor_times: list[float] = []
    fabcom_times: list[float] = []
    async with httpx.AsyncClient(timeout=60) as client:

        async def fabcom() -> None:
            response = await client.post(endpoint, json={"query": FABCOM_QUERY_PAGE})
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, body
            fabcom_page_ok(body)

        for _ in range(30):
            await page()
            await fabcom()
        start, cpu_start = time.perf_counter(), cpu_seconds(pid)
        for _ in range(N_REQUESTS):
            t = time.perf_counter()
            await page()
            floor_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            await fabcom()
            fabcom_times.append(time.perf_counter() - t)
        wall, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu_start
    await pool.close()
    return [
        summary("interleaved: floor, no count (in-process)", floor_times, wall),
        summary("interleaved: fabcom items(first: 100), no totalCount, c=1", fabcom_times, wall, cpu),
    ]


async def load(name: str, url: str, query: str, concurrency: int, check: Any, pid: int) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:

        async def one() -> float:
            t = time.perf_counter()
            response = await client.post(url, json={"query": query})
            elapsed = time.perf_counter() - t
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, body
            check(body)
            return elapsed

        for _ in range(30):
            await one()
        latencies: list[float] = []
        remaining = N_REQUESTS

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                latencies.append(await one())

        start, cpu_start = time.perf_counter(), cpu_seconds(pid)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu_start
    return summary(f"{name}, c={concurrency}", latencies, wall, cpu)


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def fabcom_page_ok(body: dict[str, Any]) -> None:
    assert len(body["data"]["items"]["edges"]) == 100


def fabcom_nodes_ok(body: dict[str, Any]) -> None:
    assert len(body["data"]["nodes"]) == 100 and all(body["data"]["nodes"])


def postgraphile_page_ok(body: dict[str, Any]) -> None:
    assert len(body["data"]["allFabcomItems"]["edges"]) == 100


async def main() -> None:
    name = f"fabcom_bench_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(dsn(ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(ADMIN_URL, name)
    results: list[dict[str, Any]] = []
    servers: list[subprocess.Popen[bytes]] = []
    try:
        print(f"seeding {N_ITEMS:,} items into {name}…", flush=True)
        await seed(url)
        results.append(await floor(url, with_total=True))
        results.append(await floor(url, with_total=False))
        port = free_port()
        env = {
            **os.environ,
            "FABCOM_DATABASE_URL": url + "?maxsize=10",
            "FABCOM_VAR_DIR": tempfile.mkdtemp(),
            "FABCOM_SECRET_KEY": "bench",
            "FABCOM_API_RATE_LIMIT_ANONYMOUS": "1000000000",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "fabcom", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(server)
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        for concurrency in (1, 8):
            results.append(
                await load(
                    "fabcom items(first: 100) + totalCount",
                    f"http://127.0.0.1:{port}/graphql",
                    FABCOM_QUERY,
                    concurrency,
                    fabcom_page_ok,
                    server.pid,
                )
            )
        results.extend(await interleaved(url, f"http://127.0.0.1:{port}/graphql", server.pid))
        for concurrency in (1, 8):
            results.append(
                await load(
                    "fabcom items(first: 100), no totalCount",
                    f"http://127.0.0.1:{port}/graphql",
                    FABCOM_QUERY_PAGE,
                    concurrency,
                    fabcom_page_ok,
                    server.pid,
                )
            )
        results.append(
            await load(
                "fabcom nodes(ids:) of the same 100 items, no totalCount",
                f"http://127.0.0.1:{port}/graphql",
                NODES_QUERY,
                1,
                fabcom_nodes_ok,
                server.pid,
            )
        )
        binary = os.environ.get("BENCH_POSTGRAPHILE") or shutil.which("postgraphile")
        if binary:
            pg_port = free_port()
            pgl = subprocess.Popen(
                [binary, "-c", url, "--host", "127.0.0.1", "--port", str(pg_port), "--disable-query-log"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            servers.append(pgl)
            wait_for(f"http://127.0.0.1:{pg_port}/graphql", pgl)
            for concurrency in (1, 8):
                results.append(
                    await load(
                        "PostGraphile 4",
                        f"http://127.0.0.1:{pg_port}/graphql",
                        POSTGRAPHILE_QUERY,
                        concurrency,
                        postgraphile_page_ok,
                        pgl.pid,
                    )
                )
        else:
            print("PostGraphile not found: set BENCH_POSTGRAPHILE to node_modules/.bin/postgraphile", flush=True)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(
        "\n| series | p50 ms | p99 ms | req/s | server CPU ms / req | p50 / floor |\n| --- | --: | --: | --: | --: | --: |"
    )
    for r in results:
        if r["name"].startswith("interleaved"):  # against the floor measured beside it
            base = next(x for x in results if x["name"].startswith("interleaved: floor"))["p50_ms"]
        else:
            base = results[1 if "no count" in r["name"] or "no totalCount" in r["name"] else 0]["p50_ms"]
        cpu = "" if r["cpu_ms"] is None else f"{r['cpu_ms']:.2f}"
        print(
            f"| {r['name']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['rps']:.1f} | {cpu} | {r['p50_ms'] / base:.1f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
