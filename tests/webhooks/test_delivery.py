"""Webhook deliveries through both runners: retried when the partner is down, dead when
it refuses, signed, and acted upon once however often they are sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from fabcom.inventory.services import create_item, update_item
from fabcom.jobs.models import Job, JobStatus
from fabcom.members.models import Role
from fabcom.testing.receiver import WebhookReceiver
from fabcom.webhooks.models import WebhookDelivery
from fabcom.webhooks.services import create_endpoint


@pytest.fixture
async def admin_a(org_a, make_member):
    return await make_member(org_a, role=Role.ADMIN)


async def subscribe(admin, org, url, events=("item.created",)):
    return await create_endpoint(admin, org.id, {"url": url, "events": list(events)}, allow_private=True)


async def test_a_target_answering_503_five_times_then_200_gets_it_once(jobs, org_a, admin_a):
    async with WebhookReceiver(statuses=[503] * 5) as receiver:
        await subscribe(admin_a, org_a, receiver.url)
        item = await create_item(admin_a, org_a.id, {"title": "Perceuse"})

        await jobs.settle()

        job = await Job.get(name="deliver_webhook")
        delivery = await WebhookDelivery.get()
        assert (job.status, job.attempts, job.last_error) == (JobStatus.DONE, 6, "")
        assert (delivery.attempts, delivery.last_status_code) == (6, 200)
        assert delivery.delivered_at is not None
        assert [r.status for r in receiver.requests] == [503, 503, 503, 503, 503, 200]
        assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}
        assert receiver.effects == [delivery.message_id]
        assert json.loads(receiver.requests[-1].body)["data"]["id"] == item.id


async def test_a_target_answering_404_is_dead_after_one_try(jobs, org_a, admin_a):
    async with WebhookReceiver(default=404) as receiver:
        await subscribe(admin_a, org_a, receiver.url)
        await create_item(admin_a, org_a.id, {"title": "Perceuse"})

        await jobs.settle()

        job = await Job.get(name="deliver_webhook")
        assert (job.status, job.attempts, job.last_error) == (JobStatus.DEAD, 1, "HTTPStatusFailure: HTTP 404: ok")
        assert len(receiver.requests) == 1
        assert (await WebhookDelivery.get()).delivered_at is None


async def test_a_target_down_for_a_while_gets_the_event_once_it_is_back(jobs, org_a, admin_a):
    # given a partner whose server is down when the event happens
    async with WebhookReceiver() as receiver:
        port = receiver.port
    await subscribe(admin_a, org_a, f"http://127.0.0.1:{port}/hooks")
    await create_item(admin_a, org_a.id, {"title": "Perceuse"})

    # when the delivery has failed three times
    async def failed_three_times() -> bool:
        job = await Job.get(name="deliver_webhook")
        return job.status == JobStatus.FAILED and job.attempts >= 3

    await jobs.wait_for(failed_three_times)
    job = await Job.get(name="deliver_webhook")
    assert job.last_error.startswith("ConnectError")

    # then it is delivered once the partner is back
    async with WebhookReceiver(port=port) as receiver:
        await jobs.settle()
        job = await Job.get(name="deliver_webhook")
        assert job.status == JobStatus.DONE
        assert job.attempts >= 4
        assert [r.status for r in receiver.requests] == [200]


async def test_the_receiver_verifies_the_signature_with_the_shared_secret(jobs, org_a, admin_a):
    async with WebhookReceiver() as receiver:
        endpoint = await subscribe(admin_a, org_a, receiver.url, events=["item.updated"])
        item = await create_item(admin_a, org_a.id, {"title": "Scie"})
        await update_item(admin_a, item.id, {"title": "Scie sauteuse"})

        await jobs.settle()

        (received,) = receiver.requests
        verified = Webhook(endpoint.secret).verify(received.body, received.headers)
        assert verified["type"] == "item.updated"
        assert verified["data"]["title"] == "Scie sauteuse"
        with pytest.raises(WebhookVerificationError):
            Webhook(endpoint.secret).verify(received.body.replace(b"sauteuse", b"circulaire"), received.headers)


async def test_a_repeated_delivery_has_one_effect_at_the_receiver(jobs, org_a, admin_a):
    # given a delivery that already reached the receiver once (its answer was lost)
    async with WebhookReceiver() as receiver:
        await subscribe(admin_a, org_a, receiver.url)
        await create_item(admin_a, org_a.id, {"title": "Scie"})
        await jobs.settle()
        job = await Job.get(name="deliver_webhook")
        await WebhookDelivery.all().update(delivered_at=None)

        # when the job is retried by an admin
        from fabcom.jobs.outbox import retry_job
        from fabcom.permissions import system_principal

        await Job.filter(id=job.id).update(status=JobStatus.DEAD)
        await retry_job(system_principal(), job.id)
        await jobs.settle()

        # then the receiver saw it twice under the same id and acted once
        assert len(receiver.requests) == 2
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
        assert len(receiver.effects) == 1
        assert (await Job.get(id=job.id)).status == JobStatus.DONE


async def test_transient_failures_are_retried_for_48_hours_then_dead(embedded_jobs, org_a, admin_a):
    async with WebhookReceiver(default=503) as receiver:
        await subscribe(admin_a, org_a, receiver.url)
        await create_item(admin_a, org_a.id, {"title": "Perceuse"})
        started = embedded_jobs.clock.now()

        await embedded_jobs.settle()

        job = await Job.get(name="deliver_webhook")
        # 30 s doubling to the 6 h cap: 10 tries in the first 8.5 h, then one every 6 h
        assert (job.status, job.attempts) == (JobStatus.DEAD, 18)
        assert embedded_jobs.clock.now() - started == dt.timedelta(seconds=181_890)
        assert len(receiver.requests) == 18
        assert job.last_error == "HTTPStatusFailure: HTTP 503: ok"


async def test_a_runner_that_dies_mid_job_is_replaced_and_the_effect_happens_once(embedded_jobs, org_a, admin_a):
    async with WebhookReceiver(hold_first=True) as receiver:
        await subscribe(admin_a, org_a, receiver.url)
        await create_item(admin_a, org_a.id, {"title": "Perceuse"})

        # when the runner dies while the partner is answering
        running = asyncio.create_task(embedded_jobs.runner.run_due())
        await asyncio.wait_for(receiver.got_first.wait(), 10)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        receiver.release()
        assert (await Job.get(name="deliver_webhook")).status == JobStatus.RUNNING

        # then, once its lease is over, another runner finishes the job
        embedded_jobs.clock.advance(dt.timedelta(seconds=embedded_jobs.runner.settings.job_timeout_s + 31))
        await embedded_jobs.settle()

        job = await Job.get(name="deliver_webhook")
        assert (job.status, job.attempts) == (JobStatus.DONE, 2)
        assert len(receiver.requests) == 2
        assert len(receiver.effects) == 1
