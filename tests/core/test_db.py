"""The database layer under several processes (``fabcom serve`` beside ``fabcom worker``,
or several web processes), on SQLite as on PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg
from tortoise.transactions import in_transaction

from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item
from fabcom.settings import Settings
from fabcom.testing.schema import unindexed
from fabcom.testing.services import _asyncpg_dsn

RENAME_OTHER = 'UPDATE "fabcom_item" SET "title" = \'Écrit ailleurs\' WHERE "id" = {id}'


async def write_from_another_process(settings: Settings, sql: str) -> None:
    """``sql`` committed on a connection of its own, as another process would."""
    if settings.is_sqlite:

        def write() -> None:
            with sqlite3.connect(settings.var_dir / "fabcom.sqlite3", timeout=10) as other:
                other.execute(sql)

        await asyncio.to_thread(write)
    else:
        other = await asyncpg.connect(_asyncpg_dsn(settings.database_url))
        try:
            await other.execute(sql)
        finally:
            await other.close()


async def test_a_transaction_that_reads_then_writes_survives_another_process_writing_meanwhile(db, org_a, staff_a):
    mine = await create_item(staff_a, org_a.id, {"title": "Chaise"})
    theirs = await create_item(staff_a, org_a.id, {"title": "Table"})
    async with in_transaction():
        assert (await Item.get(id=mine.id)).title == "Chaise"  # a service reads first…
        other = asyncio.create_task(write_from_another_process(db, RENAME_OTHER.format(id=theirs.id)))
        await asyncio.sleep(0.3)  # …another process writes meanwhile (on SQLite it waits for our commit)…
        await Item.filter(id=mine.id).update(title="Chaise réparée")  # …then the service writes
    await other
    assert (await Item.get(id=mine.id)).title == "Chaise réparée"
    assert (await Item.get(id=theirs.id)).title == "Écrit ailleurs"


# The columns a page lists children by (an item's photos and movements, a project's tasks,
# an organization's members…) or that a parent's deletion cascades through: without an
# index, each such read is a scan of the whole table (found by the GraphQL benchmark: the
# photos of a 100-item page scanned every attachment).
INDEXED_FOREIGN_KEYS = [
    ("fabcom_attachment", "item_id"),
    ("fabcom_attachment", "project_id"),
    ("fabcom_stock_movement", "item_id"),
    ("fabcom_item", "category_id"),
    ("fabcom_item", "location_id"),
    ("fabcom_task", "project_id"),
    ("fabcom_project_need", "project_id"),
    ("fabcom_participant", "user_id"),
    ("fabcom_project", "lead_organization_id"),
    ("fabcom_exchange_request", "item_id"),
    ("fabcom_exchange_request", "owner_organization_id"),
    ("fabcom_exchange_request", "requester_organization_id"),
    ("fabcom_partnership", "partner_id"),
    ("fabcom_membership", "organization_id"),
    ("fabcom_membership_fee", "membership_id"),
    ("fabcom_session", "user_id"),
    ("fabcom_api_token", "user_id"),
    ("fabcom_webhook_delivery", "endpoint_id"),
    ("fabcom_webhook_endpoint", "organization_id"),
    ("fabcom_audit_entry", "organization_id"),
]


async def test_children_are_found_by_an_index_not_a_scan(db):
    assert await unindexed(db, INDEXED_FOREIGN_KEYS) == []


async def test_the_search_triggers_survive_the_migrations(db):
    """Tortoise's SQLite ``AlterField`` rebuilds the table, dropping its indexes and
    triggers: index changes are made with ``AddIndex``, which does not."""
    if db.is_sqlite:
        sql, expected = (
            "SELECT name FROM sqlite_master WHERE type = 'trigger'",
            {"fabcom_item_search_insert", "fabcom_item_search_update", "fabcom_item_search_delete"},
        )
    else:
        sql, expected = "SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal", {"fabcom_item_search_sync"}
    triggers = await Item._meta.db.execute_query_dict(sql)
    assert expected <= {row["name"] for row in triggers}
