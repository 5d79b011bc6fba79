"""The read-only mirror of what partners share: items, projects and member profiles.

``Create`` and ``Update`` of a whole page (catch-up) are written with one upsert
statement per table, whatever the number of objects; a single delivered activity goes
the same way as a page of one. An older ``Update`` never overwrites a newer one (the
objects' ``updated`` times are compared in the statement itself), a sender only writes
objects on its own host, attributed to itself, and never overwrites another
organization's row. ``Delete`` purges, and leaves a tombstone (id and time only) so that
a late or replayed older version does not bring the object back. Anything else is left to the other handlers
(an ``Update`` of an exchange agreement, for instance).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

import orjson
from tortoise import connections
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.collector import collector_paused
from fabcom.federation import handlers
from fabcom.federation.handlers import Activity, Sender, handles, handles_batch
from fabcom.federation.mirror_models import MirrorItem, MirrorMember, MirrorProject, MirrorTombstone
from fabcom.federation.vocab import (
    ObjectKind,
    ReceivedObject,
    Refused,
    category_code,
    check_origin,
    clean_html,
    kind_of,
    object_uri,
    parse_object,
    sharing_modes,
    text_of,
    text_of_clean,
)
from fabcom.i18n import fold

log = logging.getLogger("fabcom.federation.mirror")

# Column name -> PostgreSQL type (used to unnest the page's columns as arrays).
ITEM_COLUMNS = {
    "uri": "text",
    "organization_id": "int",
    "title": "text",
    "content": "text",
    "search_text": "text",
    "category_code": "text",
    "quantity": "numeric",
    "unit": "text",
    "condition": "text",
    "status": "text",
    "sharing_modes": "jsonb",
    "visibility": "text",
    "url": "text",
    "image_url": "text",
    "remote_updated_at": "timestamptz",
    "document": "jsonb",
    "received_at": "timestamptz",
}
PROJECT_COLUMNS = {
    "uri": "text",
    "organization_id": "int",
    "title": "text",
    "summary": "text",
    "content": "text",
    "search_text": "text",
    "status": "text",
    "visibility": "text",
    "url": "text",
    "remote_updated_at": "timestamptz",
    "document": "jsonb",
    "received_at": "timestamptz",
}
MEMBER_COLUMNS = {
    "uri": "text",
    "organization_id": "int",
    "display_name": "text",
    "search_text": "text",
    "valid_from": "date",
    "valid_until": "date",
    "remote_updated_at": "timestamptz",
    "document": "jsonb",
    "received_at": "timestamptz",
}
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    ObjectKind.ITEM: ("fabcom_mirror_item", ITEM_COLUMNS),
    ObjectKind.PROJECT: ("fabcom_mirror_project", PROJECT_COLUMNS),
    ObjectKind.MEMBER: ("fabcom_mirror_member", MEMBER_COLUMNS),
}
MIRROR_MODELS = (MirrorItem, MirrorProject, MirrorMember)


# --- building rows ----------------------------------------------------------------------------------


def _text(value: str, limit: int) -> str:
    return value[:limit]


def _item_row(obj: ReceivedObject, document: bytes, sender: Sender, now: dt.datetime) -> dict[str, Any]:
    resource = obj.resource
    amount = resource.accountingQuantity if resource else None
    content = clean_html(obj.content)
    title = _text(text_of(obj.name) or obj.id, 200)
    return {
        "uri": obj.id,
        "organization_id": sender.organization_id,
        "title": title,
        "content": content,
        "search_text": fold(f"{title} {text_of_clean(content)}")[:20_000],
        "category_code": category_code(obj),
        "quantity": amount.hasNumericalValue if amount else 0,
        "unit": amount.unit if amount else "piece",
        "condition": resource.condition if resource else "",
        "status": resource.itemStatus if resource else "available",
        "sharing_modes": sharing_modes(obj),
        "visibility": obj.audience,
        "url": _text(obj.url or "", 500) if isinstance(obj.url, str) else "",
        "image_url": obj.image_url,
        "remote_updated_at": obj.updated or obj.published or now,
        "document": document,
        "received_at": now,
    }


def _project_row(obj: ReceivedObject, document: bytes, sender: Sender, now: dt.datetime) -> dict[str, Any]:
    content = clean_html(obj.content)
    title = _text(text_of(obj.name) or obj.id, 200)
    summary = _text(text_of(obj.summary), 500)
    return {
        "uri": obj.id,
        "organization_id": sender.organization_id,
        "title": title,
        "summary": summary,
        "content": content,
        "search_text": fold(f"{title} {summary} {text_of_clean(content)}")[:20_000],
        "status": obj.plan.projectStatus if obj.plan else "",
        "visibility": obj.audience,
        "url": _text(obj.url or "", 500) if isinstance(obj.url, str) else "",
        "remote_updated_at": obj.updated or obj.published or now,
        "document": document,
        "received_at": now,
    }


def _member_row(obj: ReceivedObject, document: bytes, sender: Sender, now: dt.datetime) -> dict[str, Any]:
    name = _text(text_of(obj.name), 120)
    return {
        "uri": obj.id,
        "organization_id": sender.organization_id,
        "display_name": name,
        "search_text": fold(name)[:120],
        "valid_from": obj.validFrom,
        "valid_until": obj.validUntil,
        "remote_updated_at": obj.updated or obj.published or now,
        "document": document,
        "received_at": now,
    }


BUILDERS = {ObjectKind.ITEM: _item_row, ObjectKind.PROJECT: _project_row, ObjectKind.MEMBER: _member_row}


def rows_from(activities: Sequence[Activity], sender: Sender) -> tuple[dict[str, dict[str, dict]], list[Activity]]:
    """The mirror rows a page of Create/Update activities carries, per kind and keyed by
    uri (the newest when one object appears twice), and the activities that are not
    about a mirrored object (for the other handlers). Refused objects are logged."""
    now = clock.now()
    rows: dict[str, dict[str, dict]] = {kind: {} for kind in TABLES}
    others: list[Activity] = []
    for activity in activities:
        raw = activity.get("object")
        if isinstance(raw, dict) and raw.get("type") in ("Agreement", "Offer", "Follow"):
            others.append(activity)
            continue
        try:
            if activity.get("actor") != sender.actor_uri:
                raise Refused(f"the activity's actor {activity.get('actor')!r} is not the sender")
            encoded = orjson.dumps(raw)
            obj = parse_object(raw, sender.actor_uri, encoded)
        except Refused as exc:
            log.warning("refused %s %s from %s: %s", activity.get("type"), object_uri(activity), sender.actor_uri, exc)
            continue
        kind = kind_of(obj)
        if kind is None:
            others.append(activity)
            continue
        # The document is stored as received, already encoded (JSON bytes, never re-encoded).
        row = BUILDERS[kind](obj, encoded, sender, now)
        known = rows[kind].get(row["uri"])
        if known is None or known["remote_updated_at"] <= row["remote_updated_at"]:
            rows[kind][row["uri"]] = row
    return rows, others


# --- writing ----------------------------------------------------------------------------------------


def _is_sqlite() -> bool:
    return connections.get("default").capabilities.dialect == "sqlite"


def upsert_sql(table: str, columns: dict[str, str], count: int, sqlite: bool) -> str:
    """One ``INSERT … ON CONFLICT (uri) DO UPDATE`` for ``count`` rows. The update only
    happens when the row belongs to the same organization and the incoming object is
    not older than the stored one."""
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("uri", "organization_id"))
    conflict = (
        f" ON CONFLICT (uri) DO UPDATE SET {updates}"
        f" WHERE {table}.organization_id = excluded.organization_id"
        f" AND {table}.remote_updated_at <= excluded.remote_updated_at"
    )
    if sqlite:
        one = "(" + ", ".join("?" for _ in columns) + ")"
        # Only our own table and column names and placeholders are formatted in, never a value.
        return f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * count)}{conflict}"  # noqa: S608
    # PostgreSQL: the page's fields are one JSON array of rows, typed by ``json_to_recordset``
    # and encoded by orjson in one call (asyncpg encoding one array per column checked each
    # of a page's ~35,000 values in Python); the documents, the bulk of the bytes, travel
    # beside it as one text array, zipped by ``ROWS FROM``, so PostgreSQL parses each one
    # once. An object whose tombstone is as new as the version received, or newer, is left
    # out by the statement itself, so a Delete committed meanwhile cannot be undone.
    fields = {c: t for c, t in columns.items() if c != "document"}
    typed = ", ".join(f"{c} {t}" for c, t in fields.items())
    select = ", ".join("r.document::jsonb" if c == "document" else f"r.{c}" for c in columns)
    return (
        f"INSERT INTO {table} ({names}) SELECT {select}"  # noqa: S608
        f" FROM ROWS FROM (json_to_recordset($1::json) AS ({typed}), unnest($2::text[]))"
        f" AS r({', '.join(fields)}, document)"
        " WHERE NOT EXISTS (SELECT 1 FROM fabcom_mirror_tombstone d"
        " WHERE d.uri = r.uri AND d.deleted_at >= r.remote_updated_at)"
        f"{conflict}"
    )


def _db_value(value: Any) -> Any:
    """A row's value for SQLite's parameters."""
    if isinstance(value, bytes):  # a document, already encoded
        return value.decode()
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _json_value(value: Any) -> Any:
    """orjson's fallback for a row's values it does not encode itself: decimals travel as
    text (``numeric`` reads them); documents travel apart (their key is not read)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    raise TypeError(f"cannot encode {type(value).__name__}")


async def upsert(kind: str, rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` of one kind with a single statement."""
    if not rows:
        return
    table, columns = TABLES[kind]
    sqlite = _is_sqlite()
    sql = upsert_sql(table, columns, len(rows), sqlite)
    with collector_paused():
        if sqlite:
            values = [_db_value(row[c]) for row in rows for c in columns]
        else:
            documents = [row["document"].decode() for row in rows]
            values = [orjson.dumps(rows, default=_json_value).decode(), documents]
    await connections.get("default").execute_query(sql, values)


async def ingest(activities: Sequence[Activity], sender: Sender) -> tuple[int, list[Activity]]:
    """Mirror a page of Create/Update activities; returns how many objects were taken
    and the activities left for other handlers."""
    with collector_paused():  # a catch-up page is thousands of objects: see fabcom.collector
        rows, others = rows_from(activities, sender)
    return await write_rows(rows), others


async def write_rows(rows: dict[str, dict[str, dict]]) -> int:
    """Write the mirror rows ``rows_from`` built, in one transaction; returns how many."""
    taken = sum(len(r) for r in rows.values())
    if taken:
        if _is_sqlite():
            await _drop_deleted(rows)  # PostgreSQL's statement leaves them out itself
        async with in_transaction():
            for kind, by_uri in rows.items():
                await upsert(kind, list(by_uri.values()))
    return taken


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def _drop_deleted(rows: dict[str, dict[str, dict]]) -> None:
    """Leave out objects deleted after the version received (a late or replayed older
    Create/Update must not bring them back): one query per page (SQLite; PostgreSQL's
    upsert does it in the statement)."""
    uris = [uri for by_uri in rows.values() for uri in by_uri]
    tombs = dict(await MirrorTombstone.filter(uri__in=uris).values_list("uri", "deleted_at"))
    if not tombs:
        return
    for by_uri in rows.values():
        for uri in [u for u in by_uri if u in tombs]:
            if _aware(by_uri[uri]["remote_updated_at"]) <= _aware(tombs[uri]):
                del by_uri[uri]


def _deleted_at(activity: Activity) -> dt.datetime:
    """When the object was deleted: the Tombstone's ``deleted``, else the activity's
    ``published``, else now."""
    obj = activity.get("object")
    for value in (obj.get("deleted") if isinstance(obj, dict) else None, activity.get("published")):
        if isinstance(value, str) and len(value) <= 40:
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            if parsed.tzinfo is not None:
                return parsed
    return clock.now()


def prepare_page(activities: list[Activity], sender: Sender) -> Callable[[], Awaitable[None]]:
    """Check a page of Create/Update activities and build its rows now (no database);
    the function returned writes them and hands the others to their handlers."""
    with collector_paused():  # see fabcom.collector
        rows, others = rows_from(activities, sender)

    async def apply() -> None:
        await write_rows(rows)
        for activity in others:
            if not await handlers.dispatch(activity, sender):
                log.info("ignored %s %s from %s", activity.get("type"), object_uri(activity), sender.actor_uri)

    return apply


@handles_batch("Create", "Update", prepare=prepare_page)
async def mirror_page(activities: list[Activity], sender: Sender) -> None:
    await prepare_page(activities, sender)()


@handles("Create", "Update")
async def mirror_one(activity: Activity, sender: Sender) -> bool:
    taken, _others = await ingest([activity], sender)
    return taken > 0


@handles("Delete")
async def purge(activity: Activity, sender: Sender) -> bool:
    """A partner deleted, unshared or stopped sharing an object: it leaves the mirror."""
    uri = object_uri(activity)
    try:
        if activity.get("actor") != sender.actor_uri:
            raise Refused(f"the activity's actor {activity.get('actor')!r} is not the sender")
        check_origin(uri, sender.actor_uri)
    except Refused as exc:
        log.warning("refused Delete %s from %s: %s", uri, sender.actor_uri, exc)
        return False
    if await MirrorTombstone.filter(uri=uri).exclude(organization_id=sender.organization_id).exists():
        return False  # another organization's object (on the same host)
    when = _deleted_at(activity)
    deleted = 0
    async with in_transaction():
        for model in MIRROR_MODELS:
            deleted += await model.filter(uri=uri, organization_id=sender.organization_id).delete()
        tomb = await MirrorTombstone.get_or_none(uri=uri)
        if tomb is None:
            await MirrorTombstone.create(uri=uri, organization_id=sender.organization_id, deleted_at=when)
        elif _aware(tomb.deleted_at) < when:
            await MirrorTombstone.filter(id=tomb.id).update(deleted_at=when)
    return deleted > 0


async def purge_partner(organization_id: int) -> int:
    """Forget everything mirrored from a remote organization (the partnership ended or
    was blocked); returns how many rows went. Call it in the transaction that ends it."""
    deleted = 0
    for model in MIRROR_MODELS:
        deleted += await model.filter(organization_id=organization_id).delete()
    await MirrorTombstone.filter(organization_id=organization_id).delete()
    return deleted
