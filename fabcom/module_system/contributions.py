"""What enabled modules contribute, found by file name in each module's package:
``models.py`` (a Tortoise app with ``migrations/``), ``views.py`` (``routes`` mounted at
``/m/<slug>/``), and the other files documented in docs/modules.md."""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise.models import Model

from fabcom.i18n import add_catalog_dir
from fabcom.module_system.manifest import Module
from fabcom.module_system.registry import ModuleError, Registry


def tortoise_apps(registry: Registry) -> dict[str, dict[str, Any]]:
    """One Tortoise app per module that has models, its tables prefixed by its slug so
    that no module can clash with the core (``fabcom_…``) or with another module."""
    apps: dict[str, dict[str, Any]] = {}
    for manifest in registry:
        models = registry.submodule(manifest, "models")
        if models is None:
            continue
        for _, model in inspect.getmembers(models, inspect.isclass):
            if not issubclass(model, Model) or model.__module__ != models.__name__ or model._meta.abstract:
                continue
            table = model._meta.db_table or ""
            if not table.startswith(manifest.slug + "_"):
                raise ModuleError(
                    f"module {manifest.slug!r}: table {table or model.__name__!r} must be named {manifest.slug}_<name> "
                    f"(set Meta.table)"
                )
        apps[manifest.slug] = {
            "models": [models.__name__],
            "default_connection": "default",
            "migrations": f"{manifest.package}.migrations",
        }
    return apps


# Template folders of the enabled modules (``modules/<slug>/templates``), searched after
# the core's; a module keeps its pages under ``templates/<slug>/``.
module_template_dirs: list[Path] = []


def register_hooks(registry: Registry) -> None:
    """Add each module's own hook specifications, then its hook implementations
    (``hookspecs.py`` and ``hooks.py``), in dependency order; and its catalogues and
    templates."""
    from fabcom.module_system.hooks import reset_plugin_manager
    from fabcom.web.templating import environment

    manager = reset_plugin_manager()
    module_template_dirs.clear()
    for manifest in registry:
        folder = Path(importlib.import_module(manifest.package).__file__ or "").parent
        if (folder / "locale").is_dir():
            add_catalog_dir(folder / "locale")
        if (folder / "templates").is_dir():
            module_template_dirs.append(folder / "templates")
        if (folder / "static" / manifest.slug).is_dir():
            module_static_dirs[manifest.slug] = folder / "static" / manifest.slug
        specs = registry.submodule(manifest, "hookspecs")
        if specs is not None:
            manager.add_hookspecs(specs)
    for manifest in registry:
        implementations = registry.submodule(manifest, "hooks")
        if implementations is not None:
            manager.register(implementations, name=manifest.slug)
    environment.cache_clear()
    register_federation_handlers(registry)


def register_federation_handlers(registry: Registry) -> None:
    """Import each enabled module's ``federation.py``, whose ``@handles(...)`` /
    ``@handles_batch(...)`` take received activities; a batch handler for a type the core
    or another module already has stops start-up, naming the module. Handlers of modules
    not enabled here do not run."""
    from fabcom.federation import handlers

    handlers.load_handlers()  # the core's first: they run before the modules' and win clashes
    loaded = []
    for manifest in registry:
        if registry.submodule(manifest, "federation") is not None:
            loaded.append(manifest.package)
    handlers.use_module_handlers(loaded, set(loaded))
    for package in loaded:
        clashes = handlers.batch_clashes(package)
        if clashes:
            slug = next(m.slug for m in registry if m.package == package)
            raise ModuleError(f"module {slug!r}: {clashes[0]}")


# The ASGI scope key naming the module whose routes serve the request: ``current_org``
# answers 404 when the organization switched that module off.
MODULE_SCOPE_KEY = "fabcom.module"


class _ModuleScope:
    """Marks requests under ``/m/<slug>/`` with the module's slug."""

    def __init__(self, app: ASGIApp, slug: str) -> None:
        self.app = app
        self.slug = slug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[MODULE_SCOPE_KEY] = self.slug
        await self.app(scope, receive, send)


# A module's static files: ``<package>/static/<slug>/…`` served at ``/static/m/<slug>/…``.
STATIC_URL = "/static/m"
# One hour without a version; a year, immutable, for URLs from ``static_url`` (``?v=`` is
# the file's content hash, so a changed file gets a new URL).
STATIC_CACHE = "public, max-age=3600"
STATIC_CACHE_VERSIONED = "public, max-age=31536000, immutable"
module_static_dirs: dict[str, Path] = {}


class ModuleStaticFiles(StaticFiles):
    """Starlette's static files (which refuse paths leaving the folder: ``..``, absolute
    paths, symbolic links pointing out) with cache headers."""

    def file_response(self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = STATIC_CACHE_VERSIONED if versioned else STATIC_CACHE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _static_dir(manifest: Module) -> Path | None:
    folder = Path(importlib.import_module(manifest.package).__file__ or "").parent / "static" / manifest.slug
    return folder if folder.is_dir() else None


@functools.lru_cache(maxsize=1024)
def _content_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return ""


def static_url(slug: str, path: str) -> str:
    """The URL of a module's static file, ``/static/m/<slug>/<path>?v=<hash>``: cached by
    browsers for a year, and changed whenever the file changes. In templates:
    ``{{ static_url("bookings", "bookings.css") }}``."""
    url = f"{STATIC_URL}/{slug}/{path.lstrip('/')}"
    folder = module_static_dirs.get(slug)
    target = (folder / path).resolve() if folder is not None else None
    inside = folder is not None and target is not None and target.is_relative_to(folder.resolve())
    version = _content_hash(target) if inside and target is not None else ""
    return f"{url}?v={version}" if version else url


def module_routes(registry: Registry) -> list[BaseRoute]:
    """Each module's ``views.routes``, mounted at ``/m/<slug>/`` and named ``<slug>:<name>``,
    and its ``static/<slug>/`` folder, served at ``/static/m/<slug>/`` (named ``<slug>:static``)."""
    mounts: list[BaseRoute] = []
    for manifest in registry:
        folder = _static_dir(manifest)
        if folder is not None:
            module_static_dirs[manifest.slug] = folder
            mounts.append(
                Mount(
                    f"{STATIC_URL}/{manifest.slug}",
                    app=ModuleStaticFiles(directory=folder),
                    name=f"{manifest.slug}:static",
                )
            )
        views = registry.submodule(manifest, "views")
        routes = getattr(views, "routes", None) if views is not None else None
        if routes:
            mounts.append(
                Mount(
                    f"/m/{manifest.slug}",
                    routes=list(routes),
                    name=manifest.slug,
                    middleware=[Middleware(_ModuleScope, slug=manifest.slug)],
                )
            )
    return mounts


@dataclass
class GraphQLContributions:
    """What the enabled modules add to the GraphQL schema, read from each ``schema.py``:
    ``types`` (extra types), ``query`` / ``mutation`` (classes whose fields join the
    roots) and ``extends`` (``{"Item": MixinClass}``: fields added to a core type)."""

    types: list[type] = field(default_factory=list)
    queries: list[type] = field(default_factory=list)
    mutations: list[type] = field(default_factory=list)
    extends: dict[str, list[type]] = field(default_factory=dict)


def _field_names(cls: type) -> list[str]:
    definition = getattr(cls, "__strawberry_definition__", None)
    if definition is None:
        raise TypeError(f"{cls.__name__} is not a Strawberry type")
    return [f.graphql_name or _camel(f.python_name) for f in definition.fields]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def check_type_prefix(manifest: Module, name: str) -> None:
    """A module's GraphQL type names start with its ``type_prefix`` (``BookingsBooking``)."""
    if not name.startswith(manifest.type_prefix):
        raise ModuleError(f"module {manifest.slug!r}: GraphQL type {name!r} must start with {manifest.type_prefix!r}")


def graphql_contributions(
    registry: Registry, taken: dict[str, set[str]], extensible: set[str] | None = None
) -> GraphQLContributions:
    """Collect each module's ``schema.py``; refuse — naming the module — a type or field
    name already used by the core (``taken``: type name -> field names, with ``Query``
    and ``Mutation``) or by another module, a type or root field without the module's
    prefix, and fields on a core type that is not ``extensible`` (an object type)."""
    found = GraphQLContributions()
    extensible = set(taken) if extensible is None else extensible
    owner: dict[str, str] = {}  # "Type" or "Type.field" -> who defined it

    for type_name, names in taken.items():
        owner[type_name] = "the core"
        for name in names:
            owner[f"{type_name}.{name}"] = "the core"

    def claim(manifest_slug: str, key: str) -> None:
        if key in owner:
            raise ModuleError(f"module {manifest_slug!r}: GraphQL name {key!r} is already defined by {owner[key]}")
        owner[key] = f"module {manifest_slug!r}"

    for manifest in registry:
        schema = registry.submodule(manifest, "schema")
        if schema is None:
            continue
        for cls in getattr(schema, "types", ()):
            definition = getattr(cls, "__strawberry_definition__", None)
            name = definition.name if definition is not None else cls.__name__
            claim(manifest.slug, name)
            check_type_prefix(manifest, name)
            found.types.append(cls)
        for root, bucket in (("Query", found.queries), ("Mutation", found.mutations)):
            cls = getattr(schema, root.lower(), None)
            if cls is None:
                continue
            for name in _field_names(cls):
                claim(manifest.slug, f"{root}.{name}")
                if not manifest.owns_field(name):
                    allowed = " or ".join(repr(p) for p in (manifest.field_prefix, *manifest.graphql_field_prefixes))
                    raise ModuleError(
                        f"module {manifest.slug!r}: GraphQL field '{root}.{name}' must start with {allowed}"
                    )
            bucket.append(cls)
        for type_name, mixin in getattr(schema, "extends", {}).items():
            if type_name not in extensible:
                raise ModuleError(
                    f"module {manifest.slug!r}: cannot extend {type_name!r}, not a core GraphQL object type "
                    f"(extensible: see docs/modules.md)"
                )
            for name in _field_names(mixin):
                claim(manifest.slug, f"{type_name}.{name}")
            found.extends.setdefault(type_name, []).append(mixin)
    return found
