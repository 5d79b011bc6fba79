"""The inbox: a verified message is stored once and answered 202, then processed by a
job; everything else is refused and changes nothing."""

from __future__ import annotations

import datetime as dt
import logging

import orjson
import pytest

from fabcom import clock
from fabcom.federation import config
from fabcom.federation.models import InboxMessage, InboxStatus, RemoteActor
from fabcom.jobs.models import Job
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization
from fabcom.testing.federation import Peer, keypair, sign_request

PATH = "/ap/o/recyclerie-a/inbox"
URL = f"http://testserver{PATH}"


def follow(peer: Peer, **extra) -> dict:
    return peer.activity("Follow", config.org_actor_uri("recyclerie-a"), **extra)


async def post(client, peer: Peer, activity: dict, path: str = PATH, **sign_options):
    body = orjson.dumps(activity)
    headers = sign_request(peer.key, "POST", f"http://testserver{path}", body, **sign_options)
    return await client.post(path, content=body, headers=headers)


async def nothing_changed() -> None:
    assert await InboxMessage.all().count() == 0
    assert await Job.filter(name="process_inbox_message").count() == 0
    assert await Partnership.all().count() == 0


async def test_a_signed_follow_is_stored_answered_202_and_processed_into_a_request(client, org_a, peer, embedded_jobs):
    response = await post(client, peer, follow(peer, content="<b>Bonjour</b> !"))

    assert response.status_code == 202
    message = await InboxMessage.get()
    assert (message.type, message.actor_uri, message.organization_id) == ("Follow", peer.uri, org_a.id)
    await embedded_jobs.settle()
    await message.refresh_from_db()
    assert message.status == InboxStatus.PROCESSED
    link = await Partnership.get()
    mirror = await Organization.get(id=link.organization_id)
    assert (link.partner_id, link.status, link.message) == (org_a.id, PartnershipStatus.REQUESTED, "Bonjour !")
    assert (mirror.is_local, mirror.remote_uri, mirror.slug) == (False, peer.uri, "peer-at-peer.example")
    assert mirror.name == "Peer peer"
    assert mirror.description == "Un atelier"


async def test_the_shared_inbox_takes_messages_for_any_local_organization(client, org_a, peer, embedded_jobs):
    response = await post(client, peer, follow(peer), path="/ap/inbox")

    assert response.status_code == 202
    await embedded_jobs.settle()
    assert (await Partnership.get()).partner_id == org_a.id


async def test_a_replayed_message_is_answered_202_and_processed_once(client, org_a, peer, embedded_jobs):
    activity = follow(peer)
    first = await post(client, peer, activity)
    await embedded_jobs.settle()
    again = await post(client, peer, activity)
    also_shared = await post(client, peer, activity, path="/ap/inbox")
    await embedded_jobs.settle()

    assert (first.status_code, again.status_code, also_shared.status_code) == (202, 202, 202)
    assert await InboxMessage.all().count() == 1
    assert await Job.filter(name="process_inbox_message").count() == 1
    assert await Partnership.all().count() == 1


async def test_an_unknown_activity_type_is_ignored_with_a_log_line(client, org_a, peer, embedded_jobs, caplog):
    caplog.set_level(logging.INFO, "fabcom.federation.inbox")
    response = await post(client, peer, peer.activity("Listen", f"https://{peer.host}/songs/1"))
    await embedded_jobs.settle()

    assert response.status_code == 202
    assert (await InboxMessage.get()).status == InboxStatus.IGNORED
    assert "ignored a Listen" in caplog.text
    assert await Partnership.all().count() == 0


async def test_an_inbox_of_an_unknown_or_remote_organization_is_404(client, org_a, peer):
    await Organization.create(slug="mirror", name="Mirror", is_local=False, remote_uri="https://x.example/ap/o/m")
    for path in ("/ap/o/nobody/inbox", "/ap/o/mirror/inbox"):
        assert (await post(client, peer, follow(peer), path=path)).status_code == 404
    await nothing_changed()


# --- the negative matrix: each request is refused and nothing changes ------------------------------


async def case_unsigned(client, peer):
    body = orjson.dumps(follow(peer))
    return await client.post(PATH, content=body, headers={"content-type": "application/activity+json"})


async def case_bad_signature(client, peer):
    from fabcom.federation.keys import SigningKey

    private, public = keypair(3)  # signed with a key that is not the peer's
    body = orjson.dumps(follow(peer))
    headers = sign_request(SigningKey(peer.key.key_id, private, public), "POST", URL, body)
    return await client.post(PATH, content=body, headers=headers)


async def case_tampered_body(client, peer):
    body = orjson.dumps(follow(peer))
    headers = sign_request(peer.key, "POST", URL, body)
    tampered = body.replace(b"Follow", b"Block ")
    from fabcom.federation.signatures import digest

    headers["digest"] = digest(tampered)  # a consistent digest, but not the one signed
    return await client.post(PATH, content=tampered, headers=headers)


async def case_digest_mismatch(client, peer):
    body = orjson.dumps(follow(peer))
    headers = sign_request(peer.key, "POST", URL, body)
    return await client.post(PATH, content=body.replace(b"}", b' ,"x":1}', 1), headers=headers)


async def case_missing_date(client, peer):
    body = orjson.dumps(follow(peer))
    headers = sign_request(peer.key, "POST", URL, body)
    del headers["date"]
    return await client.post(PATH, content=body, headers=headers)


async def case_expired(client, peer):
    return await post(client, peer, follow(peer), date=clock.now() - dt.timedelta(minutes=10))


async def case_future_date(client, peer):
    return await post(client, peer, follow(peer), date=clock.now() + dt.timedelta(minutes=10))


async def case_unknown_key(client, peer):
    from fabcom.federation.keys import SigningKey

    body = orjson.dumps(follow(peer))
    key = SigningKey(f"{peer.uri}#another-key", peer.key.private_key_pem, peer.key.public_key_pem)
    return await client.post(PATH, content=body, headers=sign_request(key, "POST", URL, body))


async def case_key_fetch_fails(client, peer):
    peer.actor_status = 503
    return await post(client, peer, follow(peer))


async def case_key_on_an_unreachable_host(client, peer):
    from fabcom.federation.keys import SigningKey

    body = orjson.dumps(follow(peer))
    key = SigningKey("https://nowhere.example/actor#main-key", peer.key.private_key_pem, peer.key.public_key_pem)
    return await client.post(PATH, content=body, headers=sign_request(key, "POST", URL, body))


async def case_actor_is_not_the_signer(client, peer):
    activity = follow(peer)
    activity["actor"] = f"https://{peer.host}/ap/o/someone-else"
    return await post(client, peer, activity)


async def case_object_on_another_host(client, peer):
    note = {"id": "https://evil.example/notes/1", "type": "Note", "attributedTo": peer.uri}
    return await post(client, peer, peer.activity("Create", note))


async def case_object_of_another_actor(client, peer):
    note = {"id": f"https://{peer.host}/notes/1", "type": "Note", "attributedTo": f"https://{peer.host}/ap/o/x"}
    return await post(client, peer, peer.activity("Create", note))


async def case_activity_id_on_another_host(client, peer):
    activity = follow(peer)
    activity["id"] = "https://evil.example/activities/1"
    return await post(client, peer, activity)


async def case_wrong_content_type(client, peer):
    return await post(client, peer, follow(peer), content_type="text/plain")


async def case_ld_json_without_the_activitystreams_profile(client, peer):
    return await post(client, peer, follow(peer), content_type="application/ld+json")


async def case_oversize(client, peer):
    return await post(client, peer, follow(peer, content="x" * (300 * 1024)))


async def case_malformed_json(client, peer):
    body = b'{"type": "Follow", '
    return await client.post(PATH, content=body, headers=sign_request(peer.key, "POST", URL, body))


async def case_not_an_activity(client, peer):
    body = orjson.dumps(["Follow"])
    return await client.post(PATH, content=body, headers=sign_request(peer.key, "POST", URL, body))


async def case_digest_not_in_signed_headers(client, peer):
    return await post(client, peer, follow(peer), names=["(request-target)", "host", "date"])


async def case_request_target_not_signed(client, peer):
    return await post(client, peer, follow(peer), names=["host", "date", "digest"])


async def case_signed_for_another_inbox(client, peer):
    body = orjson.dumps(follow(peer))
    headers = sign_request(peer.key, "POST", "http://testserver/ap/o/other/inbox", body)
    return await client.post(PATH, content=body, headers=headers)


async def case_blocked_peer(client, peer):
    first = await post(client, peer, peer.activity("Listen", f"https://{peer.host}/x"))
    assert first.status_code == 202
    await InboxMessage.all().delete()
    await Job.filter(name="process_inbox_message").delete()
    mirror = await Organization.get(remote_uri=peer.uri)
    org_a = await Organization.get(slug="recyclerie-a")
    link = await Partnership.create(organization=org_a, partner=mirror, status=PartnershipStatus.BLOCKED)
    response = await post(client, peer, follow(peer))
    await link.delete()
    return response


MATRIX = [
    (case_unsigned, 401, "unsigned"),
    (case_bad_signature, 401, "bad_signature"),
    (case_tampered_body, 401, "bad_signature"),
    (case_digest_mismatch, 401, "digest_mismatch"),
    (case_missing_date, 401, "missing_header"),
    (case_expired, 401, "expired"),
    (case_future_date, 401, "date_in_future"),
    (case_unknown_key, 401, "unknown_key"),
    (case_key_fetch_fails, 401, "key_fetch_failed"),
    (case_key_on_an_unreachable_host, 401, "key_fetch_failed"),
    (case_actor_is_not_the_signer, 401, "actor_is_not_signer"),
    (case_object_on_another_host, 401, "object_on_another_host"),
    (case_object_of_another_actor, 401, "object_of_another_actor"),
    (case_activity_id_on_another_host, 401, "activity_on_another_host"),
    (case_wrong_content_type, 415, "content_type"),
    (case_ld_json_without_the_activitystreams_profile, 415, "content_type"),
    (case_oversize, 413, "too_large"),
    (case_malformed_json, 400, "malformed_json"),
    (case_not_an_activity, 400, "malformed_json"),
    (case_digest_not_in_signed_headers, 401, "headers_not_signed"),
    (case_request_target_not_signed, 401, "headers_not_signed"),
    (case_signed_for_another_inbox, 401, "bad_signature"),
    (case_blocked_peer, 403, "blocked"),
]


@pytest.mark.parametrize(("send", "status", "reason"), MATRIX, ids=[m[0].__name__[5:] for m in MATRIX])
async def test_a_refused_message_changes_nothing(client, org_a, peer, send, status, reason):
    response = await send(client, peer)

    assert (response.status_code, response.json()["error"]) == (status, reason)
    await nothing_changed()


async def test_a_key_on_a_private_address_is_not_fetched_unless_the_admin_allows_it(
    client, org_a, peer, fed_settings, monkeypatch
):
    from fabcom.federation.keys import SigningKey

    monkeypatch.setattr(fed_settings, "federation_allow_private_addresses", False)
    body = orjson.dumps(follow(peer))
    key = SigningKey("http://127.0.0.1:9/actor#main-key", peer.key.private_key_pem, peer.key.public_key_pem)

    response = await client.post(PATH, content=body, headers=sign_request(key, "POST", URL, body))

    assert (response.status_code, response.json()["error"]) == (401, "key_fetch_failed")
    assert await RemoteActor.all().count() == 0
    await nothing_changed()


async def test_a_message_about_one_of_our_own_objects_is_accepted(client, org_a, peer):
    ours = config.base_url()
    agreement = {"id": f"{ours}/ap/agreements/1", "type": "Agreement", "attributedTo": f"{ours}/ap/o/recyclerie-a"}
    quoted_follow = {"type": "Follow", "actor": config.org_actor_uri("recyclerie-a"), "object": peer.uri}

    moved_on = await post(client, peer, peer.activity("Update", agreement))
    accepted = await post(client, peer, peer.activity("Accept", quoted_follow))

    assert (moved_on.status_code, accepted.status_code) == (202, 202)
    assert await InboxMessage.all().count() == 2


async def test_objects_from_a_server_that_is_not_a_partner_are_ignored(client, org_a, peer, embedded_jobs, caplog):
    caplog.set_level(logging.INFO, "fabcom.federation.inbox")
    note = {"id": f"https://{peer.host}/ap/items/1", "type": "Page", "name": "Spam", "attributedTo": peer.uri}

    response = await post(client, peer, peer.activity("Create", note))
    await embedded_jobs.settle()

    assert response.status_code == 202
    assert (await InboxMessage.get()).status == InboxStatus.IGNORED
    assert "ignored a Create" in caplog.text
    assert "not a partner" in caplog.text
