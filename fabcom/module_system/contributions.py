"""What enabled modules contribute, found by file name in each module's package:
``models.py`` (a Tortoise app with ``migrations/``), ``views.py`` (``routes`` mounted at
``/m/<slug>/``), and the other files documented in docs/modules.md."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute, Mount
from tortoise.models import Model

from fabcom.i18n import add_catalog_dir
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
        specs = registry.submodule(manifest, "hookspecs")
        if specs is not None:
            manager.add_hookspecs(specs)
    for manifest in registry:
        implementations = registry.submodule(manifest, "hooks")
        if implementations is not None:
            manager.register(implementations, name=manifest.slug)
    environment.cache_clear()


def module_routes(registry: Registry) -> list[BaseRoute]:
    """Each module's ``views.routes``, mounted at ``/m/<slug>/`` and named ``<slug>:<name>``."""
    mounts: list[BaseRoute] = []
    for manifest in registry:
        views = registry.submodule(manifest, "views")
        routes = getattr(views, "routes", None) if views is not None else None
        if routes:
            mounts.append(Mount(f"/m/{manifest.slug}", routes=list(routes), name=manifest.slug))
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


def graphql_contributions(registry: Registry, taken: dict[str, set[str]]) -> GraphQLContributions:
    """Collect each module's ``schema.py``; refuse — naming the module — a type or field
    name already used by the core (``taken``: type name -> field names, with ``Query``
    and ``Mutation``) or by another module."""
    found = GraphQLContributions()
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
            claim(manifest.slug, definition.name if definition is not None else cls.__name__)
            found.types.append(cls)
        for root, bucket in (("Query", found.queries), ("Mutation", found.mutations)):
            cls = getattr(schema, root.lower(), None)
            if cls is None:
                continue
            for name in _field_names(cls):
                claim(manifest.slug, f"{root}.{name}")
            bucket.append(cls)
        for type_name, mixin in getattr(schema, "extends", {}).items():
            if type_name not in taken:
                raise ModuleError(f"module {manifest.slug!r}: cannot extend {type_name!r}, not a core GraphQL type")
            for name in _field_names(mixin):
                claim(manifest.slug, f"{type_name}.{name}")
            found.extends.setdefault(type_name, []).append(mixin)
    return found
