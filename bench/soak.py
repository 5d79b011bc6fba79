"""Fixed-arrival-rate soak (issue 9): several web processes behind one database.

``fabcom serve --workers N`` (uvicorn's worker processes sharing one socket) on a fresh
database with the demo data, then, for ``BENCH_SOAK_S`` seconds (60), requests fired at
fixed rates whatever the response times (an open-loop scheduler: request *i* of a route
leaves at ``start + i / rate``, late or not, so a slow server is not hidden by clients
waiting for it):

- **graphql**: 20 rps, the items list (``items(first: 20)``) with a bearer token;
- **htmx**: 100 rps, the inventory page's htmx fragment (``HX-Request``, a different
  search word each time), as a signed-in staff member;
- **search**: 5 rps, the network search page (the local mirror of what partners share).

Latency is measured from the request's scheduled time (so it includes any delay in
sending it) to the end of the response. An error is a transport failure or timeout, a
status other than 200, a GraphQL answer with ``errors`` (GraphQL answers 200 even then) or
without its items, a fragment without its results (or a whole page).

Run: ``python -m bench.soak``. SQLite always; PostgreSQL too when
``FABCOM_BENCH_POSTGRES_URL`` (or ``FABCOM_TEST_POSTGRES_URL``) points at a server where the
user may create databases (a throw-away ``fabcom_soak_<pid>`` database, dropped at the end).
``BENCH_SOAK_S``, ``BENCH_WEB_WORKERS`` (2), ``BENCH_RATES`` (``20,100,5``) and
``BENCH_SOAK_BACKENDS`` (``sqlite,postgres``) change the run.
Prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

FABCOM = [sys.executable, "-m", "fabcom"]
MODULES = "bookings,ressourcerie"
STAFF = "lucas@recyclerie-du-canal.example"
PASSWORD = "fabcom-demo-2026"  # noqa: S105 - the demo accounts' published password
ORG = "recyclerie-du-canal"
GRAPHQL = {"query": "{ items(first: 20) { totalCount edges { node { id title quantity } } } }"}
GQL_BODY = json.dumps(GRAPHQL).encode()
WORDS = ["chaise", "table", "lampe", "velo", "livre", "pull", "bois", "verre", "jouet", "armoire"]
SOAK_S = float(os.environ.get("BENCH_SOAK_S", "60"))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
RATES = dict(
    zip(("graphql", "htmx", "search"), map(float, os.environ.get("BENCH_RATES", "20,100,5").split(",")), strict=True)
)
TIMEOUT_S = 10.0
IDLE_S = 3.0  # uvicorn closes a keep-alive connection idle for 5 s


@dataclass
class Route:
    name: str
    rate: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: int = 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def login(http: httpx.AsyncClient) -> None:
    await http.get("/login")
    csrf = http.cookies.get("fabcom_csrf") or ""
    response = await http.post("/login", data={"email": STAFF, "password": PASSWORD, "csrf_token": csrf})
    if response.status_code != 303:
        raise RuntimeError(f"login failed: {response.status_code}")


@dataclass
class Answer:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Pool:
    """Keep-alive HTTP/1.1 connections on asyncio streams: a load generator must cost
    much less than the server it measures, and httpx's pool does not at 125 requests a
    second on a shared 2-core machine. A request takes an idle connection or opens one
    (the open loop never waits for a free connection); a connection idle for a while, or
    closed by the server meanwhile, is replaced by a fresh one, as browsers do."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.opened = 0

    async def request(self, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Answer:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        message = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        while self.idle:
            reader, writer, since = self.idle.pop()
            if time.monotonic() - since > IDLE_S:  # the server may have closed it already
                writer.close()
                continue
            try:
                return await self._exchange(reader, writer, message)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                if getattr(exc, "partial", b""):
                    raise
                writer.close()  # closed by the server while idle: as a browser would, try a fresh one
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened += 1
        return await self._exchange(reader, writer, message)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: bytes) -> Answer:
        writer.write(message)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        if "content-length" in fields:
            content = await reader.readexactly(int(fields["content-length"]))
        else:  # chunked
            parts = []
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readuntil(b"\r\n")
            content = b"".join(parts)
        if fields.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer, time.monotonic()))
        return Answer(int(status_line.split()[1]), content)

    def close(self) -> None:
        for _, writer, _since in self.idle:
            writer.close()


def check(route: str, response: Answer) -> str | None:
    """Why the answer is an error, or None."""
    if response.status != 200:
        return f"HTTP {response.status}"
    if route == "graphql":
        body = json.loads(response.body)
        if body.get("errors"):
            return f"GraphQL error {body['errors'][0].get('extensions', {}).get('code')}"
        if not (body.get("data") or {}).get("items", {}).get("edges"):
            return "GraphQL answer without items"
    elif route == "htmx":
        if 'class="results-head"' not in response.text or "<html" in response.text:
            return "not the results fragment"
    elif route == "search" and "<html" not in response.text:
        return "not a page"
    return None


async def fire(pool: Pool, route: Route, n: int, due: float, token: str, cookie: str) -> None:
    word = WORDS[n % len(WORDS)]
    try:
        async with asyncio.timeout(TIMEOUT_S):
            if route.name == "graphql":
                response = await pool.request(
                    "POST",
                    "/graphql",
                    {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    GQL_BODY,
                )
            elif route.name == "htmx":
                response = await pool.request(
                    "GET", f"/o/{ORG}/items?q={word}", {"Cookie": cookie, "HX-Request": "true"}
                )
            else:
                response = await pool.request("GET", f"/o/{ORG}/network?q={word}", {"Cookie": cookie})
        problem = check(route.name, response)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
        problem = type(exc).__name__
    route.latencies.append(time.perf_counter() - due)
    if problem:
        route.errors.append(problem)


async def schedule(pool: Pool, route: Route, start: float, seconds: float, token: str, cookie: str) -> None:
    """Open loop: request n leaves at start + n / rate, whatever happened to the others."""
    pending: set[asyncio.Task[None]] = set()
    for n in range(int(seconds * route.rate)):
        due = start + n / route.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(fire(pool, route, n, due, token, cookie))
        pending.add(task)
        task.add_done_callback(pending.discard)
        route.sent += 1
    if pending:
        await asyncio.wait(pending)


async def soak(base: str, token: str, seconds: float) -> tuple[list[Route], float, int]:
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S) as http:
        await login(http)
        cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
    parts = urlsplit(base)
    pool = Pool(parts.hostname or "127.0.0.1", parts.port or 80)
    try:
        for _ in range(4):  # reach every worker process (the schema is built just after start-up)
            await asyncio.gather(*(fire(pool, Route(name, 1), 0, time.perf_counter(), token, cookie) for name in RATES))
        routes = [Route(name, rate) for name, rate in RATES.items() if rate > 0]
        start = time.perf_counter() + 0.1
        await asyncio.gather(*(schedule(pool, r, start, seconds, token, cookie) for r in routes))
        return routes, time.perf_counter() - start, pool.opened
    finally:
        pool.close()


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:])} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [*FABCOM, "serve", "--port", str(port), "--workers", str(WEB_WORKERS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("fabcom serve exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                time.sleep(2)  # every worker process up, schemas built
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("fabcom serve did not answer within 60 s")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def postgres(url: str, name: str, *, create: bool) -> None:
    import asyncpg

    connection = await asyncpg.connect(with_database(url, "postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def one_backend(label: str, database_url: str) -> list[str]:
    var = Path(tempfile.mkdtemp(prefix="fabcom-soak-"))
    env = {
        **os.environ,
        "FABCOM_VAR_DIR": str(var),
        "FABCOM_DATABASE_URL": database_url,
        "FABCOM_REDIS_URL": "",
        "FABCOM_MODULES": MODULES,
        "FABCOM_API_RATE_LIMIT": "100000000",
        "FABCOM_SECRET_KEY": "soak-" + "x" * 40,
        "LANG": "en_US.UTF-8",
    }
    run([*FABCOM, "migrate"], env)
    run([*FABCOM, "demo"], env)
    token = run([*FABCOM, "token", "create", STAFF, "--scope", "inventory:read", "--name", "soak"], env)
    port = free_port()
    process = serve(env, port)
    try:
        load_before = os.getloadavg()
        routes, seconds, connections = asyncio.run(soak(f"http://127.0.0.1:{port}", token, SOAK_S))
        load_after = os.getloadavg()
    finally:
        process.terminate()  # graceful: uvicorn finishes the requests still queued
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    rows = []
    for r in routes:
        errors = f"{len(r.errors)}" + (f" ({statistics.mode(r.errors)})" if r.errors else "")
        rows.append(
            f"| {label} | {r.name} | {r.rate:.0f} | {len(r.latencies) / seconds:.1f} | {len(r.latencies)} | "
            f"{percentile(r.latencies, 0.5) * 1000:.0f} ms | {percentile(r.latencies, 0.99) * 1000:.0f} ms | "
            f"{max(r.latencies) * 1000:.0f} ms | {errors} |"
        )
    print(
        f"{label}: {seconds:.0f} s, {WEB_WORKERS} web processes, {connections} connections, load average "
        f"{load_before[0]:.1f} → {load_after[0]:.1f}",
        *rows,
        sep="\n",
        file=sys.stderr,
        flush=True,
    )
    return rows


def main() -> None:
    backends = os.environ.get("BENCH_SOAK_BACKENDS", "sqlite,postgres").split(",")
    rows = one_backend("SQLite", "") if "sqlite" in backends else []
    pg_url = os.environ.get("FABCOM_BENCH_POSTGRES_URL") or os.environ.get("FABCOM_TEST_POSTGRES_URL")
    if pg_url and "postgres" in backends:
        name = f"fabcom_soak_{os.getpid()}"
        asyncio.run(postgres(pg_url, name, create=True))
        try:
            rows += one_backend("PostgreSQL", with_database(pg_url, name) + "?maxsize=10")
        finally:
            asyncio.run(postgres(pg_url, name, create=False))
    print("| database | route | target rps | achieved rps | requests | p50 | p99 | max | errors |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
