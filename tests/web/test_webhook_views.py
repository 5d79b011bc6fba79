"""The webhooks page in the organization's settings: endpoints listed, created with the
secret shown once, disabled, deleted, tested; recent deliveries with their state;
private addresses refused next to the field; only the organization's admins get in."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from fabcom.app import create_app
from fabcom.members.models import Role
from fabcom.testing.jobs import EmbeddedJobs, fake_clock, settings_for_tests
from fabcom.testing.receiver import WebhookReceiver
from fabcom.webhooks.models import WebhookDelivery, WebhookEndpoint
from fabcom.webhooks.services import create_endpoint

__all__ = ["fake_clock"]  # the fixture, imported for this module


@pytest.fixture
def app(db) -> Starlette:
    # partners' receivers in these tests listen on 127.0.0.1
    return create_app(settings_for_tests(db))


@pytest.fixture
def runner(db, fake_clock) -> EmbeddedJobs:
    return EmbeddedJobs(settings_for_tests(db), fake_clock)


@pytest.fixture
async def admin_a(make_member, org_a):
    return await make_member(org_a, role=Role.ADMIN)


async def test_an_admin_adds_an_endpoint_sees_its_secret_once_and_tests_it(make_client, admin_a, org_a, runner):
    client = await make_client(admin_a)
    assert "Webhooks" in (await client.get(f"/o/{org_a.slug}/settings")).text
    async with WebhookReceiver() as receiver:
        created = await client.post_form(
            f"/o/{org_a.slug}/settings/webhooks",
            {"url": receiver.url, "events": ["item.created", "member.joined"], "description": "Site du fablab"},
        )
        assert created.status_code == 200
        endpoint = await WebhookEndpoint.get(organization_id=org_a.id)
        assert endpoint.events == ["item.created", "member.joined"]
        assert endpoint.secret in created.text
        page = await client.get(f"/o/{org_a.slug}/settings/webhooks")
        assert endpoint.secret not in page.text  # shown once
        assert receiver.url in page.text
        assert "Aucun envoi pour l’instant." in page.text

        tested = await client.post_form(f"/o/{org_a.slug}/settings/webhooks/{endpoint.id}/test")
        assert tested.status_code == 303
        waiting = await client.get(f"/o/{org_a.slug}/settings/webhooks")
        assert "Évènement de test" in waiting.text
        assert "en attente" in waiting.text
        await runner.settle()
        assert len(receiver.requests) == 1
        delivered = await client.get(f"/o/{org_a.slug}/settings/webhooks")
        assert "envoyé" in delivered.text
        assert "HTTP 200" in delivered.text
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
    assert (delivery.event, delivery.attempts, delivery.last_status_code) == ("webhook.test", 1, 200)


async def test_a_dead_delivery_shows_its_attempts_and_answer(make_client, admin_a, org_a, runner):
    client = await make_client(admin_a)
    async with WebhookReceiver(default=404) as receiver:
        endpoint = await create_endpoint(
            admin_a, org_a.id, {"url": receiver.url, "events": ["item.created"]}, allow_private=True
        )
        await client.post_form(f"/o/{org_a.slug}/settings/webhooks/{endpoint.id}/test")
        await runner.settle()
    page = await client.get(f"/o/{org_a.slug}/settings/webhooks")
    assert "abandonné" in page.text
    assert "HTTP 404" in page.text


async def test_a_private_address_is_refused_next_to_the_field(make_client, admin_a, org_a, db):
    client = await make_client(admin_a)
    strict = create_app(db)  # the instance's default: private addresses refused
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://testserver") as other:
        other.cookies.update(client.cookies)
        refused = await other.post(
            f"/o/{org_a.slug}/settings/webhooks",
            data={"url": "http://127.0.0.1:9/hook", "events": ["item.created"], "csrf_token": client.csrf_token},
        )
    assert refused.status_code == 400
    assert 'id="url-error"' in refused.text
    assert "réseau privé ou local" in refused.text
    assert 'value="http://127.0.0.1:9/hook"' in refused.text
    no_event = await client.post_form(f"/o/{org_a.slug}/settings/webhooks", {"url": "https://example.org/hook"})
    assert no_event.status_code == 400
    assert 'id="events-error"' in no_event.text
    assert await WebhookEndpoint.all().count() == 0


async def test_disable_then_enable_then_delete(make_client, admin_a, org_a):
    client = await make_client(admin_a)
    endpoint = await create_endpoint(
        admin_a, org_a.id, {"url": "http://127.0.0.1:9/h", "events": ["item.created"]}, allow_private=True
    )
    base = f"/o/{org_a.slug}/settings/webhooks/{endpoint.id}"
    await client.post_form(base + "/disable")
    assert (await WebhookEndpoint.get(id=endpoint.id)).is_active is False
    page = await client.get(f"/o/{org_a.slug}/settings/webhooks")
    assert "désactivé" in page.text
    refused = await client.post_form(base + "/test")
    assert refused.status_code == 303
    assert await WebhookDelivery.all().count() == 0
    await client.post_form(base + "/enable")
    assert (await WebhookEndpoint.get(id=endpoint.id)).is_active is True
    asked = await client.post_form(base + "/delete")
    assert asked.status_code == 200
    assert "Supprimer le point de réception http://127.0.0.1:9/h ?" in asked.text
    assert await WebhookEndpoint.all().count() == 1
    await client.post_form(base + "/delete", {"confirm": "1"})
    assert await WebhookEndpoint.all().count() == 0


async def test_staff_and_other_organizations_cannot_reach_the_webhooks(make_client, make_member, admin_a, org_a, org_b):
    endpoint = await create_endpoint(
        admin_a, org_a.id, {"url": "http://127.0.0.1:9/h", "events": ["item.created"]}, allow_private=True
    )
    staff = await make_client(await make_member(org_a, role=Role.STAFF))
    admin_b = await make_client(await make_member(org_b, role=Role.ADMIN))
    assert (await staff.get(f"/o/{org_a.slug}/settings/webhooks")).status_code == 403
    delete = f"/o/{org_a.slug}/settings/webhooks/{endpoint.id}/delete"
    assert (await staff.post_form(delete, {"confirm": "1"})).status_code == 403
    assert (await admin_b.get(f"/o/{org_a.slug}/settings/webhooks")).status_code == 404
    # an admin of B naming A's endpoint under B's own slug
    delete_b = f"/o/{org_b.slug}/settings/webhooks/{endpoint.id}/delete"
    assert (await admin_b.post_form(delete_b, {"confirm": "1"})).status_code == 404
    assert (await admin_b.post_form(f"/o/{org_b.slug}/settings/webhooks/{endpoint.id}/test")).status_code == 404
    assert await WebhookEndpoint.filter(id=endpoint.id, is_active=True).count() == 1
    assert await WebhookDelivery.all().count() == 0
