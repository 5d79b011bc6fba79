"""``GET /metrics`` in the Prometheus text format.

What it exports:

- ``fabcom_http_requests_total{route, method, status}`` and
  ``fabcom_http_request_duration_seconds{route, method}`` (a histogram): counted in
  this process. ``route`` is the route's template (``/o/{slug}/items``), never the raw
  path, so the number of series stays small. With several ``fabcom serve`` processes,
  each counts its own requests: scrape each process (its own port) or sum the series in
  Prometheus; counters restarting at 0 with the process is what ``rate()`` expects.
- ``fabcom_jobs{status}``: the outbox's rows by status (pending, running, failed, dead,
  done), read from the database at each scrape, so it is the same from any process.
- ``fabcom_jobs_due``: pending or failed jobs whose time has come (the queue's real depth).
- ``fabcom_federation_deliveries{status}``: the ``deliver_activity`` jobs by status.
- ``process_*``: this process's memory, CPU time and open files.

Who may read it: with ``FABCOM_METRICS_TOKEN`` set, a request carrying
``Authorization: Bearer <token>``; without it, only clients on the loopback interface
(Prometheus or an SSH tunnel on the same machine). Behind nginx the client address is
the real one (``proxy_headers``), so a visitor from outside is refused either way.
"""

from __future__ import annotations

import hmac
import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.process_collector import ProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from tortoise.functions import Count

from fabcom import clock

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

REQUESTS = Counter(
    "fabcom_http_requests",
    "HTTP requests answered by this process, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "fabcom_http_request_duration_seconds",
    "Time to answer an HTTP request in this process, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
JOBS = Gauge("fabcom_jobs", "Jobs in the outbox by status (from the database).", ["status"], registry=REGISTRY)
JOBS_DUE = Gauge("fabcom_jobs_due", "Pending or failed jobs whose time to run has come.", registry=REGISTRY)
DELIVERIES = Gauge(
    "fabcom_federation_deliveries",
    "Federation deliveries (deliver_activity jobs) by status (from the database).",
    ["status"],
    registry=REGISTRY,
)
DELIVERY_JOB = "deliver_activity"


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)


def allowed(request: Request) -> tuple[bool, int]:
    """Whether this request may read the metrics, and the status to refuse it with."""
    token: str = request.app.state.settings.metrics_token
    if token:
        scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(supplied.strip().encode(), token.encode())
        return ok, 401
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback, 403
    except ValueError:
        return False, 403


async def refresh_job_gauges() -> None:
    """Read the outbox's counts: a handful of grouped queries on an indexed table."""
    from fabcom.jobs.models import Job, JobStatus

    by_status = dict.fromkeys((s.value for s in JobStatus), 0)
    rows = await Job.annotate(n=Count("id")).group_by("status").values("status", "n")
    for row in rows:
        by_status[str(row["status"])] = row["n"]
    for status, n in by_status.items():
        JOBS.labels(status).set(n)
    JOBS_DUE.set(
        await Job.filter(status__in=[JobStatus.PENDING, JobStatus.FAILED], next_try_at__lte=clock.now()).count()
    )
    deliveries = dict.fromkeys((s.value for s in JobStatus), 0)
    rows = await Job.filter(name=DELIVERY_JOB).annotate(n=Count("id")).group_by("status").values("status", "n")
    for row in rows:
        deliveries[str(row["status"])] = row["n"]
    for status, n in deliveries.items():
        DELIVERIES.labels(status).set(n)


async def metrics(request: Request) -> Response:
    """The Prometheus scrape endpoint (see the module's docstring for who may read it)."""
    ok, refusal = allowed(request)
    if not ok:
        headers = {"WWW-Authenticate": 'Bearer realm="metrics"'} if refusal == 401 else None
        return PlainTextResponse("metrics: not allowed from here\n", status_code=refusal, headers=headers)
    await refresh_job_gauges()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
