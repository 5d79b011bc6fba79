"""The network search ignores accents: the mirror's ``search_text`` is folded (accents
dropped, case folded) as the words searched for are. Rows received before are folded here,
in batches; rows received from now on are folded when they arrive.

``_fold`` is a copy of ``fabcom.i18n.fold`` (a test checks they agree): a migration must
not change when that module does.
"""

import unicodedata

from tortoise import migrations
from tortoise.migrations import operations as ops

TABLES = ("fabcom_mirror_item", "fabcom_mirror_project", "fabcom_mirror_member")
BATCH = 500


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


async def forward(apps, schema_editor):
    client = schema_editor.client
    sqlite = schema_editor.DIALECT == "sqlite"

    def placeholder(n: int) -> str:
        return "?" if sqlite else f"${n}"

    for table in TABLES:
        last = 0
        while True:
            rows = await client.execute_query_dict(
                f"SELECT id, search_text FROM {table} WHERE id > {placeholder(1)} ORDER BY id LIMIT {BATCH}",  # noqa: S608 - fixed table names
                [last],
            )
            for row in rows:
                folded = _fold(row["search_text"])
                if folded != row["search_text"]:
                    await client.execute_query(
                        f"UPDATE {table} SET search_text = {placeholder(1)} WHERE id = {placeholder(2)}",  # noqa: S608 - fixed table names
                        [folded, row["id"]],
                    )
            if len(rows) < BATCH:
                break
            last = rows[-1]["id"]


async def backward(apps, schema_editor):
    """Nothing to undo: folded text is lower-cased text without its accents."""


class Migration(migrations.Migration):
    dependencies = [("fabcom", "0015_search_accents")]

    operations = [ops.RunPython(forward, backward)]
