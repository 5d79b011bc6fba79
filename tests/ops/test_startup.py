"""Start-up: ``/healthz`` does not wait for the GraphQL schema, which is built on the
first API call or just after the server listens; a module whose GraphQL contribution is
refused still stops the process with the module's one line."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import subprocess
import sys

import pytest
from starlette.applications import Starlette

from fabcom import app as app_module
from fabcom.gql.routes import LazyGraphQLEndpoint
from fabcom.module_system.registry import ModuleError
from fabcom.settings import Settings


def graphql_endpoint(app: Starlette) -> LazyGraphQLEndpoint:
    route = next(r for r in app.routes if getattr(r, "path", None) == "/graphql")
    return route.endpoint.__self__  # type: ignore[attr-defined]


async def test_health_answers_before_the_schema_is_built_and_the_first_query_builds_it(app, client):
    endpoint = graphql_endpoint(app)

    health = await client.get("/healthz")

    assert health.status_code == 200
    assert endpoint._endpoint is None  # nothing of GraphQL built yet
    answer = await client.post("/graphql", json={"query": "{ categories(first: 1) { totalCount } }"})
    assert answer.status_code == 200
    assert "errors" not in answer.json()
    assert answer.json()["data"]["categories"]["totalCount"] > 0
    assert endpoint._endpoint is not None


class RefusedEndpoint(LazyGraphQLEndpoint):
    async def warm_up(self, delay_s: float = 0.2) -> None:
        raise ModuleError("module 'clashy': GraphQL name 'ExtraThing' is already defined by module 'extra'")


async def test_a_module_refused_when_the_schema_is_built_stops_the_process_with_one_line(db, monkeypatch, caplog):
    signals: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signals.append((pid, sig)))
    monkeypatch.setattr(app_module, "AFTER_START_DELAY_S", 0)
    monkeypatch.setattr(app_module, "startup_failure", [])
    app = Starlette()
    caplog.set_level(logging.CRITICAL, logger="fabcom.app")

    started: list[str] = []

    async def start_jobs(settings: Settings) -> None:  # stands in for the embedded runner
        started.append("jobs")

    monkeypatch.setattr(app_module, "start_embedded_jobs", start_jobs)

    await app_module.after_start(app, db, RefusedEndpoint(db))

    message = "module 'clashy': GraphQL name 'ExtraThing' is already defined by module 'extra'"
    assert app_module.startup_failure == [message]
    assert [r.getMessage() for r in caplog.records if r.name == "fabcom.app"] == [message]
    assert signals == [(os.getpid(), signal.SIGTERM)]
    assert started == []  # the process is stopping: no job runner is started


class RecordingEndpoint(LazyGraphQLEndpoint):
    def __init__(self, settings: Settings, order: list[str]) -> None:
        super().__init__(settings)
        self.order = order

    async def warm_up(self, delay_s: float = 0.2) -> None:
        self.order.append("schema")


async def test_after_start_builds_the_schema_before_starting_the_job_runner(db, monkeypatch):
    # An API client may be waiting for the schema; no job is waiting for the runner.
    order: list[str] = []
    monkeypatch.setattr(app_module, "AFTER_START_DELAY_S", 0)
    monkeypatch.setattr(app_module.gc, "freeze", lambda: None)  # keep the test process's collector as it is

    async def start_jobs(settings: Settings) -> str:
        order.append("jobs")
        return "runner"

    monkeypatch.setattr(app_module, "start_embedded_jobs", start_jobs)
    app = Starlette()

    await app_module.after_start(app, db, RecordingEndpoint(db, order))

    assert order == ["schema", "jobs"]
    assert app.state.job_runner == "runner"


class HeldEndpoint:
    """Stands in for ``GraphQLEndpoint``: each request waits until ``release`` is set."""

    def __init__(self, order: list[str]) -> None:
        self.order = order
        self.release = asyncio.Event()

    async def handle(self, request: object) -> str:
        await self.release.wait()
        self.order.append("answer")
        return "answered"


@pytest.fixture
async def request_in_flight(db, monkeypatch):
    """A ``/graphql`` request being answered (held until ``held.release`` is set) while the
    server finishes starting, with a job runner that only records its start in ``order``."""
    order: list[str] = []
    monkeypatch.setattr(app_module, "AFTER_START_DELAY_S", 0)
    monkeypatch.setattr(app_module.gc, "freeze", lambda: None)

    async def start_jobs(settings: Settings) -> str:
        order.append("jobs")
        return "runner"

    monkeypatch.setattr(app_module, "start_embedded_jobs", start_jobs)
    endpoint = RecordingEndpoint(db, order)
    held = HeldEndpoint(order)
    endpoint._endpoint = held  # type: ignore[assignment]
    request = asyncio.create_task(endpoint.handle(None))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    yield order, endpoint, held, request
    held.release.set()
    await request


async def test_the_job_runner_waits_for_the_graphql_request_in_flight(db, request_in_flight):
    # Its start would otherwise run inside the first API answer's awaits, delaying it.
    order, endpoint, held, request = request_in_flight
    starting = asyncio.create_task(app_module.after_start(Starlette(), db, endpoint))
    await asyncio.sleep(0.05)
    assert order == ["schema"]  # the runner waits
    held.release.set()
    await starting

    assert await request == "answered"
    assert order == ["schema", "answer", "jobs"]


async def test_the_job_runner_waits_for_graphql_requests_only_so_long(db, monkeypatch, request_in_flight):
    order, endpoint, _held, _request = request_in_flight
    monkeypatch.setattr(app_module, "RUNNER_WAIT_S", 0.05)

    await app_module.after_start(Starlette(), db, endpoint)  # a request that never ends does not hold it

    assert order == ["schema", "jobs"]


def test_the_graphql_layer_does_not_import_redis_without_a_redis_url():
    # redis (with jwt and cryptography) would be paid before the first GraphQL answer.
    code = "import sys, fabcom.gql.views, fabcom.gql.schema; print('redis' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"


@pytest.mark.parametrize(
    "name",
    [
        "fabcom.gql.types",
        "fabcom.gql.mutations",
        "fabcom.gql.queries",
        "fabcom.federation.schema",
        "modules.bookings.schema",
        "modules.ressourcerie.schema",
    ],
)
def test_the_schema_modules_do_not_postpone_their_annotations(name):
    # Strawberry would parse each string annotation with ``ast`` at start-up (~40 ms of CPU).
    assert "annotations" not in vars(importlib.import_module(name))
