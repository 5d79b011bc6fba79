"""The inventory list's statement: an organization's items matching the list's filters, in
the list's order, read a page at a time by keyset — written as SQL.

Why not Tortoise here: the list is the page staff open most, and its htmx fragment is asked
for at every pause in typing a search. Tortoise built this statement anew for every request
(filters, joins, order, placeholders), which cost more than reading the rows; written out,
it is a join of a few strings (bench/README.md, session 10). The page, its count, the label
sheet and the exports all read through ``ItemList``, so the list's filters have one
definition.

The SQL is the same on SQLite and PostgreSQL but for the placeholders, and for ``quantity``,
which SQLite stores as text (Tortoise's decimal field) and must compare as a number.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise import connections

from fabcom.gql.search import item_number, search_condition, sharing_condition
from fabcom.inventory.models import OUT_OF_STOCK, ItemStatus, SharingMode, Visibility

# The list's query parameters: what the filter form sends, and the order.
FILTERS = ("q", "category", "status", "location", "visibility", "sharing", "sort")
# Each order: its column and whether it is descending. The id breaks ties the same way.
SORTS: dict[str, tuple[str, bool]] = {
    "title": ("title", False),
    "-updated": ("updated_at", True),
    "-created": ("created_at", True),
    "quantity": ("quantity", False),
    "-quantity": ("quantity", True),
}
DEFAULT_SORT = "-updated"


@dataclass(frozen=True, slots=True)
class CategoryLabel:
    """What a page shows of a category: its code and labels (``label(locale)`` as on the
    model), without building a Tortoise model per row."""

    id: int
    code: str
    parent_id: int | None
    label_fr: str
    label_en: str

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr


@dataclass(frozen=True, slots=True)
class LocationLabel:
    name: str


@dataclass(slots=True)
class ItemRow:
    """One line of the list: the columns it shows (a page is 100 of them; models cost more
    to build and to render)."""

    id: int
    title: str
    quantity: Decimal
    unit: str
    status: str
    visibility: str
    updated_at: dt.datetime
    created_at: dt.datetime
    category: CategoryLabel | None
    location: LocationLabel | None


# The row's columns, in ``_row``'s order. The table keeps its name (no alias): the search
# and sharing conditions of ``fabcom.gql.search`` name it.
_SELECT = (
    "SELECT fabcom_item.id, fabcom_item.title, fabcom_item.quantity, fabcom_item.unit, fabcom_item.status,"
    " fabcom_item.visibility, fabcom_item.updated_at, fabcom_item.created_at,"
    " c.id, c.code, c.parent_id, c.label_fr, c.label_en, l.name"
    " FROM fabcom_item LEFT JOIN fabcom_category c ON c.id = fabcom_item.category_id"
    " LEFT JOIN fabcom_location l ON l.id = fabcom_item.location_id"
)


def _row(row: Any, sqlite: bool) -> ItemRow:
    (item_id, title, quantity, unit, status, visibility, updated, created, category_id, *category, location) = row
    if sqlite:  # SQLite gives decimals and datetimes back as the text they were stored as
        quantity = Decimal(quantity)
        updated, created = dt.datetime.fromisoformat(updated), dt.datetime.fromisoformat(created)
    return ItemRow(
        item_id,
        title,
        quantity,
        unit,
        status,
        visibility,
        updated,
        created,
        CategoryLabel(category_id, *category) if category_id is not None else None,
        LocationLabel(location) if location is not None else None,
    )


class _Statement:
    """A statement being written: its parameters, each behind the dialect's placeholder."""

    def __init__(self) -> None:
        self.connection = connections.get("default")
        self.sqlite = self.connection.capabilities.dialect == "sqlite"
        self.params: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.params.append(value)
        return "?" if self.sqlite else f"${len(self.params)}"

    def number(self, sql: str) -> str:
        """``sql`` (a decimal column or parameter) compared as a number."""
        return f"CAST({sql} AS NUMERIC)" if self.sqlite else sql

    async def rows(self, sql: str) -> list[Any]:
        _count, rows = await self.connection.execute_query(sql, self.params)
        return list(rows)


def encode_cursor(item: ItemRow, sort: str, rank: int | None = None) -> str:
    """The position just after ``item`` in the list sorted by ``sort``: its sort key and id,
    and ``rank``, the item's place in the list (1 for the first), when known. The rank lets
    a later page say which rows it shows (« Objets 51 à 100 ») without counting anything."""
    column, _descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
    value = getattr(item, column)
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    key: list[Any] = [text, item.id] if rank is None else [text, item.id, rank]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class Cursor:
    """A decoded cursor: the sort key and id of a row, and its rank in the list if the
    cursor carried one (a cursor from an older link or the benchmark does not)."""

    value: Any
    id: int
    rank: int | None


def decode_cursor(raw: str, sort: str) -> Cursor | None:
    """The position a cursor names, or None when it is not one (then: the first page)."""
    column, _descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
    try:
        key = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(key, list) or len(key) not in (2, 3):
            return None
        text, item_id, *more = key
        if not isinstance(text, str) or not isinstance(item_id, int) or len(text) > 300:
            return None
        # A rank that is not a plausible row number is dropped, not trusted: the page is
        # still the right one, it just does not say where it is.
        rank = more[0] if more and type(more[0]) is int and 0 < more[0] < 10**9 else None
        if column in ("updated_at", "created_at"):
            value: Any = dt.datetime.fromisoformat(text)
            if value.tzinfo is None:
                return None
        elif column == "quantity":
            value = Decimal(text)
            if not value.is_finite():
                return None
        else:
            value = text
    except (ValueError, TypeError, ArithmeticError, binascii.Error):
        return None
    return Cursor(value, item_id, rank)


@dataclass(frozen=True, slots=True)
class ItemList:
    """The items of ``organization_id`` that the list's ``params`` (``FILTERS``, each a
    string, empty when not chosen) select, in their order. With ``printable``: only those
    that get a label, things on a shelf (in stock, not archived)."""

    organization_id: int
    params: dict[str, str]
    printable: bool = False

    @property
    def sort(self) -> tuple[str, bool]:
        return SORTS.get(self.params.get("sort", ""), SORTS[DEFAULT_SORT])

    def _where(self, s: _Statement) -> str:
        # (S608: values are parameters; what is written in is a column name, a constant,
        # or the value of the enum member that the filter matched.)
        quantity = s.number("fabcom_item.quantity")
        where = [f"fabcom_item.organization_id = {s(self.organization_id)}", "fabcom_item.deleted_at IS NULL"]
        text = self.params.get("q", "")
        if (number := item_number(text)) is not None:  # « n° 322 », as the label prints it
            where.append(f"fabcom_item.id = {s(number)}")
        elif text and (matching := search_condition(text, s.sqlite)) is not None:
            where.append(matching.sql)  # the API's full-text search: its words are quoted in it
        if code := self.params.get("category"):  # the category and its subcategories
            parent = "LEFT JOIN fabcom_category p ON p.id = c.parent_id"
            family = f"SELECT c.id FROM fabcom_category c {parent} WHERE c.code = {s(code)} OR p.code = {s(code)}"  # noqa: S608
            where.append(f"fabcom_item.category_id IN ({family})")
        status = self.params.get("status", "")
        if status == OUT_OF_STOCK:
            where.append(f"fabcom_item.status = '{ItemStatus.AVAILABLE.value}' AND {quantity} <= 0")
        elif status == ItemStatus.AVAILABLE:  # what can be handed over: in stock
            where.append(f"fabcom_item.status = '{ItemStatus.AVAILABLE.value}' AND {quantity} > 0")
        elif status in ItemStatus.__members__.values():
            where.append(f"fabcom_item.status = '{ItemStatus(status).value}'")
        else:  # archived items are listed only when asked for
            where.append(f"fabcom_item.status <> '{ItemStatus.ARCHIVED.value}'")
        if self.printable:
            where.append(f"{quantity} > 0 AND fabcom_item.status <> '{ItemStatus.ARCHIVED.value}'")
        if (location := self.params.get("location", "")).isdigit():
            where.append(f"fabcom_item.location_id = {s(int(location))}")
        if (visibility := self.params.get("visibility", "")) in Visibility.__members__.values():
            where.append(f"fabcom_item.visibility = '{Visibility(visibility).value}'")
        if (sharing := self.params.get("sharing", "")) in SharingMode.__members__.values():
            where.append(sharing_condition(SharingMode(sharing).value, s.sqlite).sql)
        return " AND ".join(where)

    def _key(self, s: _Statement) -> str:
        column, _descending = self.sort
        return s.number(f"fabcom_item.{column}") if column == "quantity" else f"fabcom_item.{column}"

    def _order(self, s: _Statement, forward: bool) -> str:
        _column, descending = self.sort
        direction = "DESC" if descending == forward else "ASC"
        return f"ORDER BY {self._key(s)} {direction}, fabcom_item.id {direction}"

    async def rows(self, limit: int, after: Cursor | None = None, *, forward: bool = True) -> list[ItemRow]:
        """Up to ``limit`` rows from the start, or after ``after`` in the list's order;
        backwards (rows before ``after``, nearest first) when not ``forward``."""
        s = _Statement()
        where = self._where(s)
        if after is not None:  # the keyset condition: (key, id) beyond the position's
            _column, descending = self.sort
            beyond = "<" if descending == forward else ">"
            value = s.number(s(after.value)) if self.sort[0] == "quantity" else s(after.value)
            where += f" AND ({self._key(s)}, fabcom_item.id) {beyond} ({value}, {s(after.id)})"
        sql = f"{_SELECT} WHERE {where} {self._order(s, forward)} LIMIT {int(limit)}"
        return [_row(row, s.sqlite) for row in await s.rows(sql)]

    async def count(self, cap: int | None = None) -> int:
        """How many items the list holds, counting no further than ``cap`` (the index scan
        stops there: a number past it is not worth its reading)."""
        s = _Statement()
        limit = f" LIMIT {int(cap)}" if cap is not None else ""
        sql = f"SELECT count(*) FROM (SELECT fabcom_item.id FROM fabcom_item WHERE {self._where(s)}{limit}) AS t"  # noqa: S608 - see _where
        return int((await s.rows(sql))[0][0])

    async def ids(self, limit: int | None = None, offset: int = 0) -> list[int]:
        """The items' ids in the list's order (``limit`` of them from ``offset``, or all)."""
        s = _Statement()
        window = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
        sql = f"SELECT fabcom_item.id FROM fabcom_item WHERE {self._where(s)} {self._order(s, True)}{window}"  # noqa: S608 - see _where
        return [row[0] for row in await s.rows(sql)]
