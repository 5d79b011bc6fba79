"""Notification preferences in the account, marking notifications as read from the dashboard."""

from __future__ import annotations

from fabcom.notifications.models import Notification
from fabcom.notifications.preference_models import Channel, NotificationPreference


async def notification(principal, org, title="Demande de Fablab B"):
    data = {"item": title, "organization": "Fablab B", "quantity": "1", "status": "pending"}
    return await Notification.create(
        user_id=principal.user_id, organization_id=org.id, kind="exchange_request.created", data=data
    )


async def test_a_new_exchange_request_is_a_sentence_on_the_dashboard_linking_to_it(
    make_client, staff_a, staff_b, org_a, org_b
):
    from fabcom.auth.services import load_principal
    from fabcom.inventory.services import create_item
    from fabcom.network.models import Partnership, PartnershipStatus
    from fabcom.network.services import create_exchange_request

    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    item = await create_item(
        staff_b,
        org_b.id,
        {"title": "Vélo de ville", "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "1"},
    )
    asker = await load_principal(staff_a.user_id)
    await create_exchange_request(asker, org_a.id, {"item_id": item.id, "kind": "receive", "quantity": "1"})
    owner = await make_client(await load_principal(staff_b.user_id))
    dashboard = await owner.get(f"/o/{org_b.slug}/")
    assert f'<a href="/o/{org_b.slug}/partners#ex-h">Nouvelle demande pour « Vélo de ville »</a>' in dashboard.text
    assert "exchange_request.created" not in dashboard.text


async def test_the_preferences_page_shows_the_current_channel_and_saves_a_new_one(make_client, staff_a):
    client = await make_client(staff_a)
    page = await client.get("/notifications/preferences")
    assert page.status_code == 200
    assert '<input type="radio" name="channel" value="in_app" checked>' in page.text
    response = await client.post_form("/notifications/preferences", {"channel": "digest"})
    assert response.status_code == 303
    assert response.headers["location"] == "/notifications/preferences"
    preference = await NotificationPreference.get(user_id=staff_a.user_id)
    assert preference.channel == Channel.DIGEST
    page = await client.get("/notifications/preferences")
    assert '<input type="radio" name="channel" value="digest" checked>' in page.text


async def test_an_unknown_channel_re_renders_with_a_message_and_changes_nothing(make_client, staff_a):
    client = await make_client(staff_a)
    response = await client.post_form("/notifications/preferences", {"channel": "pigeon"})
    assert response.status_code == 400
    assert 'id="channel-error"' in response.text
    assert not await NotificationPreference.filter(user_id=staff_a.user_id).exists()


async def test_the_preferences_page_needs_a_login(make_client):
    client = await make_client()
    response = await client.get("/notifications/preferences")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/notifications/preferences"


async def test_mark_one_as_read_from_the_dashboard_full_page_and_htmx(make_client, staff_a, org_a):
    first = await notification(staff_a, org_a, "Première")
    second = await notification(staff_a, org_a, "Seconde")
    client = await make_client(staff_a)
    dashboard = await client.get(f"/o/{org_a.slug}/")
    assert f'action="/o/{org_a.slug}/notifications/{first.id}/read"' in dashboard.text
    assert "Marquer tout comme lu" in dashboard.text

    response = await client.post_form(f"/o/{org_a.slug}/notifications/{first.id}/read")
    assert response.status_code == 303
    assert response.headers["location"] == f"/o/{org_a.slug}/"
    assert (await Notification.get(id=first.id)).read_at is not None
    assert (await Notification.get(id=second.id)).read_at is None

    fragment = await client.post_form(f"/o/{org_a.slug}/notifications/{second.id}/read", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.startswith('<section class="card" aria-labelledby="notif-h" id="notifications">')
    assert "<html" not in fragment.text
    assert "Seconde" not in fragment.text
    assert (await Notification.get(id=second.id)).read_at is not None


async def test_mark_all_as_read(make_client, staff_a, org_a, org_b):
    here = [await notification(staff_a, org_a), await notification(staff_a, org_a)]
    client = await make_client(staff_a)
    fragment = await client.post_form(f"/o/{org_a.slug}/notifications/read", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "Rien de nouveau." in fragment.text
    assert [n.read_at is not None for n in await Notification.filter(id__in=[n.id for n in here])] == [True, True]


async def test_someone_elses_notification_or_organization_is_not_found(make_client, staff_a, staff_b, org_a, org_b):
    theirs = await notification(staff_b, org_b)
    client = await make_client(staff_a)
    response = await client.post_form(f"/o/{org_a.slug}/notifications/{theirs.id}/read")
    assert response.status_code == 404
    response = await client.post_form(f"/o/{org_b.slug}/notifications/read")
    assert response.status_code == 404
    assert (await Notification.get(id=theirs.id)).read_at is None
