"""The ASGI application factory."""

from __future__ import annotations

import contextlib
import gc
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
from fabcom.federation.catchup import catch_up_on_start
from fabcom.federation.routes import federation_routes
from fabcom.federation.views import federation_object_routes
from fabcom.gql.views import graphql_routes
from fabcom.module_system.contributions import module_routes
from fabcom.module_system.registry import build_registry
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
    from fabcom.jobs.embedded import EmbeddedRunner
    from fabcom.jobs.registry import load_jobs

    load_jobs(enabled=settings.modules)
    if settings.redis_url:
        return None
    runner = EmbeddedRunner(settings)
    await runner.start()
    return runner


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application; the lifespan opens the database and closes it on shutdown."""
    settings = settings or load_settings()
    settings.ensure_secret_key()
    federation_config.use(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await open_database(settings)
        runner = await start_embedded_jobs(settings)
        app.state.job_runner = runner
        await catch_up_on_start()
        # Start-up objects (schema, models, catalogues) leave the collector's generations:
        # fewer and shorter GC pauses under load, hence a tighter tail latency.
        gc.freeze()
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()
            await close_database()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, name="healthz"),
        Route("/readyz", readyz, name="readyz"),
        Route("/metrics", metrics, name="metrics"),
    ]
    routes += module_routes(build_registry(settings.modules))
    routes += graphql_routes(settings)
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
