"""The outbox: a job exists if and only if the change that caused it commits."""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise.transactions import in_transaction

from fabcom.errors import ValidationFailed
from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.outbox import enqueue, list_jobs, retry_job
from fabcom.jobs.registry import JobRegistry, RegistryError
from fabcom.members.models import Role
from fabcom.permissions import system_principal
from fabcom.webhooks.models import WebhookDelivery, WebhookEndpoint


class Boom(Exception):
    pass


async def test_a_rolled_back_change_leaves_no_job(db):
    async def change_then_fail() -> None:
        async with in_transaction():
            await enqueue("ping_worker")
            raise Boom

    with pytest.raises(Boom):
        await change_then_fail()

    assert await Job.all().count() == 0


async def test_a_committed_change_leaves_exactly_one_job(db):
    async with in_transaction():
        job = await enqueue("ping_worker")

    assert await Job.all().values_list("id", "name", "status", "attempts") == [
        (job.id, "ping_worker", JobStatus.PENDING, 0)
    ]


async def test_a_service_writes_its_webhook_job_in_its_own_transaction(org_a, make_member):
    # given an endpoint subscribed to new items
    admin = await make_member(org_a, role=Role.ADMIN)
    await WebhookEndpoint.create(
        organization=org_a, url="https://partner.example/hooks", events=["item.created"], secret="whsec_AAAA"
    )

    # when an item is created, then refused bad input
    item = await create_item(admin, org_a.id, {"title": "Chaise", "initial_quantity": "2"})
    with pytest.raises(ValidationFailed):
        await create_item(admin, org_a.id, {"title": "", "initial_quantity": "2"})

    # then exactly one delivery and one job exist, for the created item
    delivery = await WebhookDelivery.get()
    assert delivery.event == "item.created"
    assert delivery.payload["data"]["id"] == item.id
    assert await Job.all().values_list("name", "args") == [("deliver_webhook", {"delivery_id": delivery.id})]
    assert await Item.all().count() == 1


async def test_enqueueing_the_same_key_twice_keeps_one_job(db):
    first = await enqueue("ping_worker", key="ping:1")
    second = await enqueue("ping_worker", key="ping:1")

    assert second.id == first.id
    assert await Job.all().count() == 1


async def test_an_unknown_job_name_fails_at_once_and_writes_nothing(db):
    with pytest.raises(RegistryError, match="unknown job 'send_pigeon'"):
        await enqueue("send_pigeon", user_id=1)

    assert await Job.all().count() == 0


async def test_job_arguments_must_be_plain_values(db):
    with pytest.raises(TypeError):
        await enqueue("ping_worker", when=dt.datetime.now(dt.UTC))

    assert await Job.all().count() == 0


def test_the_registry_refuses_bad_names_clashes_and_late_declarations():
    registry = JobRegistry()

    async def send_email(ctx: object) -> None: ...

    async def other(ctx: object) -> None: ...

    registry.job()(send_email)
    with pytest.raises(RegistryError, match="verb_noun"):
        registry.job("SendEmail")(other)
    with pytest.raises(RegistryError, match="declared twice"):
        registry.job("send_email")(other)
    registry.cron("remind_nobody", hour=1)
    with pytest.raises(RegistryError, match="unknown job 'remind_nobody'"):
        registry.freeze()
    registry.crons.clear()
    registry.freeze()
    with pytest.raises(RegistryError, match="frozen"):
        registry.job("send_other")(other)
    assert list(registry.jobs) == ["send_email"]


async def test_only_instance_admins_list_and_retry_jobs(org_a, make_member):
    job = await enqueue("ping_worker")
    await Job.filter(id=job.id).update(status=JobStatus.DEAD, last_error="HTTP 404")
    owner = await make_member(org_a, role=Role.OWNER)

    with pytest.raises(Exception, match="not allowed"):
        await list_jobs(owner, JobStatus.DEAD)
    with pytest.raises(Exception, match="not allowed"):
        await retry_job(owner, job.id)

    assert (await Job.get(id=job.id)).status == JobStatus.DEAD
    assert [j.id for j in await list_jobs(system_principal(), JobStatus.DEAD)] == [job.id]


async def test_retrying_a_done_job_is_refused_and_changes_nothing(db):
    job = await enqueue("ping_worker")
    await Job.filter(id=job.id).update(status=JobStatus.DONE)

    with pytest.raises(ValidationFailed) as refused:
        await retry_job(system_principal(), job.id)

    assert refused.value.text("fr") == "Seule une tâche morte ou en échec peut être relancée."
    assert (await Job.get(id=job.id)).status == JobStatus.DONE
