"""The schema, assembled in one place (Saleor's habit), and its SDL export."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from fabcom.federation.schema import NetworkQuery
from fabcom.gql import types
from fabcom.gql.execution import ExecutionContext
from fabcom.gql.mutations import Mutation
from fabcom.gql.queries import Query as CoreQuery
from fabcom.gql.scalars import SCALAR_OVERRIDES
from fabcom.gql.scopes import unknown_scopes
from fabcom.module_system.contributions import check_type_prefix, graphql_contributions
from fabcom.module_system.registry import FIRST_PARTY_PACKAGE, ModuleError, Registry, discover, resolve
from fabcom.permissions import known_scopes

logger = logging.getLogger("fabcom.gql")

SDL_PATH = Path(__file__).resolve().parent.parent.parent / "graphql" / "schema.graphql"

# Federation's network search joins the core's query root.
Query = merge_types("Query", (CoreQuery, NetworkQuery))

CORE_TYPES: list[type] = [
    types.Organization,
    types.Category,
    types.Item,
    types.StockMovement,
    types.Project,
    types.Task,
    types.Member,
    types.Partnership,
    types.ExchangeRequest,
]


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error at ERROR with its traceback, so any caller could
        fill the log with bad cursors. The endpoint logs the unexpected ones, with their
        traceback (``views._format_error``); the rest are the caller's mistakes, answered
        to the caller, and only noted at DEBUG."""
        for error in errors:
            logger.debug("GraphQL error answered: %s", error.message)


def _make(query: type, mutation: type, extra: list[type]) -> strawberry.Schema:
    return Schema(
        query=query,
        mutation=mutation,
        types=[*CORE_TYPES, *extra],
        # Factories: a fresh extension per request, the LRU caches are shared at module level.
        extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
        execution_context_class=ExecutionContext,
        scalar_overrides=SCALAR_OVERRIDES,
    )


# The core's schema, with no module.
schema = _make(Query, Mutation, [])


def _core_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__"):
            continue
        names[name] = set(getattr(graphql_type, "fields", {}) or {})
    return names


# Core types a module may add fields to: the core's object types, found in the built
# schema. Not Query/Mutation (``query``/``mutation`` add root fields), not the Node
# interface (every implementor would need the field), not the generic Connection/Edge/
# PageInfo types (shared by every list), not inputs, enums or scalars (partners send them).
_NOT_EXTENSIBLE = {"Query", "Mutation"}


def _core_classes() -> dict[str, type]:
    classes: dict[str, type] = {}
    for name, concrete in schema.schema_converter.type_map.items():
        definition = concrete.definition
        origin = getattr(definition, "origin", None)
        if (
            type(definition).__name__ == "StrawberryObjectDefinition"
            and not definition.is_input  # type: ignore[union-attr]  # an object definition, checked by name above
            and not definition.is_interface  # type: ignore[union-attr]  # an object definition, checked by name above
            and name not in _NOT_EXTENSIBLE
            and origin is not None
            and origin.__module__.startswith("fabcom.")
        ):
            classes[name] = origin
    return classes


EXTENSIBLE_TYPES: dict[str, type] = _core_classes()


@contextlib.contextmanager
def _extended(extends: dict[str, list[type]]) -> Iterator[None]:
    """Core types with the modules' fields added, while the schema is being built
    (graphql-core reads every type's fields then): the core classes are left as they were."""
    saved: dict[type, Any] = {}
    try:
        for type_name, mixins in extends.items():
            cls = EXTENSIBLE_TYPES[type_name]
            definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
            saved[cls] = definition
            extra = [f for mixin in mixins for f in mixin.__strawberry_definition__.fields]  # type: ignore[attr-defined]
            cls.__strawberry_definition__ = dataclasses.replace(definition, fields=[*definition.fields, *extra])  # type: ignore[attr-defined]
        yield
    finally:
        for cls, definition in saved.items():
            cls.__strawberry_definition__ = definition  # type: ignore[attr-defined]


def _check_new_type_names(built: strawberry.Schema, registry: Registry, core: dict[str, set[str]]) -> None:
    """Every type the modules brought in (listed in ``types`` or reached through their
    fields: inputs, enums, payloads, connections) starts with its module's prefix."""
    modules = list(registry)
    for name, concrete in built.schema_converter.type_map.items():
        if name in core:
            continue
        definition = concrete.definition
        origin = getattr(definition, "origin", None) or getattr(definition, "wrapped_cls", None)
        python_module = getattr(origin, "__module__", "") or ""
        owner = next(
            (m for m in modules if python_module == m.package or python_module.startswith(m.package + ".")), None
        )
        if owner is not None:
            check_type_prefix(owner, name)
        elif not any(name.startswith(m.type_prefix) for m in modules):
            raise ModuleError(f"GraphQL type {name!r} does not start with the prefix of any enabled module")


def _check_scopes(built: strawberry.Schema, registry: Registry) -> None:
    """Every scope a field declares (``RequiresScope``) is one a token can hold with these
    modules enabled: the core's or one an enabled module declares in its manifest."""
    known = [scope.code for scope in known_scopes(registry)]
    for definition, name, scope in unknown_scopes(built._schema, known):
        python_module = getattr(getattr(definition, "origin", None), "__module__", "") or ""
        owner = next((m for m in registry if python_module.startswith(m.package + ".")), None)
        where = f"module {owner.slug!r}" if owner is not None else "the core"
        raise ModuleError(
            f"{where}: GraphQL field {name!r} requires the scope {scope!r}, which no enabled module declares "
            f"(a module declares its own in its manifest: Module(scopes=...))"
        )


def build_schema(registry: Registry | None = None) -> strawberry.Schema:
    """The core's schema plus what the enabled modules contribute (``schema.py``); the
    core's own schema when no module adds anything."""
    if registry is None:
        return schema
    core = _core_names()
    found = graphql_contributions(registry, core, set(EXTENSIBLE_TYPES))
    if not (found.types or found.queries or found.mutations or found.extends):
        return schema
    query = merge_types("Query", (Query, *found.queries)) if found.queries else Query
    mutation = merge_types("Mutation", (Mutation, *found.mutations)) if found.mutations else Mutation
    with _extended(found.extends):
        built = _make(query, mutation, found.types)
    _check_new_type_names(built, registry, core)
    _check_scopes(built, registry)
    return built


@functools.cache
def full_schema() -> strawberry.Schema:
    """The schema with every first-party module enabled: the one exported as SDL."""
    first_party = [m.slug for m in discover().values() if m.package.startswith(FIRST_PARTY_PACKAGE + ".")]
    return build_schema(Registry(tuple(resolve(discover(), sorted(first_party)))))


def sdl() -> str:
    """The schema in SDL, as committed in ``graphql/schema.graphql``."""
    return full_schema().as_str().rstrip() + "\n"


def export_schema(path: Path = SDL_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sdl(), encoding="utf-8")
    return path
