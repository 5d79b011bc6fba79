"""The French labels of the shipped taxonomy get their accents: « Électroménager »,
« Livres & Multimédia », « Équipements de loisir » (ADEME's file wrote them without).

Codes do not change, so nothing that refers to a category does. A label is corrected only
where it is still the one shipped: a site that renamed a category keeps its own name.
The search needs no new index: it folds accents on both sides (migration 0015).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

# code: (the label shipped before, the label with its accents); also in taxonomy.json.
LABELS = {
    "appliances": ("Electroménager", "Électroménager"),
    "books-media": ("Livres & Multimedia", "Livres & Multimédia"),
    "leisure": ("Equipements de loisir", "Équipements de loisir"),
}


async def _relabel(schema_editor, new: bool) -> None:
    for code, (old_label, new_label) in LABELS.items():
        before, after = (old_label, new_label) if new else (new_label, old_label)
        # Constants of this file only (no quote in them): written into the statement, as the
        # two databases spell parameters differently.
        await schema_editor.client.execute_query(
            f"UPDATE fabcom_category SET label_fr = '{after}' WHERE code = '{code}' AND label_fr = '{before}'"  # noqa: S608
        )


async def forward(apps, schema_editor):
    await _relabel(schema_editor, new=True)


async def backward(apps, schema_editor):
    await _relabel(schema_editor, new=False)


class Migration(migrations.Migration):
    dependencies = [("fabcom", "0016_mirror_search_fold")]

    operations = [ops.RunPython(forward, backward)]
