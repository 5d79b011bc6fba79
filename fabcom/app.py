"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from fabcom import __version__
from fabcom.auth.middleware import AuthMiddleware
from fabcom.db import close_database, open_database
from fabcom.federation import config as federation_config
from fabcom.federation.routes import federation_routes
from fabcom.federation.views import federation_object_routes
from fabcom.gql.routes import LazyGraphQLEndpoint, graphql_routes
from fabcom.module_system.contributions import module_routes
from fabcom.module_system.registry import ModuleError, build_registry
from fabcom.ops.logs import RequestContextMiddleware
from fabcom.ops.metrics import metrics
from fabcom.ops.views import ops_routes
from fabcom.privacy.views import privacy_routes
from fabcom.settings import Settings, load_settings
from fabcom.web.csrf import CSRFMiddleware
from fabcom.web.pages import http_error, server_error
from fabcom.web.routes import web_routes
from fabcom.web.security import SecurityHeadersMiddleware

if TYPE_CHECKING:
    from fabcom.jobs.embedded import EmbeddedRunner

logger = logging.getLogger("fabcom.app")
# Set when a module's GraphQL contribution was refused after start-up: ``fabcom serve``
# then exits with this message and a non-zero code.
startup_failure: list[str] = []
# How long after the server starts listening the job runner starts and the schema is built.
AFTER_START_DELAY_S = 0.2
# How long the job runner waits for the GraphQL requests that came during the warm-up.
RUNNER_WAIT_S = 1.0


async def healthz(request: Request) -> JSONResponse:
    """The process is up (no dependency checked: for liveness probes)."""
    return JSONResponse({"status": "ok", "version": __version__})


async def readyz(request: Request) -> JSONResponse:
    """The instance can serve: its database answers, and Redis when one is configured."""
    from fabcom.health import check_dependencies

    checks = await check_dependencies(request.app.state.settings)
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


async def start_embedded_jobs(settings: Settings) -> EmbeddedRunner | None:
    """Without Redis, this process runs the outbox itself (with Redis, `fabcom worker` does)."""
    if settings.redis_url:
        return None
    from fabcom.jobs.embedded import EmbeddedRunner

    runner = EmbeddedRunner(settings)
    await runner.start()
    return runner


async def after_start(app: Starlette, settings: Settings, graphql: LazyGraphQLEndpoint) -> None:
    """What can wait until the server listens (``/healthz`` and the pages answer first):
    the GraphQL schema, then the embedded job runner (jobs enqueued meanwhile wait in the
    outbox a moment). The schema comes first because an API client is waiting for it and
    no job is: the runner's start (arq, an HTTP client and its TLS context) would otherwise
    delay the first GraphQL answer by ~0.1 s of CPU. A module whose GraphQL contribution
    is refused stops the process with the module's one-line message, as the other module
    checks do before start-up, and no job runner is started."""
    await asyncio.sleep(AFTER_START_DELAY_S)
    try:
        await graphql.warm_up(delay_s=0)
    except ModuleError as exc:
        startup_failure.append(str(exc))
        logger.critical("%s", exc)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    except Exception:  # the next /graphql request tries again; say it now, not then
        logger.exception("building the GraphQL schema failed")
    # A request that came during the warm-up is answered first: its resolvers' awaits would
    # otherwise let the runner's start (~40 ms of CPU, more with arq's import of redis)
    # run before its answer. Bounded, so a steady stream of requests does not hold it back.
    await graphql.answered(timeout_s=RUNNER_WAIT_S)
    app.state.job_runner = await start_embedded_jobs(settings)
    # Start-up objects (models, catalogues, the schema) leave the collector's generations:
    # fewer and shorter GC pauses under load, hence a tighter tail latency.
    gc.freeze()


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application; the lifespan opens the database and closes it on shutdown."""
    settings = settings or load_settings()
    settings.ensure_secret_key()
    federation_config.use(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from fabcom.federation.catchup import catch_up_on_start
        from fabcom.jobs.registry import load_jobs

        await open_database(settings)
        # Before serving: a request may enqueue any job, of the core or of a module.
        load_jobs(enabled=settings.modules)
        await catch_up_on_start()
        app.state.job_runner = None
        background = asyncio.create_task(after_start(app, settings, graphql))
        gc.freeze()
        try:
            yield
        finally:
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background
            if app.state.job_runner is not None:
                await app.state.job_runner.stop()
            await close_database()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, name="healthz"),
        Route("/readyz", readyz, name="readyz"),
        Route("/metrics", metrics, name="metrics"),
    ]
    routes += module_routes(build_registry(settings.modules))
    graphql = LazyGraphQLEndpoint(settings)
    routes += graphql_routes(graphql)
    routes += federation_routes()
    routes += federation_object_routes()
    routes += privacy_routes()
    routes += ops_routes()
    app = Starlette(
        routes=[*routes, *web_routes()],
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(SecurityHeadersMiddleware, https=settings.base_url.startswith("https://")),
            Middleware(AuthMiddleware),
            Middleware(CSRFMiddleware),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
