"""Search without accents: "velo" finds "vélo".

- SQLite: the FTS5 table is made again with ``remove_diacritics 2`` (a tokenizer is set
  when the table is created), then filled; its triggers name it and keep working.
- PostgreSQL: the trigger function folds the text with ``translate()`` before making the
  tsvector, and every item's document is computed again.

The letters are a copy of ``fabcom.gql.search.ACCENTED``/``UNACCENTED`` (a test checks
they are the same), which fold the words searched for in the same way.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

ACCENTED = "àáâãäåāăąçćčďèéêëēėęěìíîïīįñńňòóôõöōőŕřśšşťùúûüūůűųýÿźżž"
UNACCENTED = "aaaaaaaaacccdeeeeeeeeiiiiiinnnooooooorrssstuuuuuuuuyyzzz"

CATEGORY_TEXT = (
    "COALESCE((SELECT c.code || ' ' || c.label_fr || ' ' || c.label_en "
    "FROM fabcom_category c WHERE c.id = {row}.category_id), '')"
)


def _sqlite(diacritics: int) -> list[str]:
    return [
        "DROP TABLE fabcom_item_search",
        "CREATE VIRTUAL TABLE fabcom_item_search USING fts5("
        f"title, description, category, tokenize = 'unicode61 remove_diacritics {diacritics}')",
        "INSERT INTO fabcom_item_search(rowid, title, description, category) "
        f"SELECT i.id, i.title, i.description, {CATEGORY_TEXT.format(row='i')} FROM fabcom_item i",
    ]


def _document(row: str, fold: bool) -> str:
    def text(sql: str) -> str:
        return f"translate(lower({sql}), '{ACCENTED}', '{UNACCENTED}')" if fold else sql

    return (
        f"setweight(to_tsvector('simple', {text(row + '.title')}), 'A') || "
        f"setweight(to_tsvector('simple', {text(CATEGORY_TEXT.format(row=row))}), 'B') || "
        f"setweight(to_tsvector('simple', {text(row + '.description')}), 'C')"
    )


def _postgres(fold: bool) -> list[str]:
    return [
        "CREATE OR REPLACE FUNCTION fabcom_item_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO fabcom_item_search (item_id, document) VALUES (NEW.id, {_document('NEW', fold)}) "
        "ON CONFLICT (item_id) DO UPDATE SET document = EXCLUDED.document; "
        "RETURN NEW; END $$",
        f"INSERT INTO fabcom_item_search (item_id, document) SELECT i.id, {_document('i', fold)} FROM fabcom_item i "
        "ON CONFLICT (item_id) DO UPDATE SET document = EXCLUDED.document",
    ]


async def _run(schema_editor, sqlite, postgres):
    if schema_editor.DIALECT == "sqlite":
        for statement in sqlite:
            await schema_editor.client.execute_query(statement)  # one statement, never split
    else:
        for statement in postgres:
            await schema_editor.client.execute_script(statement)


async def forward(apps, schema_editor):
    await _run(schema_editor, _sqlite(2), _postgres(fold=True))


async def backward(apps, schema_editor):
    await _run(schema_editor, _sqlite(0), _postgres(fold=False))


class Migration(migrations.Migration):
    dependencies = [("fabcom", "0014_foreign_key_indexes")]

    operations = [ops.RunPython(forward, backward)]
