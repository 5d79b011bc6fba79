"""Structured logs: one JSON object per line when stderr is not a terminal (systemd's
journal, Docker, a log shipper), readable text on a terminal; every line written while
serving a request carries its request id, every line written by a job its job id.

The request id comes from a sane incoming ``X-Request-ID`` (nginx's ``$request_id``, a
load balancer's) or is generated, and is echoed in the response's ``X-Request-ID``
header so that a user's report ("it failed, request id …") leads to the log lines.
A job enqueued while serving a request logs ``job enqueued`` with that request id and
the job's id, and the job's own lines carry ``job_id``: the two are joined in the logs.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import re
import sys
import time
import uuid
import weakref
from typing import Any

from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fabcom.ops.metrics import observe_request

REQUEST_ID_HEADER = "x-request-id"
# Accepted from outside: short, printable, nothing a log reader could mistake for structure.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{8,128}$")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("fabcom_request_id", default=None)
job_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("fabcom_job_id", default=None)

access_logger = logging.getLogger("fabcom.access")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s %(job_id)s"


def request_id_from(headers: Headers) -> str:
    """The incoming id when it looks sane, else a new one (32 hex characters)."""
    incoming = headers.get(REQUEST_ID_HEADER, "")
    return incoming if SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``job_id`` (None outside a request or a job) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "job_id"):
            record.job_id = job_id_var.get()
        record.__dict__.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
        return True


def logging_config(json_lines: bool | None = None, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for fabcom, uvicorn and arq: JSON lines when
    ``json_lines`` (by default: when stderr is not a terminal), else text."""
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601 in UTC
        }
        if json_lines
        else {"format": TEXT_FORMAT}
    )
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "main", "filters": ["ctx"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"ctx": {"()": ContextFilter}},
        "formatters": {"main": formatter},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn installs its own handlers by default: route them to ours instead.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # fabcom.access has one line per request with the route, status and duration.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
            # arq logs two lines per job (started, done) without fabcom's job id; fabcom's
            # runner logs each run itself (fabcom.jobs: a debug line with the id and duration,
            # a warning for a failure).
            "arq.worker": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }


def configure_logging(json_lines: bool | None = None, level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(json_lines, level))


def route_templates(routes: list[BaseRoute], prefix: str = "") -> dict[int, str]:
    """Endpoint (by identity) → path template, for every route of the table, mounts included."""
    found: dict[int, str] = {}
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                for key, value in route_templates(list(route.routes), prefix + route.path).items():
                    found.setdefault(key, value)
            else:
                found.setdefault(id(route.app), prefix + route.path + "/{path}")
        elif isinstance(route, Route):
            found.setdefault(id(route.endpoint), prefix + route.path)
    return found


_TEMPLATES: weakref.WeakKeyDictionary[Any, dict[int, str]] = weakref.WeakKeyDictionary()


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/o/{slug}/items``), so that metrics and logs
    group requests by route; ``unmatched`` when no route matched (labels stay few)."""
    endpoint = scope.get("endpoint")
    app = scope.get("app")
    if endpoint is None or app is None:
        return "unmatched"
    templates = _TEMPLATES.get(app)
    if templates is None:
        templates = _TEMPLATES[app] = route_templates(list(getattr(app, "routes", [])))
    return templates.get(id(endpoint), "unmatched")


class RequestContextMiddleware:
    """Gives each request its id (``request.state.request_id``, the ``X-Request-ID``
    response header, every log line), logs one access line when it is answered and
    counts it in the metrics (``fabcom.ops.metrics``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_from(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logging.getLogger("fabcom.web").exception("request failed: %s %s", scope["method"], scope["path"])
            raise
        finally:
            seconds = time.perf_counter() - started
            duration_ms = round(seconds * 1000, 1)
            route = route_template(scope)
            observe_request(route, scope["method"], status, seconds)
            access_logger.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": duration_ms,
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            request_id_var.reset(token)
