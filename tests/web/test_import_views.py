"""Importing items: column mapping, a preview with per-row errors, all or nothing."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import openpyxl

from fabcom.audit.models import AuditEntry
from fabcom.auth.models import User
from fabcom.inventory.models import Item
from fabcom.web.exports import write_ods

CSV = "\ufeffTitre;Quantité;Catégorie;Valeur\nChaise;4;furniture-decoration;12,5\nTable;x;;3\nLit;1;nope;\n".encode()


def _token(html: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32}\.\w+)"', html).group(1)


async def test_csv_import_previews_row_errors_and_writes_nothing(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    assert (await client.get(f"/o/{org_a.slug}/items/import")).status_code == 200
    preview = await client.post(
        f"/o/{org_a.slug}/items/import",
        data={"csrf_token": client.csrf_token},
        files={"file": ("stock.csv", CSV, "text/csv")},
    )
    assert preview.status_code == 200
    assert "2 lignes sur 3 ont des erreurs" in preview.text
    assert "initial_quantity: Saisissez un nombre valide." in preview.text
    assert "category_code: Code de catégorie inconnu : nope." in preview.text
    assert '<option value="0" selected>Titre</option>' in preview.text
    assert await Item.all().count() == 0
    assert await AuditEntry.all().count() == 0
    # importing anyway is refused with the same errors, and still writes nothing
    refused = await client.post_form(
        f"/o/{org_a.slug}/items/import",
        {
            "token": _token(preview.text),
            "action": "import",
            "map_title": "0",
            "map_initial_quantity": "1",
            "map_category_code": "2",
            "map_unit_value": "3",
        },
    )
    assert refused.status_code == 400
    assert await Item.all().count() == 0
    # mapping away the bad columns: both rows are good, then imported in one go
    remapped = await client.post_form(
        f"/o/{org_a.slug}/items/import", {"token": _token(preview.text), "action": "preview", "map_title": "0"}
    )
    assert "3 lignes sont prêtes à être importées." in remapped.text
    assert await Item.all().count() == 0
    done = await client.post_form(
        f"/o/{org_a.slug}/items/import", {"token": _token(preview.text), "action": "import", "map_title": "0"}
    )
    assert done.status_code == 303
    assert sorted(await Item.filter(organization_id=org_a.id).values_list("title", flat=True)) == [
        "Chaise",
        "Lit",
        "Table",
    ]


async def test_xlsx_and_ods_imports(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    book = openpyxl.Workbook()
    book.active.append(["title", "quantity", "unit"])
    book.active.append(["Vis", 2.5, "kg"])
    out = io.BytesIO()
    book.save(out)
    preview = await client.post(
        f"/o/{org_a.slug}/items/import",
        data={"csrf_token": client.csrf_token},
        files={"file": ("a.xlsx", out.getvalue())},
    )
    assert "1 lignes sont prêtes à être importées." in preview.text
    await client.post_form(
        f"/o/{org_a.slug}/items/import",
        {
            "token": _token(preview.text),
            "action": "import",
            "map_title": "0",
            "map_initial_quantity": "1",
            "map_unit": "2",
        },
    )
    item = await Item.get(title="Vis")
    assert (item.quantity, item.unit) == (Decimal("2.5"), "kg")
    ods = write_ods(["Titre", "Quantité"], [["Écrou", Decimal(3)]], "fr")
    preview = await client.post(
        f"/o/{org_a.slug}/items/import", data={"csrf_token": client.csrf_token}, files={"file": ("b.ods", ods)}
    )
    done = await client.post_form(
        f"/o/{org_a.slug}/items/import",
        {"token": _token(preview.text), "action": "import", "map_title": "0", "map_initial_quantity": "1"},
    )
    assert done.status_code == 303
    assert (await Item.get(title="Écrou")).quantity == Decimal("3")


async def test_import_refuses_other_files_and_other_orgs(make_client, staff_a, org_a, org_b):
    client = await make_client(staff_a)
    bad = await client.post(
        f"/o/{org_a.slug}/items/import", data={"csrf_token": client.csrf_token}, files={"file": ("x.exe", b"MZ")}
    )
    assert bad.status_code == 400
    assert "Choisissez un fichier CSV, XLSX ou ODS." in bad.text
    forged = await client.post_form(f"/o/{org_a.slug}/items/import", {"token": "../../secret_key", "action": "import"})
    assert forged.status_code == 400
    other = await client.post(
        f"/o/{org_b.slug}/items/import", data={"csrf_token": client.csrf_token}, files={"file": ("stock.csv", CSV)}
    )
    assert other.status_code == 404
    assert await Item.all().count() == 0


async def test_an_exported_list_imports_back_as_it_was(make_client, staff_a, org_a, make_org, make_member):
    """The export writes statuses, conditions, units… in words (« Très bon », « kg »,
    « Épuisé »): a volunteer reads them in the spreadsheet, and another site imports the
    file as it is, in French or English."""
    from fabcom.inventory.services import create_item, record_movement
    from fabcom.web.imports import guess_mapping

    await create_item(
        staff_a,
        org_a.id,
        {"title": "Farine", "unit": "kg", "initial_quantity": "2", "condition": "very_good", "category_code": "C_15"},
    )
    await create_item(staff_a, org_a.id, {"title": "Vélo", "status": "reserved", "visibility": "partners"})
    lamp = await create_item(staff_a, org_a.id, {"title": "Lampe", "initial_quantity": "1"})
    await record_movement(staff_a, lamp.id, {"kind": "sale", "quantity": "1"})  # « Épuisé »
    fields = ("title", "status", "condition", "unit", "visibility", "category__code")

    async def items(org) -> list[tuple]:
        return sorted(await Item.filter(organization_id=org.id).values_list(*fields))

    for locale in ("fr", "en"):
        await User.filter(id=staff_a.user_id).update(locale=locale)  # the exporting account's language
        exporter = await make_client(staff_a)
        exported = await exporter.get(f"/o/{org_a.slug}/items/export.csv")
        sheet = exported.content.decode("utf-8-sig")
        assert ("Très bon" in sheet and "Épuisé" in sheet) if locale == "fr" else "Very good" in sheet
        other = await make_org(f"autre-site-{locale}")
        importer = await make_client(await make_member(other))
        preview = await importer.post(
            f"/o/{other.slug}/items/import",
            data={"csrf_token": importer.csrf_token},
            files={"file": ("export.csv", exported.content, "text/csv")},
        )
        assert "3 lignes sont prêtes à être importées." in preview.text, preview.text
        mapping = guess_mapping(sheet.splitlines()[0].split(";"))
        done = await importer.post_form(
            f"/o/{other.slug}/items/import",
            {"token": _token(preview.text), "action": "import", **{f"map_{f}": i for f, i in mapping.items()}},
        )
        assert done.status_code == 303
        assert await items(other) == await items(org_a)
