"""The ressourcerie's tables in an organization's archive (``fabcom org export``): the
sales being rung up at the till go with it, their items named as the archive names them."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
from tortoise import connections

from fabcom.auth.models import User
from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item
from fabcom.ops.orgarchive import ArchiveError, export_organization, import_organization
from fabcom.orgs.models import Organization
from fabcom.permissions import system_principal
from fabcom.testing.plugin import _tables_children_first
from modules.ressourcerie.models import TillDraft
from modules.ressourcerie.services import save_till_draft

EXPORTED_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
DRAFTS = "modules/ressourcerie/ressourcerie_till_draft.jsonld"


def documents(archive: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {name: json.loads(z.read(name)) for name in z.namelist() if name.endswith((".json", ".jsonld"))}


async def test_a_sale_being_rung_up_goes_with_the_archive_and_comes_back_on_the_new_items(db, org_a, staff_a):
    # given a cashier ringing up a weighed lot and the second of two items
    await create_item(staff_a, org_a.id, {"title": "Table", "initial_quantity": "1", "category_code": "C_15"})
    chair = await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "1", "category_code": "C_15"})
    lines = ["lot:C_22:2.5:5", f"item:{chair.id}:15.00"]
    await save_till_draft(staff_a, org_a.id, {"lines": lines, "payment_mode": "card"})
    cashier = await User.get(id=staff_a.user_id)

    # when the organization is exported
    archive = await export_organization(system_principal(), org_a.slug, db.uploads_dir, EXPORTED_AT)

    # then the draft is in it, its cashier and its item named by their archive references
    before = documents(archive)
    assert DRAFTS in before["manifest.json"]["documents"]
    people = {person["email"]: person["id"] for person in before["members.jsonld"]["orderedItems"]}
    drafts = before[DRAFTS]["orderedItems"]
    assert [(d["user"], d["lines"], d["payment_mode"]) for d in drafts] == [
        (people[cashier.email], ["lot:C_22:2.5:5", "item:fabcom_item/2:15.00"], "card")
    ]

    # when it is imported into a fresh instance
    await connections.get("default").execute_script("".join(f'DELETE FROM "{t}";' for t in _tables_children_first()))
    await import_organization(archive, db.uploads_dir)

    # then the cashier finds the sale on the imported chair, and a new export is the same
    draft = await TillDraft.get().prefetch_related("user")
    new_chair = await Item.get(title="Chaise")
    assert (draft.user.email, draft.lines, draft.payment_mode) == (
        cashier.email,
        ["lot:C_22:2.5:5", f"item:{new_chair.id}:15.00"],
        "card",
    )
    again = documents(await export_organization(system_principal(), org_a.slug, db.uploads_dir, EXPORTED_AT))
    assert again == before


async def test_a_draft_naming_an_item_the_archive_does_not_hold_refuses_the_archive(db, org_a, staff_a):
    # given an archive whose draft names an item that is not in it
    await save_till_draft(staff_a, org_a.id, {"lines": ["lot:C_22:2.5:5"]})
    archive = await export_organization(system_principal(), org_a.slug, db.uploads_dir, EXPORTED_AT)
    altered = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(altered, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == DRAFTS:
                document = json.loads(content)
                document["orderedItems"][0]["lines"] = ["item:fabcom_item/99:15.00"]
                content = json.dumps(document).encode()
            target.writestr(name, content)

    # when it is imported (under another slug) then it is refused, naming the reference, and nothing is written
    with pytest.raises(ArchiveError, match="reference 'fabcom_item/99' points at nothing in the archive"):
        await import_organization(altered.getvalue(), db.uploads_dir, slug="ailleurs")
    assert not await Organization.exists(slug="ailleurs")
    assert await TillDraft.all().count() == 1
