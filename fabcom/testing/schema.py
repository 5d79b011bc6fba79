"""Checks of the migrated schema that core and module tests share."""

from __future__ import annotations

from tortoise import connections

from fabcom.settings import Settings


async def leading_index_columns(settings: Settings) -> set[tuple[str, str]]:
    """(table, first column) of every index of the test database: a column that leads an
    index is found by it, not by a scan of the table."""
    connection = connections.get("default")
    if settings.is_sqlite:
        rows = await connection.execute_query_dict(
            "SELECT m.name AS tbl, i.name AS col FROM sqlite_master m, pragma_index_list(m.name) l,"
            " pragma_index_info(l.name) i WHERE m.type = 'table' AND i.seqno = 0"
        )
    else:
        rows = await connection.execute_query_dict(
            "SELECT t.relname AS tbl, a.attname AS col FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid"
            " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]"
        )
    return {(row["tbl"], row["col"]) for row in rows}


async def unindexed(settings: Settings, columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Those of ``columns`` (table, column) that lead no index."""
    indexed = await leading_index_columns(settings)
    return [pair for pair in columns if pair not in indexed]
