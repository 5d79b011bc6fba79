"""The shipped taxonomy's French labels are written with their accents, on a new site
(the seed) and on an existing one (a data migration), without touching codes or a label a
site chose itself."""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

from tortoise import connections

from fabcom.inventory.models import Category

relabel = import_module("fabcom.migrations.0017_taxonomy_accents")


async def test_the_seeded_taxonomy_has_its_accents(db):
    assert (await Category.get(code="appliances")).label_fr == "Électroménager"
    assert (await Category.get(code="books-media")).label_fr == "Livres & Multimédia"
    assert (await Category.get(code="leisure")).label_fr == "Équipements de loisir"


async def test_the_migration_puts_the_accents_back_on_an_existing_site_but_not_on_its_own_names(db):
    editor = SimpleNamespace(client=connections.get("default"))
    # given a site seeded before the fix, which renamed one category itself
    await Category.filter(code="appliances").update(label_fr="Electroménager")
    await Category.filter(code="leisure").update(label_fr="Sports et loisirs")
    try:
        # when the migration runs
        await relabel.forward(None, editor)
        # then the shipped label is corrected, the site's own name kept, codes unchanged
        assert (await Category.get(code="appliances")).label_fr == "Électroménager"
        assert (await Category.get(code="leisure")).label_fr == "Sports et loisirs"
        assert await Category.filter(code__in=list(relabel.LABELS)).count() == 3
        # and it can be undone
        await relabel.backward(None, editor)
        assert (await Category.get(code="appliances")).label_fr == "Electroménager"
    finally:  # the categories outlive a test: as seeded again
        await Category.filter(code="appliances").update(label_fr="Électroménager")
        await Category.filter(code="leisure").update(label_fr="Équipements de loisir")


def test_the_migration_and_the_shipped_file_agree():
    import json

    from fabcom.inventory.services import TAXONOMY_FILE

    shipped = {row["code"]: row["label_fr"] for row in json.loads(TAXONOMY_FILE.read_text("utf-8"))["categories"]}
    assert {code: new for code, (_old, new) in relabel.LABELS.items()} == {
        code: shipped[code] for code in relabel.LABELS
    }
