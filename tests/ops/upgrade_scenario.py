"""An upgrade with data in the database, run by ``test_upgrade.py`` in a process of its own
(migrating opens and closes Tortoise's global connections, which the test session's
database shares): ``python tests/ops/upgrade_scenario.py VAR_DIR DATABASE_URL``.

1. every app (the core and each first-party module) is migrated to the migration before
   its newest one: the schema of an instance that has not taken the newest changes yet;
2. representative rows are written with plain SQL into that schema (the models describe
   the newest one): a user, an organization, its membership, a category, an item, a
   partner's item in the mirror, the per-organization module switch, ressourcerie's site
   settings, a bookings rule;
3. the remaining migrations are applied, as ``fabcom migrate`` does after an upgrade;
4. the rows are read and changed again through the models.

It prints one line, ``upgraded: …``, or fails with the migration's error. A migration
that adds a NOT NULL column without a database default fails at step 3: PostgreSQL
refuses it on a table holding rows (and accepts it on an empty one, which is why a fresh
``fabcom migrate`` does not catch it), SQLite refuses it outright.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from fabcom.db import close_database, open_database, tortoise_config
from fabcom.migrations_api import apply_migrations
from fabcom.module_system.registry import FIRST_PARTY_PACKAGE, discover
from fabcom.settings import Settings

NOW = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)


def previous_targets(config: dict[str, Any]) -> list[MigrationTarget]:
    """For each app with two migrations or more, the one before its newest (an app whose
    only migration is its first stays as it is: it has no previous schema with tables)."""
    targets = []
    for label, app in config["apps"].items():
        folder = Path(importlib.import_module(app["migrations"]).__file__ or "").parent
        names = sorted(p.stem for p in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))
        if len(names) >= 2:
            targets.append(MigrationTarget(app_label=label, name=names[-2]))
        else:
            targets.append(MigrationTarget(app_label=label, name="__latest__"))
    return targets


async def migrate_to(config: dict[str, Any], targets: list[MigrationTarget]) -> None:
    await Tortoise.init(config=config, init_connections=False)
    try:
        executor = MigrationExecutor(connections.get("default"), config["apps"])
        await executor.migrate(targets)
    finally:
        await Tortoise.close_connections()


async def columns(client: Any, table: str, postgres: bool) -> dict[str, tuple[str, bool]]:
    """The table's columns in the database as it is: name -> (type, needs a value), where
    a value is needed for NOT NULL columns with no default that are not generated keys."""
    if postgres:
        rows = await client.execute_query_dict(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_name = $1",
            [table],
        )
        return {
            r["column_name"]: (r["data_type"], r["is_nullable"] == "NO" and r["column_default"] is None) for r in rows
        }
    rows = await client.execute_query_dict(f'PRAGMA table_info("{table}")')
    return {
        r["name"]: (r["type"].lower(), bool(r["notnull"]) and r["dflt_value"] is None and not r["pk"]) for r in rows
    }


def filler(sql_type: str) -> Any:
    """A plain value of a column's type, for the NOT NULL columns a row does not name."""
    if "timestamp" in sql_type:
        return NOW
    if sql_type == "date":
        return NOW.date()
    if "json" in sql_type:
        return "{}"
    if "bool" in sql_type:
        return True
    if "int" in sql_type:
        return 1
    if "numeric" in sql_type or "decimal" in sql_type or "real" in sql_type or "double" in sql_type:
        return Decimal("1")
    return "x"


async def insert(table: str, postgres: bool, **values: Any) -> int:
    """Insert one row with ``values`` (and plain values in the other NOT NULL columns of
    the table as it is in this schema); returns its id."""
    client = connections.get("default")
    for name, (sql_type, needed) in (await columns(client, table, postgres)).items():
        if needed and name not in values:
            values[name] = filler(sql_type)
    names = list(values)
    marks = ", ".join(f"${i + 1}" if postgres else "?" for i in range(len(names)))
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})'
    if postgres:
        rows = await client.execute_query_dict(sql + " RETURNING id", list(values.values()))
        return rows[0]["id"]
    return await client.execute_insert(sql, list(values.values()))


async def write_rows(settings: Settings) -> dict[str, int]:
    postgres = not settings.is_sqlite
    await Tortoise.init(config=tortoise_config(settings))
    try:
        ids = {}
        ids["user"] = await insert(
            "fabcom_user", postgres, email="lea@example.org", display_name="Léa", locale="fr", is_active=True
        )
        ids["org"] = await insert(
            "fabcom_organization", postgres, slug="recyclerie", name="La Recyclerie", kind="ressourcerie", country="FR"
        )
        await insert("fabcom_membership", postgres, organization_id=ids["org"], user_id=ids["user"], role="owner")
        ids["category"] = await insert(
            "fabcom_category", postgres, code="upgrade-test", label_fr="Essai", label_en="Test", position=99
        )
        ids["item"] = await insert(
            "fabcom_item",
            postgres,
            organization_id=ids["org"],
            category_id=ids["category"],
            title="Chaise en chêne",
            unit="piece",
            quantity=Decimal("3"),
            condition="good",
            status="available",
            visibility="partners",
            sharing_modes="[]",
            attributes="{}",
        )
        ids["mirror"] = await insert(
            "fabcom_mirror_item",
            postgres,
            uri="https://b.example/ap/items/1",
            organization_id=ids["org"],
            title="Théière émaillée",
            search_text="theiere emaillee",  # folded, as since migration 0016
            quantity=Decimal("1"),
        )
        await insert("fabcom_organization_module", postgres, organization_id=ids["org"], module="ressourcerie")
        await insert("ressourcerie_site_settings", postgres, organization_id=ids["org"], share_figures=True)
        ids["rule"] = await insert(
            "bookings_rule",
            postgres,
            organization_id=ids["org"],
            item_id=ids["item"],
            timezone="Europe/Paris",
            opening_hours="{}",
            allowed_roles='["member"]',
            deposit="0",
        )
        return ids
    finally:
        await Tortoise.close_connections()


async def check_rows(settings: Settings, ids: dict[str, int]) -> str:
    from fabcom.federation.mirror_models import MirrorItem
    from fabcom.inventory.models import Item
    from fabcom.members.models import Membership
    from fabcom.orgs.models import Organization
    from modules.bookings.models import BookingRule
    from modules.ressourcerie.models import SiteSettings

    await open_database(settings)
    try:
        org = await Organization.get(slug="recyclerie")
        assert org.id == ids["org"]
        assert org.name == "La Recyclerie"
        membership = await Membership.get(organization_id=org.id).prefetch_related("user")
        assert membership.user.email == "lea@example.org"
        item = await Item.get(id=ids["item"]).prefetch_related("category")
        assert (item.title, item.quantity, item.category.code) == ("Chaise en chêne", Decimal("3"), "upgrade-test")
        item.title = "Chaise en chêne (restaurée)"
        await item.save()
        site = await SiteSettings.get(organization_id=org.id)
        assert site.share_figures is True
        site.share_figures = False
        await site.save()
        rule = await BookingRule.get(id=ids["rule"])
        assert rule.item_id == item.id
        await rule.save()
        assert (await Item.get(id=item.id)).title == "Chaise en chêne (restaurée)"
        assert (await SiteSettings.get(organization_id=org.id)).share_figures is False
        assert (await MirrorItem.get(id=ids["mirror"])).search_text == "theiere emaillee"
        return f"upgraded: organization {org.slug}, item {item.id}, site settings, bookings rule {rule.id}"
    finally:
        await close_database()


async def main(var_dir: Path, database_url: str) -> None:
    first_party = sorted(s for s, m in discover().items() if m.package.startswith(FIRST_PARTY_PACKAGE + "."))
    settings = Settings(var_dir=var_dir, database_url=database_url, secret_key="upgrade-test", modules=first_party)
    config = tortoise_config(settings)
    await migrate_to(config, previous_targets(config))
    ids = await write_rows(settings)
    await apply_migrations(settings)
    print(await check_rows(settings, ids))


if __name__ == "__main__":
    var = Path(sys.argv[1])
    var.mkdir(parents=True, exist_ok=True)  # the SQLite file's folder
    asyncio.run(main(var, sys.argv[2]))
