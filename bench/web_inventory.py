"""Benchmark of the inventory page (issue 5): ``GET`` of 100 rows as a full page and as
the htmx fragment, on PostgreSQL with 100,000 items, against a floor of the same rows
fetched with asyncpg and rendered by the same Jinja2 template; and live search over
~10,000 matches (first and a deep page) against the raw query.

fabcom's pages are measured as the server runs them, one ASGI call each with the
session's cookie (no HTTP client's work, as the floor has none); the same pages through
httpx's in-process client are printed too, for comparison with earlier runs.

Each page is compared with the floor rendered by its own template: the full page with
``item_list.html`` (the layout and filter form around the rows, their data given as it is,
not read), the fragment with ``_item_results.html``. Sessions 1 to 7 compared the full page
with the fragment's floor; that figure is printed too. ``BENCH_RUNS`` (default 30) sets the
number of requests per p50.

Run: ``FABCOM_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.web_inventory``
(falls back to ``FABCOM_TEST_POSTGRES_URL``). Creates and drops its own database."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx

ITEMS = 100_000
RUNS = int(os.environ.get("BENCH_RUNS", "30"))  # p50 of this many requests per measure


CPU: dict[int, float] = {}  # id(work) → median CPU milliseconds of this process, from the last ``_p50``


async def _p50(works: list[Callable[[], Awaitable[Any]]], runs: int = RUNS) -> list[float]:
    """Median milliseconds of each work, run interleaved so that a busy machine slows
    them all alike. The median CPU time this process spent on each (the client, the app
    and asyncpg; not PostgreSQL's) goes to ``CPU``: it moves less with the load."""
    for work in works:
        await work()  # warm up
    timings: list[list[float]] = [[] for _ in works]
    cpu: list[list[float]] = [[] for _ in works]
    for _ in range(runs):
        for index, work in enumerate(works):
            start, start_cpu = time.perf_counter(), time.process_time()
            await work()
            timings[index].append(time.perf_counter() - start)
            cpu[index].append(time.process_time() - start_cpu)
    CPU.update({id(work): statistics.median(c) * 1000 for work, c in zip(works, cpu, strict=True)})
    return [statistics.median(t) * 1000 for t in timings]


class StatementCounter:
    """Counts the SQL statements asyncpg sends while it is on, and the round trips: a
    statement sent while none is in flight starts one (statements sent together with
    ``asyncio.gather`` share theirs)."""

    METHODS = ("fetch", "fetchrow", "fetchval", "execute", "executemany")

    def __init__(self) -> None:
        self.statements = self.round_trips = self._in_flight = 0

    def __enter__(self) -> StatementCounter:
        from asyncpg.connection import Connection

        self._saved = {name: getattr(Connection, name) for name in self.METHODS}
        for name, method in self._saved.items():
            setattr(Connection, name, self._counted(method))
        return self

    def __exit__(self, *exc: object) -> None:
        from asyncpg.connection import Connection

        for name, method in self._saved.items():
            setattr(Connection, name, method)

    def _counted(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.statements += 1
            self.round_trips += self._in_flight == 0
            self._in_flight += 1
            try:
                return await method(*args, **kwargs)
            finally:
                self._in_flight -= 1

        return counted


async def main() -> None:
    from fabcom import clock
    from fabcom.app import create_app
    from fabcom.auth.models import User
    from fabcom.auth.services import open_session
    from fabcom.db import close_database, open_database
    from fabcom.inventory.services import seed_categories
    from fabcom.members.models import Membership, Role
    from fabcom.migrations_api import apply_migrations
    from fabcom.orgs.models import Organization
    from fabcom.permissions import Action
    from fabcom.settings import Settings
    from fabcom.testing.services import _asyncpg_dsn, create_postgres_database, drop_postgres_database
    from fabcom.web import inventory, item_list
    from fabcom.web.templating import environment

    server = os.environ.get("FABCOM_BENCH_POSTGRES_URL") or os.environ.get("FABCOM_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("set FABCOM_BENCH_POSTGRES_URL to a PostgreSQL server where databases may be created")
    url = await create_postgres_database(server, "fabcom_bench")
    settings = Settings(var_dir=Path(tempfile.mkdtemp()), database_url=url, secret_key="bench")
    try:
        await apply_migrations(settings)
        await open_database(settings)
        await seed_categories()
        org = await Organization.create(slug="bench", name="Bench")
        user = await User.create(email="bench@example.org", display_name="Bench")
        await Membership.create(user=user, organization=org, role=Role.STAFF, valid_from=clock.today())
        raw = await asyncpg.connect(_asyncpg_dsn(url))
        await raw.execute(
            f"""INSERT INTO fabcom_item (organization_id, title, description, unit, quantity, condition, status,
                visibility, sharing_modes, attributes, created_at, updated_at)
            SELECT {org.id}, 'Objet ' || g || CASE WHEN g % 10 = 0 THEN ' chaise' ELSE '' END, '', 'piece', g % 7,
                'good', 'available', 'private', '[]', '{{}}', now() - g * interval '1 second', now() - g * interval '1 second'
            FROM generate_series(1, {ITEMS}) g"""
        )
        await raw.execute("ANALYZE")
        _session, key = await open_session(user)
        inventory.PAGE_SIZE = 100  # the page of 100 rows
        app = create_app(settings)
        cookie = f"fabcom_session={key}".encode()

        async def get(url: str, htmx: bool = False) -> str:
            """The app's answer to a GET, called as the server calls it (one ASGI call): what
            the floor is compared with is the server's work, not an HTTP client's."""
            path, _, query = url.partition("?")
            headers = [(b"host", b"bench"), (b"cookie", cookie)] + ([(b"hx-request", b"true")] if htmx else [])
            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000), "server": ("bench", 80),
            }  # fmt: skip
            answer: dict[str, Any] = {"body": b""}

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    answer["status"] = message["status"]
                elif message["type"] == "http.response.body":
                    answer["body"] += message.get("body", b"")

            await app(scope, receive, send)
            assert answer["status"] == 200, answer
            return answer["body"].decode()

        # The same requests through httpx's in-process client, whose own work (building the
        # request, reading the answer) is counted too: the figures of sessions 1 to 7.
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
        client.cookies.set("fabcom_session", key)
        base = f"/o/{org.slug}/items"

        async def full() -> None:
            assert "</html>" in await get(base)

        async def fragment() -> None:
            assert "<table" in await get(base, htmx=True)

        async def full_httpx() -> None:
            assert (await client.get(base)).status_code == 200

        async def fragment_httpx() -> None:
            assert (await client.get(base, headers={"HX-Request": "true"})).status_code == 200

        fragment_template = environment("fr").get_template("_item_results.html")
        page_template = environment("fr").get_template("item_list.html")
        # What the full page shows around its rows (the layout, the filter form's choices),
        # given as it is, not read: the floor fetches the rows only.
        around_rows = {
            **await inventory.choices(org),
            "my_orgs": [org],
            "user": user,
            "principal": SimpleNamespace(is_instance_admin=False),
            "request": SimpleNamespace(url=SimpleNamespace(path=base, query="")),
            "csrf_token": "x" * 43,
            "can": {action.value.replace(".", "_"): True for action in Action},
            "module_menu": [],
            "flashes": [],
        }

        async def floor(where: str = "", after: tuple[Any, int] | None = None, page: bool = False) -> str:
            """The same page as fabcom's, straight from asyncpg: the keyset query for the
            page, rendered by the same template: the fragment's, which like fabcom's says
            "more than 100" from the 101st row; or with ``page`` the full page's, with the
            count capped at COUNT_CAP + 1 rows, as fabcom's full page counts. (Until session
            10 the fragment's floor counted too, which fabcom's fragment never does.)"""
            keyset = "AND (updated_at, id) < ($2, $3)" if after else ""
            rows = await raw.fetch(
                "SELECT id, title, quantity, unit, status, visibility FROM fabcom_item "
                f"WHERE organization_id = $1 AND deleted_at IS NULL AND status <> 'archived' {where} {keyset} "
                "ORDER BY updated_at DESC, id DESC LIMIT 101",
                org.id,
                *(after or ()),
            )
            items = [SimpleNamespace(**dict(r), category=None, location=None) for r in rows[:100]]
            total, more = len(items), len(rows) > 100
            if page:
                counted = await raw.fetchval(
                    "SELECT count(*) FROM (SELECT id FROM fabcom_item WHERE organization_id = $1 AND deleted_at IS NULL "
                    f"AND status <> 'archived' {where} LIMIT {inventory.COUNT_CAP + 1}) t",
                    org.id,
                )
                total, more = min(counted, inventory.COUNT_CAP), counted > inventory.COUNT_CAP
            context = {
                "items": items,
                "total": total,
                "more": more,
                "query": "",
                "next_query": "after=x",
                "previous_query": "",
                "org": org,
                "params": dict.fromkeys(inventory.FILTERS, ""),
            }
            if page:
                return page_template.render(**around_rows, **context)
            return fragment_template.render(**context)

        async def page_floor() -> None:
            await floor(page=True)

        # The floor's page is fabcom's page, but for the cursor and the CSRF token.
        ours, its = await get(base), await floor(page=True)
        assert abs(len(ours) - len(its)) < 0.02 * len(ours), (len(ours), len(its))

        for name, work in (("full page", full), ("htmx fragment", fragment)):
            await work()  # warm: the pool's connections opened, the category tree built
            with StatementCounter() as counter:
                await work()
            print(f"{name}: {counter.statements} SQL statements in {counter.round_trips} round trips")

        if os.environ.get("FABCOM_BENCH_PROFILE"):
            from pyinstrument import Profiler

            for name, work in (("full", full), ("fragment", fragment)):
                await work()
                profiler = Profiler(async_mode="enabled")
                profiler.start()
                for _ in range(20):
                    await work()
                profiler.stop()
                print(f"--- {name} (20 requests)")
                print(profiler.output_text(unicode=False, color=False, show_all=False))

        print(f"inventory, {ITEMS} items on PostgreSQL, p50 of {RUNS} runs (ms)")
        f, h, fl, pf, fx, hx = await _p50([full, fragment, floor, page_floor, full_httpx, fragment_httpx])
        cf, ch, cfl, cpf = CPU[id(full)], CPU[id(fragment)], CPU[id(floor)], CPU[id(page_floor)]
        print(
            f"  full page      {f:8.2f}   ({f / pf:.2f}× its floor; target ≤ 3×)  CPU {cf:.2f} ({cf / cpf:.2f}× floor)"
        )
        print(
            f"  htmx fragment  {h:8.2f}   ({h / f:.2f}× full page; target ≤ 0.6×; {h / fl:.2f}× its floor)"
            f"  CPU {ch:.2f} ({ch / cf:.2f}× full page)"
        )
        print(f"  floor, page    {pf:8.2f}   (asyncpg + the full page's template)  CPU {cpf:.2f}")
        print(f"  floor, rows    {fl:8.2f}   (asyncpg + the fragment's template)  CPU {cfl:.2f}")
        print(f"  full page against the rows' floor (the figure of sessions 1 to 7): {f / fl:.2f}×")
        print(
            f"  through httpx: full page {fx:.2f} ({fx / pf:.2f}× its floor, {fx / fl:.2f}× the rows'),"
            f" fragment {hx:.2f} ({hx / fx:.2f}× full page)"
        )

        # the cursor of page 90 of the search: the sort key of its 8,900th match
        # the same condition as fabcom's search (fabcom.gql.search): the full-text index
        where = "AND id IN (SELECT item_id FROM fabcom_item_search WHERE document @@ to_tsquery('simple', 'chaise:*'))"
        last = await raw.fetchrow(
            f"SELECT updated_at, id FROM fabcom_item WHERE organization_id = $1 AND deleted_at IS NULL {where} "
            "ORDER BY updated_at DESC, id DESC OFFSET 8899 LIMIT 1",
            org.id,
        )
        cursor = item_list.encode_cursor(SimpleNamespace(updated_at=last["updated_at"], id=last["id"]), "-updated")

        async def search(after: str | None) -> None:
            url = f"{base}?q=chaise" + (f"&after={cursor}" if after else "")
            assert "Objet" in await get(url, htmx=True)

        searches = [
            lambda: search(None),
            lambda: search(cursor),
            lambda: floor(where),
            lambda: floor(where, (last["updated_at"], last["id"])),
        ]
        s1, s2, r1, r2 = await _p50(searches)
        c1, c2 = CPU[id(searches[0])], CPU[id(searches[1])]
        print(f"live search 'chaise' (~{ITEMS // 10} matches)")
        print(f"  first page     {s1:8.2f}   ({s1 / r1:.2f}× raw keyset query; target ≤ 3×)  CPU {c1:.2f}")
        print(f"  page 90        {s2:8.2f}   ({s2 / r2:.2f}× raw keyset query; target ≤ 3×)  CPU {c2:.2f}")
        print(f"  raw, first     {r1:8.2f}")
        print(f"  raw, page 90   {r2:8.2f}")
        await client.aclose()
        await raw.close()
    finally:
        await close_database()
        await drop_postgres_database(url)


if __name__ == "__main__":
    asyncio.run(main())
