"""graphql-core's executor, told that a Tortoise row is a plain value, with a compiled
path for the plain fields that make up most of a page.

A Tortoise ``Model`` defines ``__await__`` (``await row`` gives the row back), so
graphql-core took every row a resolver returned — each node of a page, each related
organization, category, location — for an awaitable: one coroutine and one asyncio task
per object, and a ``gather`` per list. Awaiting a row changes nothing, so the executor
completes rows synchronously; a relation Tortoise has already fetched is a plain list
too. What really needs awaiting (a coroutine, an unfetched relation) still is.

Most fields of a page are **plain**: read from an attribute, with no resolver, no
permission, no extension (``title``, ``cursor``, an edge's ``node``, an item's
``organization``, its ``photos``…), or a Relay ``id`` computed from the primary key.
graphql-core spends about ten Python calls on each: a path, a resolve info, the
resolver, ``complete_value`` walking the type's wrappers, an awaitable check. For a
selection under a plain object or list field, the executor now builds a **plan** once per
request (the sub-selection collected, each field's reader and serializer chosen) and runs
it for every object of the page: a scalar is an attribute read and a type check, an
object or a list recurses into its plan. A field that is not plain (a resolver, ``uri``,
``url``) runs through graphql-core's own ``execute_field``, awaitables included. Anything
out of the ordinary in a plain field (an error, a null for a non-null field, a value the
scalar refuses, an awaitable, an object its type does not accept) hands that whole field
to graphql-core's path before any of its sub-fields ran, so errors, nulls and their paths
are graphql-core's own (``tests/api/test_api_execution.py`` compares the two).
"""

from __future__ import annotations

import datetime as dt
import weakref
from binascii import b2a_base64
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    Undefined,
)
from graphql.pyutils import Path, gather_with_cancel
from strawberry import relay
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise.fields.relational import ReverseRelation
from tortoise.models import Model

from fabcom.gql.loaders import Row

# Asked of every field's value, several times over: the common values answer at once.
_NEVER_AWAITED = frozenset(
    {type(None), bool, int, float, str, list, dict, Decimal, dt.datetime, dt.date, relay.GlobalID}
)


_ROWS = (Row, Model, Enum)  # a tuple: ``Row | Model | Enum`` would be built at every call


def is_awaitable(value: Any) -> bool:
    """graphql-core's predicate, except that a row (a Tortoise model, a page's plain row),
    an enum member, and a relation Tortoise has fetched (a list by then) are not awaited."""
    kind = type(value)
    if kind in _NEVER_AWAITED:
        return False
    if kind is ReverseRelation:
        return not value._fetched
    return not isinstance(value, _ROWS) and optimized_is_awaitable(value)


# --- which fields are plain ----------------------------------------------------------------


class PlainScalar(NamedTuple):
    """A field whose value is an attribute of its parent, serialized by a scalar or an enum."""

    read: Callable[[Any], Any]
    type: GraphQLLeafType
    nullable: bool


class PlainObject(NamedTuple):
    """A field whose value is an attribute of its parent, of an object type."""

    read: Callable[[Any], Any]
    type: GraphQLObjectType
    field_type: GraphQLOutputType  # as declared, for graphql-core's error handling
    nullable: bool


class PlainList(NamedTuple):
    """A field whose value is an attribute of its parent, a list of an object type."""

    read: Callable[[Any], Any]
    type: GraphQLObjectType  # of the items
    field_type: GraphQLOutputType
    item_type: GraphQLOutputType  # as declared, for graphql-core's error handling
    nullable: bool
    item_nullable: bool


Plain = PlainScalar | PlainObject | PlainList


def _attribute_reader(field: Any) -> Callable[[Any], Any] | None:
    """For Strawberry's resolver of a field with no resolver, no extension (permissions…)
    and no exception handler, which reads the attribute and ignores the resolve info: the
    same read, without its three Python calls. For a resolver field with no extension
    that names a ``row_attribute``, a read of that attribute (a row without it raises, and
    graphql-core's path calls the resolver). ``None`` for any other resolver (or one
    Strawberry renames in a later version), which keeps graphql-core's path."""
    resolve = field.resolve
    definition = field.extensions.get("strawberry-definition")
    row_attribute = (getattr(definition, "metadata", None) or {}).get("row_attribute")
    if row_attribute is not None and not definition.extensions:  # fabcom.gql.lookahead.reads(row_attribute=)
        return attrgetter(row_attribute)
    if not (getattr(resolve, "_is_default", False) and getattr(resolve, "__name__", "") == "_get_basic_result"):
        return None
    if getattr(definition, "default_resolver", None) is getattr and definition.python_name:
        return attrgetter(definition.python_name)
    return resolve  # a custom default resolver: Strawberry's call, which uses it


_NODE_ID = next(f for f in relay.Node.__strawberry_definition__.fields if f.graphql_name == "id")  # type: ignore[attr-defined]


def _global_id_read(graphql_type: GraphQLObjectType, field: Any) -> Callable[[Any], Any] | None:
    """For Strawberry's ``Node.id`` on a type that keeps the default ``resolve_id`` and
    ``resolve_typename``: what that resolver returns (the type's name and the row's
    ``NodeID`` attribute), already serialized, without its per-object calls. ``None`` for
    any other field."""
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
    prefix, attribute = f"{graphql_type.name}:", origin.resolve_id_attr()

    def read(source: Any) -> str | None:
        pk = getattr(source, attribute)
        if type(pk) is not int and is_awaitable(pk):
            raise TypeError("an awaitable primary key")  # graphql-core's path awaits it
        # str(GlobalID(type_name, str(pk))), as the ID scalar would serialize it
        return None if pk is None else b2a_base64(f"{prefix}{pk}".encode(), newline=False).decode()

    return read


def plain_fields(schema: GraphQLSchema) -> dict[tuple[str, str], Plain]:
    """The plain fields of ``schema``, by (object type name, field name)."""
    found: dict[tuple[str, str], Plain] = {}
    for type_name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            attribute = _attribute_reader(field)
            read = attribute or _global_id_read(graphql_type, field)
            if read is None:
                continue
            nullable = not isinstance(field.type, GraphQLNonNull)
            named = field.type if nullable else field.type.of_type
            if isinstance(named, GraphQLLeafType):
                found[(type_name, field_name)] = PlainScalar(read, named, nullable)
            elif attribute is None:
                continue
            elif isinstance(named, GraphQLObjectType):
                found[(type_name, field_name)] = PlainObject(read, named, field.type, nullable)
            elif isinstance(named, GraphQLList):
                item_nullable = not isinstance(named.of_type, GraphQLNonNull)
                item = named.of_type if item_nullable else named.of_type.of_type
                if isinstance(item, GraphQLObjectType):
                    found[(type_name, field_name)] = PlainList(
                        read, item, field.type, named.of_type, nullable, item_nullable
                    )
    return found


_plain_fields: weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], Plain]] = weakref.WeakKeyDictionary()


def _accepts(object_type: GraphQLObjectType, value: Any) -> bool:
    """``object_type.is_type_of`` for the compiled path. Strawberry's and fabcom's ignore
    the resolve info the compiled path does not build; one that needs it raises here, and
    graphql-core's path calls it again with the info."""
    if object_type.is_type_of is None:
        return True
    try:
        return object_type.is_type_of(value, None) is True  # type: ignore[arg-type]
    except Exception:
        return False


_INT_RANGE = range(-(2**31), 2**31)


def _serializer(scalar: GraphQLLeafType) -> Callable[[Any], Any]:
    """The scalar's output coercion, with the common values let through as they are;
    ``Undefined`` (graphql-core's path then) for an awaitable, which graphql-core awaits."""
    coerce_output_value = scalar.coerce_output_value

    def coerce(value: Any) -> Any:
        # An awaitable is awaited, an exception raised, by graphql-core's path.
        return Undefined if isinstance(value, Exception) or is_awaitable(value) else coerce_output_value(value)

    if scalar is GraphQLString:
        return lambda value: value if type(value) is str else coerce(value)
    if scalar is GraphQLInt:
        return lambda value: value if type(value) is int and value in _INT_RANGE else coerce(value)
    if scalar is GraphQLBoolean:
        return lambda value: value if type(value) is bool else coerce(value)
    if scalar is GraphQLID:
        return lambda value: value if type(value) is str else coerce(value)
    wrapped = getattr(scalar, "wrapped_cls", None)  # Strawberry's enums
    if isinstance(scalar, GraphQLEnumType) and isinstance(wrapped, type) and issubclass(wrapped, Enum):
        names: dict[Any, str] = {}
        for name, enum_value in scalar.values.items():
            names.setdefault(enum_value.value, name)  # the first name, as its coercion finds it

        def enum_name(value: Any) -> Any:
            if type(value) is wrapped:
                name = names.get(value._value_)
                if name is not None:
                    return name
            return coerce(value)

        return enum_name
    return coerce


# --- plans ---------------------------------------------------------------------------------

_SCALAR, _OBJECT, _LIST, _TYPENAME, _OTHER = range(5)


class _NoValue:
    """A type no field's value has (``as_is`` of a scalar that always serializes)."""


_new_path = tuple.__new__  # graphql-core's Path (a NamedTuple) without its Python-level __new__
_COMPLETED = frozenset({dict, list, type(None)})  # what a completed field is, unless awaitable


class _Entry(NamedTuple):
    """One response key of a plan."""

    kind: int
    key: str
    field_details_list: Any
    plain: Any  # the Plain* of the field; None for __typename and other fields
    serialize: Callable[[Any], Any] | None  # scalars
    plan: _Plan | None  # objects, and lists' items


class _Plan(NamedTuple):
    """A sub-selection of an object type, collected once per request."""

    type: GraphQLObjectType
    # per entry, unpacked in the loop that runs for every object of a page:
    # (kind, response key, read, serialize, nullable, entry, as_is): ``as_is`` is the
    # type a value of the field is answered as it is (str, for String and ID), without
    # calling ``serialize``
    steps: tuple[tuple[int, str, Any, Any, bool, _Entry, Any], ...]


class _Handover(Exception):  # a signal, not an error
    """A plain field's value needs graphql-core's path."""


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with ``is_awaitable`` above and the compiled path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = is_awaitable  # type: ignore[assignment]  # sub-executors copy it
        self._plans: dict[tuple[str, int], tuple[Any, _Plan | None]] = {}
        self.compiled = not (self.middleware_manager is not None and self.middleware_manager.middlewares)
        # (A resolve hook — a Strawberry extension's ``resolve``, graphql-core middleware —
        # wraps every resolver: it must see every field, so no compiled path.)
        plain = _plain_fields.get(self.schema)
        if plain is None:
            plain = _plain_fields[self.schema] = plain_fields(self.schema)
        self.plain = plain

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """An object's sub-selection, by its plan (graphql-core's path inside a deferred
        fragment, where the position context is set)."""
        plan = self._plan(return_type, field_details_list) if self.compiled and position_context is None else None
        if plan is None:
            return super().collect_and_execute_subfields(
                return_type, field_details_list, path, result, position_context
            )
        return self._run_plan(plan, result, path)

    def _plan(self, object_type: GraphQLObjectType, field_details_list: Any) -> _Plan | None:
        """The plan of ``field_details_list``'s sub-selection on ``object_type``; ``None``
        when it defers part of it (graphql-core's path delivers that)."""
        key = (object_type.name, id(field_details_list))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        grouped, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        plan: _Plan | None = None
        if not defer_usages and not any(
            d.name.value == "stream" for details in field_details_list for d in details.node.directives or ()
        ):
            entries = []
            for response_key, details in grouped.items():
                name = details[0].node.name.value
                plain = self.plain.get((object_type.name, name))
                if name == "__typename":
                    entries.append(_Entry(_TYPENAME, response_key, details, None, None, None))
                elif type(plain) is PlainScalar:
                    entries.append(_Entry(_SCALAR, response_key, details, plain, _serializer(plain.type), None))
                elif (
                    isinstance(plain, PlainObject | PlainList) and (sub := self._plan(plain.type, details)) is not None
                ):
                    kind = _OBJECT if type(plain) is PlainObject else _LIST
                    entries.append(_Entry(kind, response_key, details, plain, None, sub))
                else:
                    entries.append(_Entry(_OTHER, response_key, details, None, None, None))
            plan = _Plan(
                object_type,
                tuple(
                    (
                        e.kind,
                        e.key,
                        e.plain and e.plain.read,
                        e.serialize,
                        bool(e.plain and e.plain.nullable),
                        e,
                        str if e.kind == _SCALAR and e.plain.type in (GraphQLString, GraphQLID) else _NoValue,
                    )
                    for e in entries
                ),
            )
        self._plans[key] = (field_details_list, plan)  # keeps the list, hence its id, alive
        return plan

    def _run_plan(self, plan: _Plan, source: Any, path: Path) -> Any:
        """``source``'s fields as ``execute_fields`` completes them: a dict, or an
        awaitable of it when a field not plain returned one."""
        results: dict[str, Any] = {}
        awaited: list[str] = []
        object_type = plan.type
        try:
            for kind, key, read, serialize, nullable, entry, as_is in plan.steps:
                if kind == _SCALAR:
                    try:
                        value = read(source)
                        if type(value) is as_is:
                            results[key] = value
                            continue
                        if value is None:
                            if nullable:
                                results[key] = None
                                continue
                        else:
                            serialized = serialize(value)
                            if serialized is not None and serialized is not Undefined:
                                results[key] = serialized
                                continue
                    except Exception:  # noqa: S110 - graphql-core's path below raises it again and reports it
                        pass
                    result = self._other(entry, object_type, source, path)
                elif kind == _TYPENAME:
                    results[key] = object_type.name
                    continue
                elif kind == _OTHER:
                    result = self._other(entry, object_type, source, path)
                else:
                    try:
                        result = self._run_entry(entry, object_type, source, path)
                    except _Handover:
                        result = self._other(entry, object_type, source, path)
                if result is Undefined:
                    continue
                results[key] = result
                if type(result) not in _COMPLETED and is_awaitable(result):
                    awaited.append(key)
        except Exception:
            if awaited:
                self.settle_in_background([results[key] for key in awaited])
            raise
        if not awaited:
            return results

        async def gather() -> dict[str, Any]:
            if len(awaited) == 1:  # as graphql-core: no task for a lone awaitable
                results[awaited[0]] = await results[awaited[0]]
                return results
            for key, value in zip(awaited, await gather_with_cancel(*(results[key] for key in awaited)), strict=True):
                results[key] = value
            return results

        return gather()

    def _other(self, entry: _Entry, parent_type: GraphQLObjectType, source: Any, path: Path) -> Any:
        """A field through graphql-core's path (which reads a plain field's value again)."""
        field_path = _new_path(Path, (path, entry.key, parent_type.name))
        return self.execute_field(parent_type, source, entry.field_details_list, field_path, None)

    def _run_entry(self, entry: _Entry, parent_type: GraphQLObjectType, source: Any, path: Path) -> Any:
        """A plain object or list field of ``source``; ``_Handover`` (before any of its
        sub-fields ran) when its value needs graphql-core's path."""
        plain = entry.plain
        try:
            value = plain.read(source)
        except Exception as error:
            raise _Handover from error
        if value is None:
            if plain.nullable:
                return None
            raise _Handover
        plan: _Plan = entry.plan  # type: ignore[assignment]
        field_path = _new_path(Path, (path, entry.key, parent_type.name))
        if entry.kind == _OBJECT:
            if isinstance(value, Exception) or is_awaitable(value) or not _accepts(plan.type, value):
                raise _Handover
            try:  # ``_completed`` inlined: this runs for every object of a page
                result = self._run_plan(plan, value, field_path)
            except Exception as raw_error:
                self.handle_field_error(raw_error, plain.field_type, entry.field_details_list, field_path)
                return None
            return (
                result if type(result) is dict else self._await_completed(result, plain.field_type, entry, field_path)
            )
        if type(value) is not list or any(
            (not plain.item_nullable)
            if item is None
            else isinstance(item, Exception) or is_awaitable(item) or not _accepts(plan.type, item)
            for item in value
        ):
            raise _Handover
        return self._completed(self._run_items, (entry, value, field_path), plain.field_type, entry, field_path)

    def _run_items(self, entry: _Entry, items: list[Any], path: Path) -> Any:
        """A plain list's items, as ``complete_iterable_value`` completes them."""
        plan: _Plan = entry.plan  # type: ignore[assignment]
        item_type = entry.plain.item_type
        completed: list[Any] = []
        awaited: list[int] = []
        run_plan = self._run_plan
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                item_path = _new_path(Path, (path, index, None))
                try:
                    result = run_plan(plan, item, item_path)
                except Exception as raw_error:  # a null here, or raised to the list when items are non-null
                    self.handle_field_error(raw_error, item_type, entry.field_details_list, item_path)
                    result = None
                else:
                    if type(result) is not dict:  # a coroutine: a field not plain returned an awaitable
                        result = self._await_completed(result, item_type, entry, item_path)
                        awaited.append(index)
                completed.append(result)
        except Exception:
            if awaited:
                self.settle_in_background([completed[index] for index in awaited])
            raise
        if not awaited:
            return completed

        async def gather() -> list[Any]:
            if len(awaited) == 1:
                completed[awaited[0]] = await completed[awaited[0]]
                return completed
            for index, value in zip(
                awaited, await gather_with_cancel(*(completed[index] for index in awaited)), strict=True
            ):
                completed[index] = value
            return completed

        return gather()

    def _completed(
        self, run: Callable[..., Any], args: tuple[Any, ...], field_type: GraphQLOutputType, entry: _Entry, path: Path
    ) -> Any:
        """``run(*args)``, with graphql-core's error handling for a value of ``field_type`` at
        ``path``: a null there, or the error raised to the parent when non-null."""
        try:
            result = run(*args)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_type, entry.field_details_list, path)
            return None
        if not is_awaitable(result):
            return result
        return self._await_completed(result, field_type, entry, path)

    async def _await_completed(
        self, result: Awaitable[Any], field_type: GraphQLOutputType, entry: _Entry, path: Path
    ) -> Any:
        try:
            return await result
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_type, entry.field_details_list, path)
            return None
