"""Start-up time and memory of ``fabcom serve`` (issue 9), on SQLite, no Redis, every
first-party module enabled, the demo data loaded:

- ``fabcom --help``: wall and CPU time (median of 7);
- time from exec to the first 200 on ``/healthz``, and to the first 200 of a GraphQL
  query (each the median of 3 fresh starts);
- resident memory (VmRSS of the single web process) idle after start-up, after 60 s of
  mixed load, and after 10,000 more mixed requests (the leak check: growth between the
  last two).

The mixed load, 8 concurrent clients: the dashboard, the inventory page and its htmx
search fragment, an item page, the members page, a GraphQL items query with a bearer
token, ``/healthz`` and ``/metrics``.

The floor: a bare Starlette application with one ``/healthz`` route under uvicorn,
started the same way; its starts are interleaved with fabcom's (floor, ``/healthz``,
GraphQL, three times), and fabcom's server CPU is also given as a ratio to the floor's,
which holds better than seconds on a busy machine.

fabcom's and its modules' bytecode is compiled first (``compileall``), as ``pip install``
and the Docker image do: an editable checkout run with ``PYTHONDONTWRITEBYTECODE=1``
would otherwise compile every source file at every start, which no installation does
(``BENCH_COMPILE=0`` measures that case).

Run: ``python -m bench.startup_memory`` (``BENCH_SOAK_S``, ``BENCH_REQUESTS`` to change
the load). Prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

FABCOM = [sys.executable, "-m", "fabcom"]
ROOT = Path(__file__).resolve().parent.parent
COMPILE = os.environ.get("BENCH_COMPILE", "1") != "0"
FLOOR_APP = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def healthz(request):
    return JSONResponse({"status": "ok"})

uvicorn.run(Starlette(routes=[Route("/healthz", healthz)]), port=int(sys.argv[1]), log_level="warning")
"""
MODULES = "bookings,ressourcerie"
STAFF = "lucas@recyclerie-du-canal.example"
PASSWORD = "fabcom-demo-2026"  # noqa: S105 - the demo accounts' published password
ORG = "recyclerie-du-canal"
GRAPHQL = {"query": "{ items(first: 20) { totalCount edges { node { id title quantity } } } }"}
SOAK_S = float(os.environ.get("BENCH_SOAK_S", "60"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10000"))
CLIENTS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    """CPU time (user + system) a process used so far: unlike wall time, the same on a
    busy machine as on an idle one."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def help_times(env: dict[str, str]) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(7):
        before = os.times()
        start = time.perf_counter()
        subprocess.run([*FABCOM, "--help"], env=env, capture_output=True, check=True)
        walls.append(time.perf_counter() - start)
        after = os.times()
        cpus.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
    return statistics.median(walls), statistics.median(cpus)


def start(env: dict[str, str], port: int, floor: bool = False) -> tuple[subprocess.Popen[bytes], float]:
    command = [sys.executable, "-c", FLOOR_APP, str(port)] if floor else [*FABCOM, "serve", "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, started


def demo_instance(env: dict[str, str]) -> str:
    """Migrate the instance of ``env`` and load the demo; returns a read token of its staff."""
    for args in (["migrate"], ["demo"]):
        subprocess.run([*FABCOM, *args], env=env, capture_output=True, check=True)
    return subprocess.run(
        [*FABCOM, "token", "create", STAFF, "--scope", "inventory:read", "--name", "bench"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def time_to_first_200(env: dict[str, str], token: str, what: str) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) from exec to the first 200 (``what``: "healthz",
    "graphql", or "floor": the bare Starlette application's /healthz)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process, started = start(env, port, floor=what == "floor")
    try:
        with httpx.Client(timeout=5) as http:
            while True:
                if process.poll() is not None:
                    raise RuntimeError("fabcom serve exited")
                try:
                    if what in ("healthz", "floor"):
                        response = http.get(base + "/healthz")
                    else:
                        response = http.post(
                            base + "/graphql", json=GRAPHQL, headers={"Authorization": f"Bearer {token}"}
                        )
                    if response.status_code == 200:
                        elapsed, cpu = time.perf_counter() - started, cpu_s(process.pid)
                        if what == "graphql" and "errors" in response.json():  # GraphQL answers 200 on failure too
                            raise RuntimeError(f"first GraphQL answer has errors: {response.text[:300]}")
                        return elapsed, cpu
                except httpx.TransportError:
                    pass
                time.sleep(0.005)
    finally:
        process.terminate()
        process.wait(timeout=20)


async def login(http: httpx.AsyncClient) -> None:
    await http.get("/login")
    csrf = http.cookies.get("fabcom_csrf") or ""
    response = await http.post("/login", data={"email": STAFF, "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 303, response.text


async def mixed_load(base: str, token: str, *, seconds: float | None = None, requests: int | None = None) -> dict:
    """Run the mixed load until ``seconds`` have passed or ``requests`` were made."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await login(http)
        page = await http.get(f"/o/{ORG}/items")
        item_ids = [int(x) for x in re.findall(rf"/o/{ORG}/items/(\d+)\"", page.text)][:20] or [1]
        urls = itertools.cycle(
            [
                ("GET", f"/o/{ORG}/", None),
                ("GET", f"/o/{ORG}/items", None),
                ("HX", f"/o/{ORG}/items?q=chaise", None),
                ("ITEM", "", None),
                ("GET", f"/o/{ORG}/members", None),
                ("GQL", "/graphql", GRAPHQL),
                ("GET", "/healthz", None),
                ("GET", "/metrics", None),
            ]
        )
        counter = itertools.count()
        done = 0
        errors = 0
        deadline = time.monotonic() + seconds if seconds else None

        async def client() -> None:
            nonlocal done, errors
            while True:
                n = next(counter)
                if (requests is not None and n >= requests) or (deadline is not None and time.monotonic() > deadline):
                    return
                kind, url, body = next(urls)
                if kind == "GQL":
                    response = await http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
                elif kind == "HX":
                    response = await http.get(url, headers={"HX-Request": "true"})
                elif kind == "ITEM":
                    response = await http.get(f"/o/{ORG}/items/{item_ids[n % len(item_ids)]}")
                else:
                    response = await http.get(url)
                done += 1
                if response.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        return {"requests": done, "errors": errors, "seconds": time.perf_counter() - started}


def main() -> None:
    if COMPILE:
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(ROOT / "fabcom"), str(ROOT / "modules")], check=True
        )
    var = Path(tempfile.mkdtemp(prefix="fabcom-bench-"))
    env = {
        **os.environ,
        "FABCOM_VAR_DIR": str(var),
        "FABCOM_DATABASE_URL": "",
        "FABCOM_REDIS_URL": "",
        "FABCOM_MODULES": MODULES,
        "FABCOM_API_RATE_LIMIT": "100000000",
        "LANG": "en_US.UTF-8",
    }
    token = demo_instance(env)
    # With FABCOM_BENCH_POSTGRES_URL, the start is also timed on PostgreSQL (target ≤ 1.5 s),
    # on a throw-away database with the same demo data.
    pg_server = os.environ.get("FABCOM_BENCH_POSTGRES_URL") or os.environ.get("FABCOM_TEST_POSTGRES_URL")
    pg_env: dict[str, str] | None = None
    if pg_server:
        from fabcom.testing.services import create_postgres_database

        pg_url = asyncio.run(create_postgres_database(pg_server, prefix="fabcom_bench_start"))
        pg_env = {**env, "FABCOM_VAR_DIR": tempfile.mkdtemp(prefix="fabcom-bench-pg-"), "FABCOM_DATABASE_URL": pg_url}
        pg_token = demo_instance(pg_env)

    load_before = os.getloadavg()[0]
    help_wall, help_cpu = help_times(env)
    starts: dict[str, list[tuple[float, float]]] = {"floor": [], "healthz": [], "graphql": []}
    if pg_env is not None:
        starts.update({"healthz (PostgreSQL)": [], "graphql (PostgreSQL)": []})
    for _ in range(3):  # interleaved, so that the series see the same load
        for what, series in starts.items():
            if what.endswith("(PostgreSQL)"):
                assert pg_env is not None
                series.append(time_to_first_200(pg_env, pg_token, what.split()[0]))
            else:
                series.append(time_to_first_200(env, token, what))
    floor_wall, floor_cpu = (statistics.median(x[i] for x in starts["floor"]) for i in (0, 1))
    first_health, health_cpu = (statistics.median(x[i] for x in starts["healthz"]) for i in (0, 1))
    first_graphql, graphql_cpu = (statistics.median(x[i] for x in starts["graphql"]) for i in (0, 1))
    if pg_env is not None:
        from fabcom.testing.services import drop_postgres_database

        asyncio.run(drop_postgres_database(pg_env["FABCOM_DATABASE_URL"]))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process, _ = start(env, port)
    try:
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        time.sleep(3)
        idle = rss_mb(process.pid)
        soak = asyncio.run(mixed_load(base, token, seconds=SOAK_S))
        after_soak = rss_mb(process.pid)
        many = asyncio.run(mixed_load(base, token, requests=REQUESTS))
        after_many = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)

    load = os.getloadavg()[0]
    growth = (after_many - after_soak) / after_soak * 100
    rows = [
        ("`fabcom --help` wall / CPU", f"{help_wall:.2f} s / {help_cpu:.2f} s", "≤ 0.5 s"),
        ("floor: bare Starlette exec → first 200, wall / server CPU", f"{floor_wall:.2f} s / {floor_cpu:.2f} s", ""),
        (
            "exec → first 200 on /healthz, wall / server CPU (× floor CPU)",
            f"{first_health:.2f} s / {health_cpu:.2f} s ({health_cpu / floor_cpu:.1f}×)",
            "≤ 1.0 s",
        ),
        (
            "exec → first 200 of a GraphQL query, wall / server CPU (× floor CPU)",
            f"{first_graphql:.2f} s / {graphql_cpu:.2f} s ({graphql_cpu / floor_cpu:.1f}×)",
            "≤ 1.0 s",
        ),
        *(
            (
                f"exec → first 200 {label} on PostgreSQL, wall / server CPU",
                "{:.2f} s / {:.2f} s".format(*(statistics.median(x[i] for x in starts[key]) for i in (0, 1))),
                "≤ 1.5 s",
            )
            for key, label in (("healthz (PostgreSQL)", "on /healthz"), ("graphql (PostgreSQL)", "of a GraphQL query"))
            if key in starts
        ),
        ("RSS idle after start-up", f"{idle:.0f} MB", "≤ 120 MB"),
        (
            f"RSS after {SOAK_S:.0f} s mixed load ({soak['requests']} requests, {soak['errors']} errors, "
            f"{soak['requests'] / soak['seconds']:.0f} req/s)",
            f"{after_soak:.0f} MB",
            "",
        ),
        (
            f"RSS after {many['requests']} more requests ({many['errors']} errors, "
            f"{many['requests'] / many['seconds']:.0f} req/s)",
            f"{after_many:.0f} MB ({growth:+.1f} %)",
            "≤ +10 %",
        ),
    ]
    print(f"load average: {load_before:.1f} at the start, {load:.1f} at the end; bytecode compiled first: {COMPILE}")
    for what, series in starts.items():
        print(f"{what}: server CPU " + " ".join(f"{cpu:.2f}" for _, cpu in series) + " s")
    print("| measure | result | target |\n| --- | ---: | --- |")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
