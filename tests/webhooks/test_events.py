"""Which changes emit which webhook events, inside the change's own transaction."""

from __future__ import annotations

import pytest

from fabcom.auth.models import User
from fabcom.errors import ValidationFailed
from fabcom.inventory.services import create_item, delete_item, update_item
from fabcom.jobs.models import Job
from fabcom.members.models import Role
from fabcom.members.services import add_member
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.network.services import create_exchange_request, respond_exchange_request
from fabcom.projects.services import create_project, update_project
from fabcom.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

ALL_EVENTS = [e.value for e in WebhookEvent]


async def endpoint_for(org):
    return await WebhookEndpoint.create(
        organization=org, url="https://partner.example/hooks", events=ALL_EVENTS, secret="whsec_AAAA"
    )


async def events_of(endpoint):
    return await WebhookDelivery.filter(endpoint_id=endpoint.id).order_by("id").values_list("event", flat=True)


async def test_item_project_and_member_changes_are_announced(org_a, make_member):
    admin = await make_member(org_a, role=Role.ADMIN)
    endpoint = await endpoint_for(org_a)

    item = await create_item(admin, org_a.id, {"title": "Chaise"})
    await update_item(admin, item.id, {"title": "Chaise pliante"})
    await delete_item(admin, item.id)
    project = await create_project(admin, org_a.id, {"title": "Repair café"})
    await update_project(admin, project.id, {"title": "Repair café du jeudi"})
    newcomer = await User.create(email="new@example.org", display_name="Nouvelle")
    await add_member(admin, org_a.id, {"user_id": newcomer.id, "role": "member"})

    assert await events_of(endpoint) == [
        "item.created",
        "item.updated",
        "item.deleted",
        "project.updated",
        "member.joined",
    ]
    assert await Job.filter(name="deliver_webhook").count() == 5
    joined = await WebhookDelivery.get(event="member.joined")
    assert joined.payload["data"]["user_id"] == newcomer.id
    assert "email" not in joined.payload["data"]


async def test_exchange_requests_are_announced_to_both_sides(org_a, org_b, make_member):
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    owner = await make_member(org_a, role=Role.ADMIN)
    asker = await make_member(org_b, role=Role.STAFF)
    endpoint_a, endpoint_b = await endpoint_for(org_a), await endpoint_for(org_b)
    item = await create_item(
        owner, org_a.id, {"title": "Vélo", "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "1"}
    )

    request = await create_exchange_request(asker, org_b.id, {"item_id": item.id, "kind": "receive"})
    await respond_exchange_request(owner, request.id, "accept")

    assert await events_of(endpoint_a) == ["item.created", "exchange_request.changed", "exchange_request.changed"]
    assert await events_of(endpoint_b) == ["exchange_request.changed", "exchange_request.changed"]
    statuses = [
        d.payload["data"]["status"] for d in await WebhookDelivery.filter(endpoint_id=endpoint_b.id).order_by("id")
    ]
    assert statuses == ["pending", "accepted"]


async def test_a_refused_change_announces_nothing(org_a, make_member):
    admin = await make_member(org_a, role=Role.ADMIN)
    endpoint = await endpoint_for(org_a)
    item = await create_item(admin, org_a.id, {"title": "Chaise"})

    with pytest.raises(ValidationFailed):
        await update_item(admin, item.id, {"title": ""})

    assert await events_of(endpoint) == ["item.created"]


async def test_events_go_only_to_endpoints_subscribed_to_them_and_active(org_a, make_member):
    admin = await make_member(org_a, role=Role.ADMIN)
    deletions = await WebhookEndpoint.create(
        organization=org_a, url="https://a.example/h", events=["item.deleted"], secret="whsec_AAAA"
    )
    inactive = await WebhookEndpoint.create(
        organization=org_a, url="https://b.example/h", events=ALL_EVENTS, secret="whsec_AAAA", is_active=False
    )

    await create_item(admin, org_a.id, {"title": "Chaise"})

    assert await events_of(deletions) == []
    assert await events_of(inactive) == []
    assert await Job.all().count() == 0
