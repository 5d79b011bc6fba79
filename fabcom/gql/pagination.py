"""Keyset pagination for Relay connections: the cursor is the last row's sort key
(value, id), so page 1,000 costs what page 1 costs (no OFFSET)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet

from fabcom.gql.context import PublicError
from fabcom.gql.ids import decode_cursor, encode_cursor
from fabcom.i18n import N_
from fabcom.redis_clients import redis_client

MAX_PAGE = 100

# ``totalCount``: exact while the list is small; from COUNT_CACHE_MIN rows on, the count
# of one query (same SQL, same visibility, same filters) is kept COUNT_CACHE_SECONDS, so
# paging through 100,000 items does not count them on every page. Kept in Redis when the
# instance has one (every server process then shares it), else in this process.
COUNT_CACHE_MIN = 1_000
COUNT_CACHE_SECONDS = 30.0
COUNT_CACHE_SIZE = 1_024
COUNT_KEY_PREFIX = "fabcom:count:"
_counts: OrderedDict[str, tuple[float, int]] = OrderedDict()
# The Redis URL of the request being served ("" without Redis): set by the GraphQL
# endpoint for each request, so every list resolver — the core's, federation's, modules' —
# uses the instance's store without being handed the settings.
count_store: ContextVar[str] = ContextVar("fabcom_count_store", default="")
logger = logging.getLogger("fabcom.gql")


def _redis_key(key: str) -> str:
    return COUNT_KEY_PREFIX + hashlib.sha256(key.encode()).hexdigest()


async def _cached_in_redis(url: str, key: str) -> int | None:
    # Imported here, as in redis_clients: redis (and the jwt and cryptography it imports)
    # is ~45 ms of CPU an instance without Redis would pay before its first GraphQL answer.
    from redis.exceptions import RedisError

    try:
        raw = await redis_client(url).get(_redis_key(key))
    except RedisError:
        logger.warning("totalCount cache: Redis unavailable, counting", exc_info=True)
        return None
    return None if raw is None else int(raw)


async def _keep_in_redis(url: str, key: str, total: int) -> None:
    from redis.exceptions import RedisError

    try:
        await redis_client(url).set(_redis_key(key), total, px=int(COUNT_CACHE_SECONDS * 1000))
    except RedisError:
        logger.warning("totalCount cache: Redis unavailable, count not kept", exc_info=True)


def _cached_in_process(key: str, now: float) -> int | None:
    hit = _counts.get(key)
    return hit[1] if hit is not None and hit[0] > now else None


def _keep_in_process(key: str, total: int, now: float) -> None:
    if total >= COUNT_CACHE_MIN:
        _counts[key] = (now + COUNT_CACHE_SECONDS, total)
        _counts.move_to_end(key)
        while len(_counts) > COUNT_CACHE_SIZE:
            _counts.popitem(last=False)
    else:
        _counts.pop(key, None)


async def count_rows(queryset: QuerySet, *, redis_url: str | None = None) -> int:
    """``COUNT(*)`` of ``queryset``; a large count may be up to COUNT_CACHE_SECONDS old.
    ``redis_url``: where counts are kept ("" for this process); by default the store of
    the request being served (``count_store``)."""
    url = count_store.get() if redis_url is None else redis_url
    # A query object builds its SQL once: the key is read from a copy of the count.
    key = queryset.count().sql(params_inline=True)
    now = time.monotonic()
    hit = await _cached_in_redis(url, key) if url else _cached_in_process(key, now)
    if hit is not None:
        return hit
    total = await queryset.count()
    if not url:
        _keep_in_process(key, total, now)
    elif total >= COUNT_CACHE_MIN:  # a small count is never kept: nothing to forget either
        await _keep_in_redis(url, key, total)
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
        raise PublicError(N_("You must provide `first` or `last` to paginate this connection."), "PAGINATION_REQUIRED")
    if first is not None and last is not None:
        raise PublicError(N_("Passing both `first` and `last` is not supported."), "PAGINATION_INVALID")
    size = first if first is not None else last
    if size is None or not 1 <= size <= MAX_PAGE:
        raise PublicError(N_("`first` and `last` must be between 1 and {limit}."), "PAGINATION_INVALID", limit=MAX_PAGE)


def _after(order: Order, key: tuple[Any, int], forward: bool) -> Q:
    value, pk = key
    greater = forward != order.descending
    op = "gt" if greater else "lt"
    if order.field == "id":
        return Q(**{f"id__{op}": pk})  # type: ignore[arg-type]  # the lookups never include join_type
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
    load: Callable[[QuerySet], Awaitable[list[Any]]] | None = None,
    count: bool = True,
) -> Page:
    """One page of ``queryset`` (already filtered for visibility) and its total.
    ``prepare`` adds ``select_related``/``prefetch_related`` to the page query only;
    ``load`` reads the page query's rows (by default, its models; rows need ``pk`` and the
    sort field as attributes); ``count=False`` skips the ``COUNT(*)`` (the client did not
    ask for ``totalCount``)."""
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
    rows = list(await (page_qs if load is None else load(page_qs)))
    return _page(rows, size, forward, order, after=after, before=before, total=total)


def _page(
    rows: list[Any], size: int, forward: bool, order: Order, *, after: str | None, before: str | None, total: int
) -> Page:
    """A page from the up to ``size + 1`` rows read past the cursor, in the reading order
    (backwards for ``last``): the extra row only tells that there is more."""
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


@dataclass(frozen=True)
class Window:
    """The arguments of a nested connection's selection (``tasks(first: 10)``), the same
    for every parent of a page: what its loader is kept under; ``count`` is whether
    ``totalCount`` is asked."""

    first: int | None
    after: str | None
    last: int | None
    before: str | None
    count: bool


async def paginate_each(queryset: QuerySet, parent: str, parent_ids: Sequence[int], window: Window) -> dict[int, Page]:
    """A page of ``queryset`` for each of ``parent_ids`` (its rows whose ``parent``
    column holds that id), by id, each cut as ``paginate`` would cut it alone: a nested
    connection (a project's tasks) for a whole page of parents in one statement, and one
    more for the totals when asked, rather than one or two per parent.

    ``ROW_NUMBER()`` numbers each parent's rows past the cursor, and only the first
    ``size + 1`` of each come back: a parent with 10,000 rows sends and builds what one
    with 11 does. Tortoise has no window functions: the ranked query is Tortoise's, wrapped in the outer
    ``SELECT`` here (as the bookings module reads ``Item.bookings``)."""
    check_window(window.first, window.last)
    forward = window.first is not None
    size = window.first if forward else window.last
    assert size is not None
    order = Order()
    queryset = queryset.filter(**{f"{parent}__in": sorted(set(parent_ids))})
    totals: dict[int, int] = {}
    if window.count:
        counted = queryset.annotate(total=Count("id")).group_by(parent).values(parent, "total")
        totals = {row[parent]: row["total"] for row in await counted}
    cursor = window.after if forward else window.before
    if cursor is not None:
        queryset = queryset.filter(_after(order, decode_cursor(cursor, order.kind), forward))
    table = queryset.model._meta.db_table
    direction = "ASC" if forward else "DESC"
    ranked = queryset.annotate(
        page_rank=RawSQL(f'ROW_NUMBER() OVER (PARTITION BY "{table}"."{parent}" ORDER BY "{table}"."id" {direction})')
    )
    ranked._choose_db_if_not_chosen()
    ranked._make_query()
    sql, params = ranked.query.get_parameterized_sql()
    outer = f'SELECT * FROM ({sql}) "ranked" WHERE "page_rank" <= {size + 1}'  # noqa: S608 - Tortoise's parameterized SQL, an int
    executor = ranked._db.executor_class(model=queryset.model, db=ranked._db)
    rows: dict[int, list[Any]] = {pk: [] for pk in parent_ids}
    for row in sorted(await executor.execute_select(outer, params), key=lambda row: row.pk, reverse=not forward):
        rows[getattr(row, parent)].append(row)
    return {
        pk: _page(
            found,
            size,
            forward,
            order,
            after=window.after,
            before=window.before,
            total=totals.get(pk, 0) if window.count else -1,
        )
        for pk, found in rows.items()
    }


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
