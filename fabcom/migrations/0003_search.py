"""Full-text search over items (title, description, category labels) and the shared
budget table of the GraphQL API's rate limits.

Raw SQL per database, run through RunPython so that each statement (a trigger body
holds several) reaches the database whole: the SQLite schema editor would split it.

- SQLite: an FTS5 table whose rowid is the item id.
- PostgreSQL: a tsvector per item in its own table, with a GIN index.
Both are kept in sync by triggers on the item table, and filled from existing items.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

CATEGORY_TEXT = (
    "COALESCE((SELECT c.code || ' ' || c.label_fr || ' ' || c.label_en "
    "FROM fabcom_category c WHERE c.id = {row}.category_id), '')"
)

SQLITE = [
    "CREATE VIRTUAL TABLE fabcom_item_search USING fts5("
    "title, description, category, tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE TRIGGER fabcom_item_search_insert AFTER INSERT ON fabcom_item BEGIN "
    "INSERT INTO fabcom_item_search(rowid, title, description, category) "
    f"VALUES (new.id, new.title, new.description, {CATEGORY_TEXT.format(row='new')}); END",
    "CREATE TRIGGER fabcom_item_search_update AFTER UPDATE OF title, description, category_id ON fabcom_item BEGIN "
    "DELETE FROM fabcom_item_search WHERE rowid = old.id; "
    "INSERT INTO fabcom_item_search(rowid, title, description, category) "
    f"VALUES (new.id, new.title, new.description, {CATEGORY_TEXT.format(row='new')}); END",
    "CREATE TRIGGER fabcom_item_search_delete AFTER DELETE ON fabcom_item BEGIN "
    "DELETE FROM fabcom_item_search WHERE rowid = old.id; END",
    "INSERT INTO fabcom_item_search(rowid, title, description, category) "
    f"SELECT i.id, i.title, i.description, {CATEGORY_TEXT.format(row='i')} FROM fabcom_item i",
    "CREATE TABLE fabcom_api_budget (key VARCHAR(100) NOT NULL PRIMARY KEY, "
    "window_start BIGINT NOT NULL, spent INT NOT NULL)",
]

POSTGRES = [
    "CREATE TABLE fabcom_item_search (item_id INT NOT NULL PRIMARY KEY "
    "REFERENCES fabcom_item (id) ON DELETE CASCADE, document TSVECTOR NOT NULL)",
    "CREATE INDEX fabcom_item_search_document ON fabcom_item_search USING GIN (document)",
    "CREATE FUNCTION fabcom_item_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO fabcom_item_search (item_id, document) VALUES (NEW.id, "
    "setweight(to_tsvector('simple', NEW.title), 'A') || "
    f"setweight(to_tsvector('simple', {CATEGORY_TEXT.format(row='NEW')}), 'B') || "
    "setweight(to_tsvector('simple', NEW.description), 'C')) "
    "ON CONFLICT (item_id) DO UPDATE SET document = EXCLUDED.document; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER fabcom_item_search_sync AFTER INSERT OR UPDATE OF title, description, category_id "
    "ON fabcom_item FOR EACH ROW EXECUTE FUNCTION fabcom_item_search_refresh()",
    "INSERT INTO fabcom_item_search (item_id, document) SELECT i.id, "
    "setweight(to_tsvector('simple', i.title), 'A') || "
    f"setweight(to_tsvector('simple', {CATEGORY_TEXT.format(row='i')}), 'B') || "
    "setweight(to_tsvector('simple', i.description), 'C') FROM fabcom_item i",
    "CREATE TABLE fabcom_api_budget (key VARCHAR(100) NOT NULL PRIMARY KEY, "
    "window_start BIGINT NOT NULL, spent INT NOT NULL)",
]

SQLITE_REVERSE = [
    "DROP TABLE fabcom_api_budget",
    "DROP TRIGGER fabcom_item_search_delete",
    "DROP TRIGGER fabcom_item_search_update",
    "DROP TRIGGER fabcom_item_search_insert",
    "DROP TABLE fabcom_item_search",
]
POSTGRES_REVERSE = [
    "DROP TABLE fabcom_api_budget",
    "DROP TRIGGER fabcom_item_search_sync ON fabcom_item",
    "DROP FUNCTION fabcom_item_search_refresh()",
    "DROP TABLE fabcom_item_search",
]


async def _run(schema_editor, sqlite, postgres):
    statements = sqlite if schema_editor.DIALECT == "sqlite" else postgres
    for statement in statements:
        if schema_editor.DIALECT == "sqlite":
            await schema_editor.client.execute_query(statement)  # one statement, never split
        else:
            await schema_editor.client.execute_script(statement)


async def forward(apps, schema_editor):
    await _run(schema_editor, SQLITE, POSTGRES)


async def backward(apps, schema_editor):
    await _run(schema_editor, SQLITE_REVERSE, POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("fabcom", "0002_jobs")]

    operations = [ops.RunPython(forward, backward)]
