"""Partnerships over ActivityPub: a request to name@server leaves as a Follow; a remote
Follow is a request on the partners page; accepting sends Accept and follows back;
Reject, Undo(Follow) and Block end it on both sides."""

from __future__ import annotations

import orjson
import pytest

from fabcom import clock
from fabcom.errors import ValidationFailed
from fabcom.federation import config, remote
from fabcom.federation.mirror_models import MirrorItem
from fabcom.federation.models import InboxMessage, InboxStatus, OutboxActivity, RemoteActor
from fabcom.jobs.models import Job
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.network.services import request_partnership, respond_partnership
from fabcom.notifications.models import Notification
from fabcom.orgs.models import Organization
from fabcom.testing.federation import Peer, sign_request

A = "http://127.0.0.1:8000/ap/o/recyclerie-a"


async def deliver(client, peer: Peer, activity: dict) -> None:
    body = orjson.dumps(activity)
    path = "/ap/o/recyclerie-a/inbox"
    response = await client.post(
        path, content=body, headers=sign_request(peer.key, "POST", f"http://testserver{path}", body)
    )
    assert response.status_code == 202, response.text


async def test_asking_name_at_server_sends_a_follow_and_their_accept_makes_us_partners(
    client, org_a, staff_a, peer, embedded_jobs
):
    link = await request_partnership(staff_a, org_a.id, {"partner_address": "peer@peer.example", "message": "Salut"})
    await embedded_jobs.settle()

    mirror = await Organization.get(id=link.partner_id)
    assert (mirror.is_local, mirror.remote_uri) == (False, peer.uri)
    assert link.status == PartnershipStatus.REQUESTED
    [sent] = peer.posted()
    assert [url for url, _, _ in peer.received] == [peer.inbox]
    assert {k: sent[k] for k in ("type", "actor", "object", "content")} == {
        "type": "Follow",
        "actor": A,
        "object": peer.uri,
        "content": "Salut",
    }

    await deliver(client, peer, peer.activity("Accept", sent))
    await embedded_jobs.settle()

    await link.refresh_from_db()
    assert link.status == PartnershipStatus.ACCEPTED
    assert await Job.filter(name="catch_up_partner").count() == 1


async def test_an_accept_that_names_our_follow_by_id_only_is_understood(client, org_a, staff_a, peer, embedded_jobs):
    link = await request_partnership(staff_a, org_a.id, {"partner_address": peer.uri})
    await embedded_jobs.settle()

    await deliver(client, peer, peer.activity("Accept", peer.posted()[0]["id"]))
    await embedded_jobs.settle()

    await link.refresh_from_db()
    assert link.status == PartnershipStatus.ACCEPTED


async def test_an_address_nobody_answers_is_a_clear_error_and_changes_nothing(org_a, staff_a, peer):
    for address in ("nobody@nowhere.example", "https://nowhere.example/ap/o/x", "not an address"):
        with pytest.raises(ValidationFailed) as refused:
            await request_partnership(staff_a, org_a.id, {"partner_address": address})
        assert refused.value.errors[0].field == "partner_address"
    assert await Partnership.all().count() == 0
    assert await OutboxActivity.all().count() == 0


async def test_a_remote_follow_is_a_request_and_accepting_it_sends_accept_and_follows_back(
    client, org_a, staff_a, peer, embedded_jobs
):
    follow = peer.activity("Follow", A)
    await deliver(client, peer, follow)
    await embedded_jobs.settle()
    link = await Partnership.get()
    assert (link.partner_id, link.status) == (org_a.id, PartnershipStatus.REQUESTED)
    [note] = await Notification.filter(user_id=staff_a.user_id)
    assert (note.kind, note.data) == ("partnership.requested", {"organization": "Peer peer"})

    await respond_partnership(staff_a, link.id, "accept")
    await embedded_jobs.settle()

    # two deliveries, in either order
    accept, follow_back = sorted(peer.posted(), key=lambda a: a["type"])
    assert accept["type"] == "Accept"
    assert accept["object"] == {k: follow[k] for k in ("id", "type", "actor", "object")}
    assert {k: follow_back[k] for k in ("type", "actor", "object")} == {
        "type": "Follow",
        "actor": A,
        "object": peer.uri,
    }
    assert await Job.filter(name="catch_up_partner").count() == 1

    # their Accept of our follow-back changes nothing more
    await deliver(client, peer, peer.activity("Accept", follow_back))
    await embedded_jobs.settle()
    await link.refresh_from_db()
    assert link.status == PartnershipStatus.ACCEPTED


async def test_refusing_a_remote_request_sends_reject(client, org_a, staff_a, peer, embedded_jobs):
    await deliver(client, peer, peer.activity("Follow", A))
    await embedded_jobs.settle()

    await respond_partnership(staff_a, (await Partnership.get()).id, "refuse")
    await embedded_jobs.settle()

    assert [a["type"] for a in peer.posted()] == ["Reject"]
    assert (await Partnership.get()).status == PartnershipStatus.REFUSED


async def test_blocking_sends_block_and_the_inbox_then_refuses_them(client, org_a, staff_a, peer, embedded_jobs):
    await deliver(client, peer, peer.activity("Follow", A))
    await embedded_jobs.settle()

    await respond_partnership(staff_a, (await Partnership.get()).id, "block")
    await embedded_jobs.settle()

    [sent] = peer.posted()
    assert (sent["type"], sent["object"]) == ("Block", peer.uri)
    body = orjson.dumps(peer.activity("Follow", A))
    path = "/ap/o/recyclerie-a/inbox"
    again = await client.post(
        path, content=body, headers=sign_request(peer.key, "POST", f"http://testserver{path}", body)
    )
    assert again.status_code == 403
    assert await InboxMessage.all().count() == 1


async def test_when_both_ask_at_once_their_follow_is_a_yes(client, org_a, staff_a, peer, embedded_jobs):
    link = await request_partnership(staff_a, org_a.id, {"partner_address": "peer@peer.example"})
    await embedded_jobs.settle()

    await deliver(client, peer, peer.activity("Follow", A))
    await embedded_jobs.settle()

    await link.refresh_from_db()
    assert link.status == PartnershipStatus.ACCEPTED
    assert [a["type"] for a in peer.posted()] == ["Follow", "Accept"]


@pytest.mark.parametrize(
    ("activity_type", "status"),
    [("Reject", PartnershipStatus.REFUSED), ("Undo", PartnershipStatus.REFUSED), ("Block", PartnershipStatus.BLOCKED)],
)
async def test_the_partner_ending_it_ends_it_here(client, org_a, staff_a, peer, embedded_jobs, activity_type, status):
    link = await request_partnership(staff_a, org_a.id, {"partner_address": "peer@peer.example"})
    await embedded_jobs.settle()
    our_follow = peer.posted()[0]
    await deliver(client, peer, peer.activity("Accept", our_follow))
    await embedded_jobs.settle()

    await MirrorItem.create(
        uri=f"https://{peer.host}/ap/items/1",
        organization_id=link.partner_id,
        title="Perceuse",
        remote_updated_at=clock.now(),
        received_at=clock.now(),
    )
    await RemoteActor.filter(uri=peer.uri).update(catch_up_next=f"{peer.uri}/outbox?page=true&after=9")

    their_follow = {"id": f"https://{peer.host}/f/1", "type": "Follow", "actor": peer.uri, "object": A}
    obj = {"Reject": our_follow, "Undo": their_follow, "Block": A}[activity_type]
    await deliver(client, peer, peer.activity(activity_type, obj))
    await embedded_jobs.settle()

    await link.refresh_from_db()
    assert link.status == status
    assert await MirrorItem.all().count() == 0  # what they shared is forgotten
    assert (await RemoteActor.get(uri=peer.uri)).catch_up_next == ""


async def test_blocking_a_partner_here_forgets_what_it_shared(client, org_a, staff_a, peer, embedded_jobs):
    link = await request_partnership(staff_a, org_a.id, {"partner_address": "peer@peer.example"})
    await embedded_jobs.settle()
    await deliver(client, peer, peer.activity("Accept", peer.posted()[0]))
    await embedded_jobs.settle()
    await MirrorItem.create(
        uri=f"https://{peer.host}/ap/items/1",
        organization_id=link.partner_id,
        title="Perceuse",
        remote_updated_at=clock.now(),
        received_at=clock.now(),
    )

    await respond_partnership(staff_a, link.id, "block")

    assert await MirrorItem.all().count() == 0


async def test_an_accept_of_someone_elses_follow_is_not_taken(client, org_a, org_b, staff_a, peer, embedded_jobs):
    foreign = {
        "id": "http://127.0.0.1:8000/ap/activities/x",
        "type": "Follow",
        "actor": A,
        "object": "https://z.example/o",
    }
    await remote.fetch_actor(peer.uri)

    await deliver(client, peer, peer.activity("Accept", foreign))
    await embedded_jobs.settle()

    assert (await InboxMessage.get()).status == InboxStatus.IGNORED
    assert await Partnership.all().count() == 0


async def test_graphql_asks_a_remote_partner_by_address(client, org_a, staff_a, peer, login, embedded_jobs):
    await login(client, staff_a)
    query = 'mutation { partnershipRequest(input: {organizationSlug: "recyclerie-a", partnerAddress: "peer@peer.example"}) { partnership { status partner { slug } } errors { code field } } }'

    response = await client.post("/graphql", json={"query": query})

    assert response.json()["data"] == {
        "partnershipRequest": {
            "partnership": {"status": "REQUESTED", "partner": {"slug": "peer-at-peer.example"}},
            "errors": [],
        }
    }
    assert await OutboxActivity.filter(type="Follow").count() == 1


async def test_the_partners_page_asks_by_address_and_answers_requests(
    client, org_a, staff_a, peer, login, embedded_jobs
):
    await login(client, staff_a)
    page = await client.get("/o/recyclerie-a/partners")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]

    sent = await client.post(
        "/o/recyclerie-a/partnerships/new", data={"address": "peer@peer.example", "csrf_token": token}
    )
    refused = await client.post(
        "/o/recyclerie-a/partnerships/new", data={"address": "x@nowhere.example", "csrf_token": token}
    )

    assert sent.status_code == refused.status_code == 303
    link = await Partnership.get()
    assert link.status == PartnershipStatus.REQUESTED
    listing = await client.get("/o/recyclerie-a/partners")
    assert "sur un autre serveur" in listing.text or "on another server" in listing.text

    await embedded_jobs.settle()
    await Partnership.all().delete()
    await deliver(client, peer, peer.activity("Follow", A))
    await embedded_jobs.settle()
    link = await Partnership.get()
    listing = await client.get("/o/recyclerie-a/partners")
    assert f"/o/recyclerie-a/partnerships/{link.id}/accept" in listing.text

    answered = await client.post(f"/o/recyclerie-a/partnerships/{link.id}/accept", data={"csrf_token": token})

    assert answered.status_code == 303
    await link.refresh_from_db()
    assert link.status == PartnershipStatus.ACCEPTED


async def test_another_organizations_staff_cannot_answer_our_request(
    client, org_a, org_b, staff_b, peer, embedded_jobs
):
    await deliver(client, peer, peer.activity("Follow", A))
    await embedded_jobs.settle()
    link = await Partnership.get()

    from fabcom.errors import NotFound

    with pytest.raises(NotFound):
        await respond_partnership(staff_b, link.id, "accept")
    await embedded_jobs.settle()
    assert (await Partnership.get()).status == PartnershipStatus.REQUESTED
    assert peer.posted() == []
    assert config.org_actor_uri("recyclerie-a") == A
