"""The statement of a page's ``values()`` query, built once per shape of query.

Tortoise builds the SQL of a query anew each time: for a page of 100 items with their
organization, category and location, the select list with its joins, the filters and the
order cost about a sixth of the API's CPU per page, for a statement that is the same for
every page of the same query (only its parameters change: the cursor, a slug, the ids an
actor may see).

The *shape* of a query is the SQL of the same queryset reduced to its ids (``values("id")``:
the same filters, order and limit, without the joined columns, a fraction of the cost to
build) and the columns asked for. The first time a shape is seen, Tortoise builds the whole
statement; it is kept only when its parameters are exactly those of the reduced query (the
columns add none), so that a query of the same shape is later sent with its own parameters.
Rows are converted as Tortoise's ``values()`` converts them. A queryset with annotations
(the full-text search, whose words are in its SQL) is built each time, as before: its
shapes are as many as the searches typed.

``values_in`` does the same for a query of rows by a list of keys (a page's photos), whose
shape is the number of keys: building its ``IN`` list was as dear as the page's statement.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from typing import Any

from tortoise.models import Model
from tortoise.queryset import QuerySet

MAX_SHAPES = 512  # then forgotten all at once: a bound on memory, not an LRU

_Converters = list[tuple[str, Callable[[Any], Any]]]
_statements: dict[tuple[str, tuple[str, ...], str], tuple[str, _Converters]] = {}


async def page_values(queryset: QuerySet[Any], names: Sequence[str]) -> list[dict[str, Any]]:
    """``await queryset.values(*names)``, with the statement built once per shape."""
    if queryset._annotations:
        return await queryset.values(*names)
    shape = queryset.values("id")
    shape._choose_db_if_not_chosen()
    shape._make_query()
    shape_sql, params = shape.query.get_parameterized_sql()
    db = shape._db
    key = (db.capabilities.dialect, tuple(names), shape_sql)
    known = _statements.get(key)
    if known is None:
        full = queryset.values(*names)
        full._db = db
        full._make_query()
        sql, full_params = full.query.get_parameterized_sql()
        converters = _converters(full)
        if full_params != params:  # the columns brought parameters of their own: never kept
            return await _run(db, sql, full_params, converters)
        if len(_statements) >= MAX_SHAPES:
            _statements.clear()
        known = _statements[key] = (sql, converters)
    sql, converters = known
    return await _run(db, sql, params, converters)


async def values_in(
    model: type[Model], field: str, keys: Sequence[Any], order: Sequence[str], names: Sequence[str]
) -> list[dict[str, Any]]:
    """``await model.filter(<field>__in=keys).order_by(*order).values(*names)`` (a page's
    photos by item), with the statement built once per number of keys: its parameters
    are the keys (a statement whose parameters are anything else is never kept)."""
    query = model.filter(**{f"{field}__in": list(keys)}).order_by(*order).values(*names)
    query._choose_db_if_not_chosen()
    db = query._db
    key = (db.capabilities.dialect, (model._meta.db_table, field, *order, "|", *names), str(len(keys)))
    known = _statements.get(key)
    if known is None:
        query._make_query()
        sql, params = query.query.get_parameterized_sql()
        converters = _converters(query)
        if params != list(keys):
            return await _run(db, sql, params, converters)
        if len(_statements) >= MAX_SHAPES:
            _statements.clear()
        known = _statements[key] = (sql, converters)
    sql, converters = known
    return await _run(db, sql, list(keys), converters)


def _converters(query: Any) -> _Converters:
    """The conversions ``values()`` applies to its columns (Tortoise's ``ValuesQuery._execute``)."""
    found = []
    for alias, field_name in query._fields_for_select.items():
        convert = query.resolve_to_python_value(query.model, field_name)
        if not isinstance(convert, types.LambdaType):
            found.append((alias, convert))
    return found


async def _run(db: Any, sql: str, params: list[Any], converters: _Converters) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await db.execute_query_dict(sql, params)
    if converters:
        for row in rows:
            for column, convert in converters:
                row[column] = convert(row[column])
    return rows
