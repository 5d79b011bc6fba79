"""Keyset pagination for Relay connections: the cursor is the last row's sort key
(value, id), so page 1,000 costs what page 1 costs (no OFFSET)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from fabcom.gql.context import PublicError
from fabcom.gql.ids import decode_cursor, encode_cursor

MAX_PAGE = 100

# ``totalCount``: exact while the list is small; from COUNT_CACHE_MIN rows on, the count
# of one query (same SQL, same visibility, same filters) is kept COUNT_CACHE_SECONDS in
# this process, so paging through 100,000 items does not count them on every page.
COUNT_CACHE_MIN = 1_000
COUNT_CACHE_SECONDS = 30.0
COUNT_CACHE_SIZE = 1_024
_counts: OrderedDict[str, tuple[float, int]] = OrderedDict()


async def count_rows(queryset: QuerySet) -> int:
    """``COUNT(*)`` of ``queryset``; a large count may be up to COUNT_CACHE_SECONDS old."""
    # A query object builds its SQL once: the key is read from a copy of the count.
    key = queryset.count().sql(params_inline=True)
    now = time.monotonic()
    hit = _counts.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    total = await queryset.count()
    if total >= COUNT_CACHE_MIN:
        _counts[key] = (now + COUNT_CACHE_SECONDS, total)
        _counts.move_to_end(key)
        while len(_counts) > COUNT_CACHE_SIZE:
            _counts.popitem(last=False)
    else:
        _counts.pop(key, None)
    return total


@dataclass(frozen=True)
class Order:
    """Sort by ``field`` then ``id``; ``kind`` says how the cursor value is typed."""

    field: str = "id"
    descending: bool = False
    kind: str = "int"


@dataclass
class Page:
    rows: list[Any]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


def check_window(first: int | None, last: int | None) -> None:
    """The same rule the request pre-check applies, for direct callers."""
    if first is None and last is None:
        raise PublicError("You must provide `first` or `last` to paginate this connection.", "PAGINATION_REQUIRED")
    if first is not None and last is not None:
        raise PublicError("Passing both `first` and `last` is not supported.", "PAGINATION_INVALID")
    size = first if first is not None else last
    if size is None or not 1 <= size <= MAX_PAGE:
        raise PublicError(f"`first` and `last` must be between 1 and {MAX_PAGE}.", "PAGINATION_INVALID")


def _after(order: Order, key: tuple[Any, int], forward: bool) -> Q:
    value, pk = key
    greater = forward != order.descending
    op = "gt" if greater else "lt"
    if order.field == "id":
        return Q(**{f"id__{op}": pk})
    return Q(**{f"{order.field}__{op}": value}) | Q(**{order.field: value, f"id__{op}": pk})


def _ordering(order: Order, forward: bool) -> list[str]:
    descending = order.descending != (not forward)
    sign = "-" if descending else ""
    return [f"{sign}id"] if order.field == "id" else [f"{sign}{order.field}", f"{sign}id"]


def sort_key(order: Order, row: Model) -> tuple[Any, int]:
    return (row.pk if order.field == "id" else getattr(row, order.field), row.pk)


async def paginate(
    queryset: QuerySet,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order: Order = Order(),
    prepare: Callable[[QuerySet], QuerySet] | None = None,
    count: bool = True,
) -> Page:
    """One page of ``queryset`` (already filtered for visibility) and its total.
    ``prepare`` adds ``select_related``/``prefetch_related`` to the page query only;
    ``count=False`` skips the ``COUNT(*)`` (the client did not ask for ``totalCount``)."""
    check_window(first, last)
    forward = first is not None
    size = first if forward else last
    assert size is not None
    total = await count_rows(queryset) if count else -1
    page_qs = queryset
    cursor = after if forward else before
    if cursor is not None:
        page_qs = page_qs.filter(_after(order, decode_cursor(cursor, order.kind), forward))
    page_qs = page_qs.order_by(*_ordering(order, forward)).limit(size + 1)
    if prepare is not None:
        page_qs = prepare(page_qs)
    rows = list(await page_qs)
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    return Page(
        rows=rows,
        cursors=[encode_cursor(sort_key(order, row)) for row in rows],
        has_next_page=more if forward else before is not None,
        has_previous_page=after is not None if forward else more,
        total_count=total,
    )


def page_of_rows(
    rows: Sequence[Any], *, first: int | None, after: str | None, last: int | None, before: str | None
) -> Page:
    """One page of a short list already in memory (a project's partners and needs, loaded
    in bulk with the page of projects), by id, with the same cursors as ``paginate``: a
    nested connection without one query per parent."""
    check_window(first, last)
    order = Order()
    ordered = sorted(rows, key=lambda row: row.pk)
    if after is not None:
        pk = decode_cursor(after, order.kind)[1]
        ordered = [row for row in ordered if row.pk > pk]
    if before is not None:
        pk = decode_cursor(before, order.kind)[1]
        ordered = [row for row in ordered if row.pk < pk]
    size = first if first is not None else last
    assert size is not None
    window = ordered[:size] if first is not None else ordered[-size:]
    return Page(
        rows=window,
        cursors=[encode_cursor(sort_key(order, row)) for row in window],
        has_next_page=len(ordered) > size if first is not None else before is not None,
        has_previous_page=after is not None if first is not None else len(ordered) > size,
        total_count=len(rows),
    )
