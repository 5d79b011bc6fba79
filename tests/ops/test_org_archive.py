"""Leave with your data: an organization's archive round-trips into a fresh instance
(export → import → export gives the same documents apart from the export time), bad
archives are refused with a clear error and write nothing, only owners download it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import zipfile
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from tortoise import connections

from fabcom.auth.models import User
from fabcom.auth.services import create_user
from fabcom.federation import vocab
from fabcom.federation.members import set_partner_recognition
from fabcom.federation.mirror_models import SharedProfile
from fabcom.inventory.models import Attachment, Item, StockMovement
from fabcom.inventory.services import add_photo, create_item, record_movement
from fabcom.members.models import Membership, MembershipFee, Role
from fabcom.members.services import add_member, record_fee
from fabcom.ops.orgarchive import ArchiveError, export_organization, import_organization, read_archive
from fabcom.orgs.models import Organization
from fabcom.permissions import load_principal, system_principal
from fabcom.projects.services import add_need, add_participant, create_project, create_task
from fabcom.testing.plugin import _tables_children_first
from modules.bookings.models import Booking
from modules.bookings.services import create_booking, make_bookable
from modules.ressourcerie.models import IntakeLine
from modules.ressourcerie.services import record_intake

PARIS = ZoneInfo("Europe/Paris")
WEEK = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
EXPORTED_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def filled(db, org_a, staff_a):
    """org_a with a member paying a fee, items with a photo and movements, a project with
    a task, a need and a participant, a booking and a weighing."""
    system = system_principal()
    owner = await create_user(system, {"email": "owner@example.org", "display_name": "Camille Owner"})
    await add_member(system, org_a.id, {"user_id": owner.id, "role": Role.OWNER})
    member = await create_user(system, {"email": "adherent@example.org", "display_name": "Adhérent", "locale": "en"})
    membership = await add_member(system, org_a.id, {"user_id": member.id, "role": Role.MEMBER})
    await set_partner_recognition(await load_principal(member.id), org_a.id, True)  # at /account/partners
    await record_fee(
        system,
        membership.id,
        {"amount": "15.50", "period_start": "2026-01-01", "period_end": "2026-12-31", "method": "card"},
    )
    chair = await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "4", "category_code": "C_15"})
    await record_movement(staff_a, chair.id, {"kind": "sale", "quantity": "1", "counterparty": "Client"})
    await add_photo(
        staff_a, chair.id, filename="chaise.png", content=png(), uploads_dir=db.uploads_dir, max_bytes=10**6
    )
    laser = await create_item(
        staff_a, org_a.id, {"title": "Laser", "description": "Découpe **bois**", "visibility": "partners"}
    )
    await make_bookable(staff_a, laser.id, {"slot_minutes": 30, "max_duration_minutes": 240, "opening_hours": WEEK})
    start = dt.datetime.combine(dt.date.today() + dt.timedelta(days=2), dt.time(10), PARIS)
    await create_booking(
        await load_principal(member.id),
        {"item_id": laser.id, "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=1)).isoformat()},
    )
    project = await create_project(staff_a, org_a.id, {"title": "Atelier", "description": "On répare."})
    await create_task(staff_a, project.id, {"title": "Poncer", "assignee_id": member.id})
    await add_need(staff_a, project.id, {"kind": "item", "category_code": "C_15", "quantity": "2"})
    await add_participant(staff_a, project.id, {"user_id": member.id, "display_name": "Adhérent", "role": "bénévole"})
    await record_intake(
        staff_a,
        org_a.id,
        {"mode_code": "apport_volontaire", "lines": [{"category_code": "C_15", "gross_kg": "12.5"}]},
    )
    return org_a


def documents(archive: bytes) -> dict[str, object]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {
            name: (json.loads(z.read(name)) if name.endswith((".json", ".jsonld")) else z.read(name))
            for name in z.namelist()
        }


async def empty_the_instance(db) -> None:
    await connections.get("default").execute_script("".join(f'DELETE FROM "{t}";' for t in _tables_children_first()))
    shutil.rmtree(db.uploads_dir, ignore_errors=True)


async def test_export_import_export_round_trips_into_a_fresh_instance(filled, db):
    first = await export_organization(system_principal(), filled.slug, db.uploads_dir, EXPORTED_AT)
    before = documents(first)
    counts = {"items": await Item.all().count(), "movements": await StockMovement.all().count()}
    await empty_the_instance(db)
    assert await Organization.all().count() == 0

    ctx = await import_organization(first, db.uploads_dir)

    assert ctx.organization.slug == filled.slug
    assert ctx.skipped == []
    assert {"items": await Item.all().count(), "movements": await StockMovement.all().count()} == counts
    assert await Booking.all().count() == 1
    assert await IntakeLine.all().count() == 1
    assert await MembershipFee.all().count() == 1
    assert (await User.get(email="adherent@example.org")).password_hash == ""  # chooses one with "forgot password"
    photo = await Attachment.get()
    assert (db.uploads_dir / photo.stored_name).read_bytes() == png()
    second = documents(await export_organization(system_principal(), filled.slug, db.uploads_dir, EXPORTED_AT))
    assert second == before
    manifest = before["manifest.json"]
    assert manifest["version"] == 1
    assert "modules/bookings/bookings_booking.jsonld" in manifest["documents"]
    assert "modules/ressourcerie/ressourcerie_intake_line.jsonld" in manifest["documents"]
    item = before["fabcom_item.jsonld"]["orderedItems"][0]
    assert (item["type"], item["name"], item["itemStatus"], item["category"], item["quantity"]) == (
        "vf:EconomicResource",
        "Chaise",
        "available",
        "category:C_15",
        "3.000",
    )
    project = before["fabcom_project.jsonld"]["orderedItems"][0]
    assert (project["type"], project["name"], project["projectStatus"]) == ("vf:Plan", "Atelier", "idea")
    # Federation's vocabulary: its published context, inlined, in every document.
    for name, document in before.items():
        if name.endswith(".jsonld"):
            assert document["@context"][:2] == [vocab.AS_CONTEXT, vocab.CONTEXT_DOCUMENT["@context"]], name
    assert [c["id"] for c in before["categories.jsonld"]["orderedItems"]] == ["category:C_15"]
    members = before["members.jsonld"]["orderedItems"]
    assert [(m["type"], m["email"], m["recognisedByPartners"]) for m in members][-2:] == [
        ("Person", "owner@example.org", False),
        ("Person", "adherent@example.org", True),
    ]
    # The consent given at /account/partners holds in the new organization, and only it.
    assert [p.user_id for p in await SharedProfile.all()] == [(await User.get(email="adherent@example.org")).id]


async def test_members_are_matched_by_email_with_existing_accounts(filled, db):
    archive = await export_organization(system_principal(), filled.slug, db.uploads_dir)
    ctx = await import_organization(archive, db.uploads_dir, slug="copie")
    assert ctx.organization.slug == "copie"
    assert await User.filter(email="adherent@example.org").count() == 1
    assert (
        await Membership.filter(organization_id=ctx.organization.id).count()
        == await Membership.filter(organization_id=filled.id).count()
    )


def zip_of(files: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return out.getvalue()


def manifest(**changes) -> bytes:
    data = {
        "format": "fabcom-organization-export",
        "version": 1,
        "documents": ["organization.jsonld", "members.jsonld"],
        "attachments": {},
    }
    return json.dumps({**data, **changes}).encode()


MINIMAL = {
    "organization.jsonld": json.dumps({"type": "Organization", "preferredUsername": "neuve", "name": "Neuve"}).encode(),
    "members.jsonld": json.dumps({"type": "OrderedCollection", "orderedItems": []}).encode(),
}


# Each archive is named by its message: the zips carry their creation time, and ids made
# from their bytes would differ between xdist workers collecting a second apart.
BAD_ARCHIVES = [
    (b"not a zip", "not a zip archive"),
    (zip_of({**MINIMAL}), "manifest.json is missing: not a fabcom organization export"),
    (
        zip_of({"manifest.json": manifest(version=2), **MINIMAL}),
        "archive format version 2; this fabcom reads version 1",
    ),
    (
        zip_of({"manifest.json": manifest(format="other"), **MINIMAL}),
        "manifest.json: not a fabcom organization export",
    ),
    (
        zip_of({"manifest.json": manifest(), "organization.jsonld": MINIMAL["organization.jsonld"]}),
        "members.jsonld is listed in the manifest but missing",
    ),
    (
        zip_of({"manifest.json": manifest(), **MINIMAL, "../evil.jsonld": b"{}"}),
        "unexpected file name in the archive: '../evil.jsonld'",
    ),
    (
        zip_of({"manifest.json": manifest(), **MINIMAL, "/etc/cron.d/x": b"x"}),
        "unexpected file name in the archive: '/etc/cron.d/x'",
    ),
    (
        zip_of({"manifest.json": manifest(), **MINIMAL, "attachments/../../x.png": b"x"}),
        "unexpected file name in the archive: 'attachments/../../x.png'",
    ),
    (
        zip_of({"manifest.json": manifest(), **MINIMAL, "attachments/1.png": b"\0" * (50 * 1024 * 1024)}),
        "attachments/1.png: compressed more than 200:1 (a zip bomb?)",
    ),
    (
        zip_of({"manifest.json": manifest(attachments={"attachments/1.png": "0" * 64}), **MINIMAL}),
        "attachments/1.png is listed in the manifest but missing",
    ),
    (
        zip_of(
            {
                "manifest.json": manifest(attachments={"attachments/1.png": "0" * 64}),
                **MINIMAL,
                "attachments/1.png": b"png",
            }
        ),
        "attachments/1.png: checksum mismatch",
    ),
    (zip_of({"manifest.json": b"{nope", **MINIMAL}), "manifest.json is not valid JSON"),
]


@pytest.mark.parametrize(("archive", "message"), BAD_ARCHIVES, ids=[message for _, message in BAD_ARCHIVES])
def test_bad_archives_are_refused_with_a_clear_error(archive, message):
    with pytest.raises(ArchiveError) as refused:
        read_archive(archive)
    assert str(refused.value) == message


async def test_a_refused_archive_writes_nothing(filled, db):
    archive = await export_organization(system_principal(), filled.slug, db.uploads_dir)
    docs = documents(archive)
    movements = docs["fabcom_stock_movement.jsonld"]
    movements["orderedItems"][-1]["item"] = "fabcom_item/999"  # points at nothing
    broken = zip_of({name: (json.dumps(v).encode() if not isinstance(v, bytes) else v) for name, v in docs.items()})
    orgs, items, files = await Organization.all().count(), await Item.all().count(), sorted(db.uploads_dir.iterdir())
    with pytest.raises(ArchiveError) as refused:
        await import_organization(broken, db.uploads_dir, slug="cassee")
    assert str(refused.value) == "reference 'fabcom_item/999' points at nothing in the archive"
    assert (await Organization.all().count(), await Item.all().count()) == (orgs, items)
    assert sorted(db.uploads_dir.iterdir()) == files  # the photo written before the refusal is gone again


async def test_an_existing_slug_is_refused(filled, db):
    archive = await export_organization(system_principal(), filled.slug, db.uploads_dir)
    with pytest.raises(ArchiveError) as refused:
        await import_organization(archive, db.uploads_dir)
    assert str(refused.value) == f"an organization {filled.slug!r} already exists here (choose another with --slug)"


async def test_only_the_owner_downloads_the_archive_from_the_settings(
    filled, make_member, org_b, client, login, staff_a
):
    owner = await make_member(filled, role=Role.OWNER)
    admin = await make_member(filled, role=Role.ADMIN)
    other_owner = await make_member(org_b, role=Role.OWNER)
    url = f"/o/{filled.slug}/export.zip"
    await login(client, owner)
    settings = await client.get(f"/o/{filled.slug}/settings")
    assert f'href="{url}"' in settings.text
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith(f'attachment; filename="{filled.slug}-')
    manifest_doc = documents(response.content)["manifest.json"]
    assert manifest_doc["organization"] == filled.slug
    for intruder, status in ((admin, 403), (staff_a, 403), (other_owner, 404)):
        await login(client, intruder)
        assert (await client.get(url)).status_code == status
    await login(client, admin)
    assert f'href="{url}"' not in (await client.get(f"/o/{filled.slug}/settings")).text
    client.cookies.clear()
    assert (await client.get(url)).status_code == 303


def test_attachment_digests_are_recorded_in_the_manifest():
    content = b"photo"
    archive = zip_of(
        {
            "manifest.json": manifest(attachments={"attachments/1.png": hashlib.sha256(content).hexdigest()}),
            **MINIMAL,
            "attachments/1.png": content,
        }
    )
    _manifest, _docs, files = read_archive(archive)
    assert files == {"attachments/1.png": content}
