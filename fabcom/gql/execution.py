"""graphql-core's executor, told that a Tortoise row is a plain value, with a short path
for plain scalar fields.

A Tortoise ``Model`` defines ``__await__`` (``await row`` gives the row back), so
graphql-core took every row a resolver returned — each node of a page, each related
organization, category, location — for an awaitable: one coroutine and one asyncio task
per object, and a ``gather`` per list. Awaiting a row changes nothing, so the executor
now completes rows synchronously; what really needs awaiting (a coroutine, an unfetched
relation's query set) still is.

Most fields of a page are plain scalars read from an attribute (``title``, ``name``,
``cursor``…): two thirds of the ~1,500 fields of a 100-item page. For each, graphql-core
builds a resolve info, Strawberry's resolver reads the attribute, and ``complete_value``
walks the type's wrappers before serializing: about ten calls per field. A plain scalar
field now reads the attribute with Strawberry's own resolver and serializes it directly;
so does a Relay ``id`` that Strawberry would compute from the row's primary key (its
resolver, per object, is the dearest field of a page). A plain object field (an edge's
``node``, an item's ``organization``, ``category``, ``location``: read from an attribute,
of an object type) goes straight to its sub-selection, without the resolve info, the
resolver call and the chain of ``complete_value`` calls. Anything out of the ordinary (an
error, an awaitable, a null for a non-null field, a value the scalar refuses, an object
its type does not accept) takes graphql-core's full path, which reports it as before.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    Undefined,
)
from strawberry import relay
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise.models import Model

# Asked of every field's value, several times over: the common values answer at once.
_NEVER_AWAITED = frozenset({type(None), bool, int, float, str, list, dict, Decimal, dt.datetime, dt.date})


def is_awaitable(value: Any) -> bool:
    """graphql-core's predicate, except that a Tortoise row is not awaited."""
    if type(value) in _NEVER_AWAITED:
        return False
    return not isinstance(value, Model) and optimized_is_awaitable(value)


class PlainScalar(NamedTuple):
    """A field whose value is an attribute of its parent, serialized by a scalar or an enum."""

    read: Callable[[Any], Any]
    type: GraphQLLeafType
    nullable: bool


def _is_attribute_read(resolve: Any) -> bool:
    """Strawberry's resolver of a field with no resolver, no extension (permissions…) and no
    exception handler: it reads the attribute and ignores the resolve info. Any other
    resolver (or one Strawberry renames in a later version) keeps graphql-core's path."""
    return getattr(resolve, "_is_default", False) and getattr(resolve, "__name__", "") == "_get_basic_result"


_NODE_ID = next(f for f in relay.Node.__strawberry_definition__.fields if f.graphql_name == "id")  # type: ignore[attr-defined]


def _global_id_read(graphql_type: GraphQLObjectType, field: Any) -> Callable[[Any], Any] | None:
    """For Strawberry's ``Node.id`` on a type that keeps the default ``resolve_id`` and
    ``resolve_typename``: what that resolver returns (the type's name and the row's
    ``NodeID`` attribute), without its per-object call. ``None`` for any other field."""
    definition = field.extensions.get("strawberry-definition")
    resolver = getattr(definition, "base_resolver", None)
    wrapped = getattr(getattr(resolver, "wrapped_func", None), "__func__", None)
    origin = getattr(graphql_type.extensions.get("strawberry-definition"), "origin", None)
    if (
        wrapped is None
        or wrapped is not _NODE_ID.base_resolver.wrapped_func.__func__
        or definition.extensions
        or not (isinstance(origin, type) and issubclass(origin, relay.Node))
        or origin.resolve_id.__func__ is not relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
        or origin.resolve_typename.__func__ is not relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    ):
        return None
    type_name, attribute = graphql_type.name, origin.resolve_id_attr()

    def read(source: Any) -> relay.GlobalID | None:
        pk = getattr(source, attribute)
        return None if pk is None else relay.GlobalID(type_name=type_name, node_id=str(pk))

    return read


class PlainObject(NamedTuple):
    """A field whose value is an attribute of its parent, of an object type (not a list)."""

    read: Callable[[Any], Any]
    type: GraphQLObjectType
    field_type: GraphQLOutputType  # as declared, for graphql-core's error handling
    nullable: bool


def plain_fields(schema: GraphQLSchema) -> dict[tuple[str, str], PlainScalar | PlainObject]:
    """The plain scalar and plain object fields of ``schema``, by (object type name, field name)."""
    found: dict[tuple[str, str], PlainScalar | PlainObject] = {}
    for type_name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            attribute = _is_attribute_read(field.resolve)
            read = field.resolve if attribute else _global_id_read(graphql_type, field)
            if read is None:
                continue
            nullable = not isinstance(field.type, GraphQLNonNull)
            named = field.type if nullable else field.type.of_type
            if isinstance(named, GraphQLLeafType):
                found[(type_name, field_name)] = PlainScalar(read, named, nullable)
            elif attribute and isinstance(named, GraphQLObjectType):
                found[(type_name, field_name)] = PlainObject(read, named, field.type, nullable)
    return found


_plain_fields: weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], PlainScalar | PlainObject]] = (
    weakref.WeakKeyDictionary()
)


def _accepts(object_type: GraphQLObjectType, value: Any) -> bool:
    """``object_type.is_type_of`` for the short path. Strawberry's and fabcom's ignore the
    resolve info the short path does not build; one that needs it raises here, and the
    full path calls it again with the info."""
    if object_type.is_type_of is None:
        return True
    try:
        return object_type.is_type_of(value, None) is True  # type: ignore[arg-type]
    except Exception:
        return False


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with ``is_awaitable`` above and the plain scalar path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = is_awaitable  # type: ignore[assignment]  # sub-executors copy it
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            # A resolve hook (a Strawberry extension's ``resolve``, graphql-core middleware)
            # wraps every resolver: it must see every field, so no short path.
            self.plain = {}
            return
        plain = _plain_fields.get(self.schema)
        if plain is None:
            plain = _plain_fields[self.schema] = plain_fields(self.schema)
        self.plain = plain

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        plain = self.plain.get((parent_type.name, field_details_list[0].node.name.value))
        if isinstance(plain, PlainObject):
            completed = self._complete_plain_object(plain, source, field_details_list, path, position_context)
            if completed is not Undefined:
                return completed
        elif plain is not None:
            try:
                value = plain.read(source)
                if value is None:
                    if plain.nullable:
                        return None
                elif not is_awaitable(value):
                    serialized = plain.type.coerce_output_value(value)
                    if serialized is not None and serialized is not Undefined:
                        return serialized
            except Exception:  # noqa: S110 - the full path below raises it again and reports it
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _complete_plain_object(
        self, plain: PlainObject, source: Any, field_details_list: Any, path: Any, position_context: Any
    ) -> Any:
        """The sub-selection of a plain object field, as ``complete_object_value`` would
        run it; ``Undefined`` when the value needs the full path (it reads it again)."""
        try:
            value = plain.read(source)
        except Exception:
            return Undefined
        if value is None:
            return None if plain.nullable else Undefined
        if is_awaitable(value) or not _accepts(plain.type, value):
            return Undefined
        try:
            completed = self.collect_and_execute_subfields(
                plain.type, field_details_list, path, value, position_context
            )
        except Exception as raw_error:  # as graphql-core's execute_field: null here, or up to the parent
            self.handle_field_error(raw_error, plain.field_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, plain.field_type, field_details_list, path)
                return None

        return await_completed()
