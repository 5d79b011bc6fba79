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
