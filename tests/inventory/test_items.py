"""Items: creation, edits, deletion, photos, the taxonomy, and who may do what."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from fabcom.audit.models import AuditEntry
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.inventory.models import Attachment, Category, Item, StockMovement
from fabcom.inventory.services import add_photo, create_item, create_location, delete_item, get_item_for, update_item
from fabcom.members.models import Role
from fabcom.permissions import ANONYMOUS


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return buffer.getvalue()


async def test_the_shipped_taxonomy_is_seeded_with_both_languages(db):
    furniture = await Category.get(code="C_15").prefetch_related("parent")
    assert (furniture.label_fr, furniture.label_en, furniture.rep_channel) == ("Mobilier", "Furniture", "DEA")
    assert furniture.parent.code == "furniture-decoration"
    assert await Category.filter(code__startswith="C_").count() == 28


async def test_create_item_with_opening_stock_writes_item_movement_and_audit(org_a, staff_a):
    location = await create_location(staff_a, org_a.id, {"name": "Réserve"})
    item = await create_item(
        staff_a,
        org_a.id,
        {
            "title": "  Commode  ",
            "category_code": "C_15",
            "location_id": location.id,
            "unit_weight_kg": "30",
            "unit_value": "45.50",
            "visibility": "partners",
            "sharing_modes": ["sell", "give", "sell"],
            "initial_quantity": "2",
            "counterparty": "Mme Roux",
        },
    )
    assert item.title == "Commode"
    assert item.quantity == Decimal("2")
    assert item.sharing_modes == ["give", "sell"]
    movement = await StockMovement.get(item_id=item.id)
    assert (movement.kind, movement.quantity, movement.weight_kg, movement.counterparty) == (
        "donation",
        Decimal("2"),
        Decimal("60"),
        "Mme Roux",
    )
    actions = await AuditEntry.filter(organization_id=org_a.id).order_by("id").values_list("action", "actor_id")
    assert actions == [
        ("location.create", staff_a.user_id),
        ("item.create", staff_a.user_id),
        ("stock_movement.record", staff_a.user_id),
    ]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, [("title", ErrorCode.REQUIRED)]),
        ({"title": "   "}, [("title", ErrorCode.REQUIRED)]),
        ({"title": "x" * 201}, [("title", ErrorCode.TOO_LONG)]),
        ({"title": "Chaise", "category_code": "C_99"}, [("category_code", ErrorCode.INVALID)]),
        ({"title": "Chaise", "location_id": 999999}, [("location_id", ErrorCode.INVALID)]),
        ({"title": "Chaise", "unit": "barrel"}, [("unit", ErrorCode.INVALID)]),
        ({"title": "Chaise", "visibility": "secret"}, [("visibility", ErrorCode.INVALID)]),
        ({"title": "Chaise", "sharing_modes": ["steal"]}, [("sharing_modes.0", ErrorCode.INVALID)]),
        ({"title": "Chaise", "unit_value": "-1"}, [("unit_value", ErrorCode.OUT_OF_RANGE)]),
        ({"title": "Chaise", "unit_weight_kg": "1.2345"}, [("unit_weight_kg", ErrorCode.INVALID)]),
        ({"title": "Chaise", "initial_quantity": "1", "initial_kind": "sale"}, [("initial_kind", ErrorCode.INVALID)]),
        ({"title": "Chaise", "attributes": {"blob": "x" * 20_000}}, [("attributes", ErrorCode.INVALID)]),
        ({"title": "Chaise", "owner": "me"}, [("owner", ErrorCode.INVALID)]),
        ({"title": "", "unit": "barrel"}, [("title", ErrorCode.REQUIRED), ("unit", ErrorCode.INVALID)]),
    ],
)
async def test_bad_item_input_is_refused_field_by_field_and_nothing_is_written(org_a, staff_a, data, errors):
    with pytest.raises(ValidationFailed) as refused:
        await create_item(staff_a, org_a.id, data)
    assert [(e.field, e.code) for e in refused.value.errors] == errors
    assert await Item.all().count() == 0
    assert await AuditEntry.all().count() == 0


async def test_error_messages_are_translated(org_a, staff_a):
    with pytest.raises(ValidationFailed) as refused:
        await create_item(staff_a, org_a.id, {"title": "", "category_code": "C_99"})
    assert refused.value.errors[0].text("fr") == "Ce champ est obligatoire."
    assert refused.value.errors[0].text("en") == "This field is required."


async def test_update_item_changes_fields_keeps_others_and_audits_before_after(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Table", "description": "En chêne", "initial_quantity": "1"})
    updated = await update_item(staff_a, item.id, {"title": "Table ronde", "visibility": "public"})
    assert (updated.title, updated.description, updated.visibility, updated.quantity) == (
        "Table ronde",
        "En chêne",
        "public",
        Decimal("1"),
    )
    entry = await AuditEntry.get(action="item.update")
    assert (entry.before["title"], entry.after["title"]) == ("Table", "Table ronde")


async def test_quantity_cannot_be_edited_directly(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Table", "initial_quantity": "1"})
    with pytest.raises(ValidationFailed) as refused:
        await update_item(staff_a, item.id, {"quantity": "50"})
    assert refused.value.errors[0].field == "quantity"
    assert (await Item.get(id=item.id)).quantity == Decimal("1")


async def test_bad_update_changes_nothing(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Table"})
    with pytest.raises(ValidationFailed):
        await update_item(staff_a, item.id, {"title": "Table", "status": "vanished"})
    assert (await Item.get(id=item.id)).status == "available"
    assert await AuditEntry.filter(action="item.update").count() == 0


async def test_deleted_items_disappear_but_keep_their_ledger(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Vase", "initial_quantity": "1"})
    await delete_item(staff_a, item.id)
    with pytest.raises(NotFound):
        await get_item_for(staff_a, item.id)
    assert await StockMovement.filter(item_id=item.id).count() == 1


async def test_volunteers_edit_but_only_staff_delete(org_a, staff_a, make_member):
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    item = await create_item(volunteer, org_a.id, {"title": "Lampe"})
    await update_item(volunteer, item.id, {"title": "Lampe de chevet"})
    with pytest.raises(PermissionDenied):
        await delete_item(volunteer, item.id)
    assert (await Item.get(id=item.id)).deleted_at is None


async def test_members_and_outsiders_cannot_create_items(org_a, org_b, staff_b, make_member):
    member = await make_member(org_a, role=Role.MEMBER)
    for actor in (member, staff_b, ANONYMOUS):
        with pytest.raises(PermissionDenied):
            await create_item(actor, org_a.id, {"title": "Intrus"})
    assert await Item.all().count() == 0


async def test_a_photo_must_be_a_real_image(org_a, staff_a, db):
    item = await create_item(staff_a, org_a.id, {"title": "Vélo"})
    uploads = db.uploads_dir
    photo = await add_photo(
        staff_a, item.id, filename="../../etc/vélo.png", content=png_bytes(), uploads_dir=uploads, max_bytes=1_000_000
    )
    assert photo.content_type == "image/png"
    assert photo.original_name == "vélo.png"
    assert (uploads / photo.stored_name).read_bytes() == png_bytes()
    for name, content in (("evil.png", b"<script>alert(1)</script>"), ("x.svg", b"<svg onload=alert(1)>")):
        with pytest.raises(ValidationFailed) as refused:
            await add_photo(staff_a, item.id, filename=name, content=content, uploads_dir=uploads, max_bytes=1_000_000)
        assert refused.value.errors[0].field == "photo"
    with pytest.raises(ValidationFailed) as too_big:
        await add_photo(staff_a, item.id, filename="big.png", content=png_bytes(), uploads_dir=uploads, max_bytes=10)
    assert too_big.value.errors[0].code == ErrorCode.OUT_OF_RANGE
    assert await Attachment.filter(item_id=item.id).count() == 1
    assert sorted(p.name for p in uploads.iterdir()) == [photo.stored_name]
