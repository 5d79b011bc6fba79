"""Structured logs: JSON lines off a terminal, one request id per request (a sane incoming
one kept, anything else replaced), echoed in the response and on every line the request
logs, including the line that records a job it enqueued."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tortoise.transactions import in_transaction

from fabcom.app import create_app
from fabcom.jobs.models import Job
from fabcom.jobs.outbox import enqueue
from fabcom.ops.logs import ContextFilter, logging_config


@pytest.fixture
def json_log():
    """The root logger writes JSON lines (as off a terminal) into a buffer for the test."""
    config = logging_config(json_lines=True)
    factory = config["formatters"]["main"].pop("()")
    module, _, name = factory.rpartition(".")
    formatter = getattr(__import__(module, fromlist=[name]), name)(**config["formatters"]["main"])
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_a_sane_incoming_request_id_is_kept_and_echoed(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a9c1d-0001"})
    assert response.headers["x-request-id"] == "nginx-4f2a9c1d-0001"


@pytest.mark.parametrize("incoming", ["", "short", "a b c d e f g h", "x" * 129, "id<script>alert(1)</script>"])
async def test_an_absent_or_odd_request_id_is_replaced_by_a_new_one(client, incoming):
    response = await client.get("/healthz", headers={"X-Request-ID": incoming} if incoming else {})
    rid = response.headers["x-request-id"]
    assert rid != incoming
    assert len(rid) == 32
    assert int(rid, 16) >= 0


async def test_two_requests_get_two_ids(client):
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_every_line_of_a_request_carries_its_id_including_the_job_it_enqueued(db, json_log):
    async def work(request):
        logging.getLogger("fabcom.test").info("working on it")
        async with in_transaction():
            await enqueue("cleanup_jobs")
        return PlainTextResponse("done")

    app = create_app(db)
    app.router.routes.insert(0, Route("/work/{n:int}", work))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        response = await http.get("/work/7", headers={"X-Request-ID": "req-0123456789"})
    assert response.status_code == 200
    job = await Job.get(name="cleanup_jobs")
    lines = json_log()
    mine = [line for line in lines if line.get("request_id") == "req-0123456789"]
    assert [line["message"] for line in mine] == [
        "working on it",
        f"job enqueued: cleanup_jobs #{job.id}",
        "GET /work/7 200",
    ]
    access = mine[-1]
    assert access["logger"] == "fabcom.access"
    assert access["route"] == "/work/{n:int}"
    assert access["status"] == 200
    assert access["method"] == "GET"
    assert isinstance(access["duration_ms"], float)
    assert mine[1]["enqueued_job_id"] == job.id
    assert {line["level"] for line in mine} == {"INFO"}


async def test_lines_outside_a_request_have_no_request_id(json_log):
    logging.getLogger("fabcom.test").warning("alone")
    assert json_log()[-1]["request_id"] is None


def test_off_a_terminal_fabcom_logs_json_lines():
    code = (
        "import logging; from fabcom.ops.logs import configure_logging; configure_logging(); "
        "logging.getLogger('fabcom.test').warning('disk %s full', 'uploads')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert line["message"] == "disk uploads full"
    assert line["level"] == "WARNING"
    assert line["logger"] == "fabcom.test"
    assert line["request_id"] is None
    assert "time" in line


def test_on_a_terminal_the_lines_are_text(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert "format" in logging_config()["formatters"]["main"]
