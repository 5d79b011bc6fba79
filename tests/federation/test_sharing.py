"""Publishing items and projects: what partners are sent when a shared object changes,
nothing for private ones, nothing when the change is refused."""

from __future__ import annotations

import pytest

from fabcom.errors import PermissionDenied, ValidationFailed
from fabcom.federation.models import Audience, OutboxActivity
from fabcom.federation.vocab import AS_PUBLIC
from fabcom.inventory.services import create_item, delete_item, record_movement, update_item
from fabcom.projects.services import add_need, create_project, update_project


async def activities() -> list[tuple[str, str, Audience]]:
    rows = await OutboxActivity.all().order_by("id")
    return [(r.type, r.object_uri, r.audience) for r in rows]


async def test_a_private_item_publishes_nothing(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Perceuse", "initial_quantity": "1"})
    await update_item(staff_a, item.id, {"title": "Perceuse à percussion"})
    await record_movement(staff_a, item.id, {"kind": "sale", "quantity": "1"})
    await delete_item(staff_a, item.id)

    assert await activities() == []


async def test_a_shared_item_is_created_updated_and_deleted_for_its_audience(org_a, staff_a):
    item = await create_item(
        staff_a,
        org_a.id,
        {"title": "Chaise", "visibility": "partners", "initial_quantity": "4", "category_code": "C_15"},
    )
    uri = f"http://127.0.0.1:8000/ap/items/{item.id}"
    await update_item(staff_a, item.id, {"visibility": "public"})
    await record_movement(staff_a, item.id, {"kind": "sale", "quantity": "1"})
    await delete_item(staff_a, item.id)

    assert await activities() == [
        ("Create", uri, Audience.PARTNERS),
        ("Update", uri, Audience.PUBLIC),
        ("Update", uri, Audience.PUBLIC),
        ("Delete", uri, Audience.PUBLIC),
    ]
    rows = await OutboxActivity.all().order_by("id")
    created = rows[0].payload
    assert created["actor"] == f"http://127.0.0.1:8000/ap/o/{org_a.slug}"
    assert created["to"] == [f"http://127.0.0.1:8000/ap/o/{org_a.slug}/followers"]
    assert created["object"]["name"] == "Chaise"
    assert created["object"]["resource"]["accountingQuantity"] == {"hasNumericalValue": "4", "hasUnit": "one"}
    assert created["object"]["resource"]["classifiedAs"] == ["urn:fabcom:category:C_15"]
    assert rows[1].payload["to"] == [AS_PUBLIC]
    assert rows[2].payload["object"]["resource"]["accountingQuantity"]["hasNumericalValue"] == "3"
    assert rows[3].payload["object"] == {
        "id": uri,
        "type": "Tombstone",
        "formerType": "Page",
        "deleted": rows[3].payload["object"]["deleted"],
    }


async def test_going_private_sends_delete_to_partners_and_coming_back_creates_again(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Table", "visibility": "partners"})
    await update_item(staff_a, item.id, {"visibility": "private"})
    await update_item(staff_a, item.id, {"title": "Table basse"})
    await update_item(staff_a, item.id, {"visibility": "partners"})

    assert [(t, a) for t, _uri, a in await activities()] == [
        ("Create", Audience.PARTNERS),
        ("Delete", Audience.PARTNERS),
        ("Create", Audience.PARTNERS),
    ]


async def test_a_refused_change_publishes_nothing(org_a, staff_a, staff_b):
    item = await create_item(staff_a, org_a.id, {"title": "Vélo", "visibility": "public", "initial_quantity": "1"})
    before = await activities()

    with pytest.raises(ValidationFailed):
        await record_movement(staff_a, item.id, {"kind": "sale", "quantity": "2"})  # not enough stock
    with pytest.raises(ValidationFailed):
        await update_item(staff_a, item.id, {"title": ""})
    with pytest.raises(PermissionDenied):  # another organization's staff
        await update_item(staff_b, item.id, {"title": "Volé"})

    assert await activities() == before


async def test_shared_projects_are_published_with_their_needs(org_a, staff_a):
    private = await create_project(staff_a, org_a.id, {"title": "Secret"})
    project = await create_project(staff_a, org_a.id, {"title": "Atelier vélo", "visibility": "partners"})
    await add_need(staff_a, project.id, {"kind": "item", "category_code": "C_15", "quantity": "2"})
    await update_project(staff_a, project.id, {"visibility": "private"})
    await add_need(staff_a, private.id, {"kind": "skill", "skill": "soudure"})

    uri = f"http://127.0.0.1:8000/ap/projects/{project.id}"
    assert await activities() == [
        ("Create", uri, Audience.PARTNERS),
        ("Update", uri, Audience.PARTNERS),
        ("Delete", uri, Audience.PARTNERS),
    ]
    update = (await OutboxActivity.all().order_by("id"))[1].payload["object"]
    assert update["plan"]["type"] == "Plan"
    assert update["proposal"]["purpose"] == "request"
    assert update["proposal"]["publishes"][0]["classifiedAs"] == ["urn:fabcom:category:C_15"]
