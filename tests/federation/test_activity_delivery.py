"""Delivery: one signed POST job per recipient inbox, retried on 5xx/408/429 and network
errors, dead on other refusals, never duplicated, never to non-partners."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from fabcom.federation import config, remote
from fabcom.federation.delivery import fan_out
from fabcom.federation.keys import organization_key
from fabcom.federation.models import Audience, RemoteActor
from fabcom.federation.publish import publish
from fabcom.federation.signatures import PublicKey, verify
from fabcom.jobs.models import Job, JobStatus
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization
from fabcom.testing.federation import Peer


def activity(n: int = 1) -> dict:
    return {
        "id": f"{config.base_url()}/ap/activities/{n}",
        "type": "Update",
        "actor": config.org_actor_uri("recyclerie-a"),
        "object": {"id": f"{config.base_url()}/items/{n}", "type": "Note"},
    }


async def link(org, peer: Peer, status=PartnershipStatus.ACCEPTED) -> Organization:
    mirror = await Organization.get(id=(await remote.fetch_actor(peer.uri)).organization_id)
    await Partnership.create(organization=mirror, partner=org, status=status)
    return mirror


async def send(org, audience=Audience.PARTNERS, recipients=(), n: int = 1):
    async with in_transaction():
        return await publish(org.id, activity(n), audience=audience, recipients=recipients)


async def test_a_partner_only_activity_goes_once_per_server_to_accepted_partners_only(org_a, network, embedded_jobs):
    first = network.add(Peer(host="b.example", slug="one"))
    second = network.add(Peer(host="b.example", slug="two", key_number=2))
    asked_only = network.add(Peer(host="c.example", slug="asked", key_number=3))
    blocked = network.add(Peer(host="d.example", slug="blocked", key_number=4))
    await link(org_a, first)
    await link(org_a, second)
    await link(org_a, asked_only, PartnershipStatus.REQUESTED)
    await link(org_a, blocked, PartnershipStatus.BLOCKED)

    await send(org_a)
    await embedded_jobs.settle()

    assert [url for url, _, _ in first.received] == ["https://b.example/ap/inbox"]  # the shared inbox, once
    assert second.received == []
    assert asked_only.received == []
    assert blocked.received == []
    assert first.posted() == [activity(1)]
    assert await Job.filter(name="deliver_activity").count() == 1


async def test_a_delivery_is_signed_by_the_organization_and_verifies(org_a, peer, embedded_jobs):
    await link(org_a, peer)
    key = await organization_key(org_a.id, org_a.slug)

    await send(org_a)
    await embedded_jobs.settle()

    _url, headers, body = peer.received[0]

    async def our_key(key_id: str, refresh: bool) -> PublicKey:
        return PublicKey(key_id, config.org_actor_uri("recyclerie-a"), key.public_key_pem)

    verified = await verify("POST", "/ap/inbox", headers, body, our_key)
    assert verified.actor_uri == config.org_actor_uri("recyclerie-a")
    assert headers["content-type"] == "application/activity+json"
    assert 'headers="(request-target) host date digest content-type"' in headers["signature"]


async def test_a_direct_activity_goes_to_its_recipients_personal_inbox_partner_or_not(org_a, peer, embedded_jobs):
    await send(org_a, Audience.DIRECT, [peer.uri])
    await embedded_jobs.settle()

    assert [url for url, _, _ in peer.received] == [peer.inbox]


async def test_503_then_429_then_202_is_delivered_on_the_third_try(org_a, peer, embedded_jobs):
    await link(org_a, peer)
    peer.inbox_statuses = [503, 429]

    await send(org_a)
    await embedded_jobs.settle()

    job = await Job.get(name="deliver_activity")
    assert (job.status, job.attempts) == (JobStatus.DONE, 3)
    assert len(peer.received) == 3


async def test_a_refusal_other_than_408_or_429_is_dead_at_once(org_a, peer, embedded_jobs):
    await link(org_a, peer)
    peer.inbox_statuses = [403]

    await send(org_a)
    await embedded_jobs.settle()

    job = await Job.get(name="deliver_activity")
    assert (job.status, job.attempts, job.last_error) == (JobStatus.DEAD, 1, "HTTPStatusFailure: HTTP 403")


async def test_an_unreachable_partner_is_retried_then_dead_after_the_retry_window(org_a, peer, network, embedded_jobs):
    await link(org_a, peer)
    network.peers.remove(peer)  # the server is down

    await send(org_a)
    await embedded_jobs.settle()

    job = await Job.get(name="deliver_activity")
    assert job.status == JobStatus.DEAD
    assert job.attempts > 5
    assert (job.finished_at - job.first_failed_at).total_seconds() >= 48 * 3600


async def test_fanning_out_again_queues_no_second_delivery(org_a, peer, embedded_jobs):
    await link(org_a, peer)
    row = await send(org_a)

    assert await fan_out(row.id) == 1
    assert await fan_out(row.id) == 1
    await embedded_jobs.settle()

    assert await Job.filter(name="deliver_activity").count() == 1
    assert len(peer.received) == 1


async def test_a_partnership_ended_before_the_delivery_sends_nothing(org_a, peer, embedded_jobs):
    mirror = await link(org_a, peer)
    row = await send(org_a)
    await fan_out(row.id)
    await Partnership.filter(organization=mirror).update(status=PartnershipStatus.BLOCKED)

    await embedded_jobs.settle()

    assert peer.received == []


async def test_no_delivery_to_a_private_address_unless_the_admin_allows_it(
    org_a, peer, fed_settings, embedded_jobs, monkeypatch
):
    await link(org_a, peer)
    await RemoteActor.filter(uri=peer.uri).update(shared_inbox="http://127.0.0.1:9/inbox")
    monkeypatch.setattr(fed_settings, "federation_allow_private_addresses", False)

    await send(org_a)
    await embedded_jobs.settle()

    job = await Job.get(name="deliver_activity")
    assert job.status == JobStatus.DEAD
    assert "private or local address" in job.last_error
