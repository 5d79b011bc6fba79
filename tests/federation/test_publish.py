"""Publishing: an activity exists in the outbox, with its delivery job, if and only if
the change that caused it commits."""

from __future__ import annotations

import pytest
from tortoise.transactions import in_transaction

from fabcom.federation.models import Audience, OutboxActivity
from fabcom.federation.publish import publish
from fabcom.jobs.models import Job


class Boom(Exception):
    pass


def note(n: int) -> dict:
    return {
        "id": f"https://a.example/ap/activities/{n}",
        "type": "Create",
        "object": {"id": f"https://a.example/i/{n}"},
    }


async def test_a_rolled_back_change_publishes_nothing(org_a):
    async def change_then_fail() -> None:
        async with in_transaction():
            await publish(org_a.id, note(1), audience=Audience.PARTNERS)
            raise Boom

    with pytest.raises(Boom):
        await change_then_fail()

    assert await OutboxActivity.all().count() == 0
    assert await Job.filter(name="fan_out_activity").count() == 0


async def test_a_committed_activity_is_in_the_outbox_in_order_with_one_delivery_job(org_a):
    async with in_transaction():
        first = await publish(org_a.id, note(1), audience=Audience.PUBLIC)
        second = await publish(org_a.id, note(2), audience=Audience.DIRECT, recipients=["https://b.example/ap/o/b"])

    rows = await OutboxActivity.filter(organization_id=org_a.id).order_by("id")
    assert [r.id for r in rows] == [first.id, second.id]
    assert rows[0].object_uri == "https://a.example/i/1"
    assert rows[1].recipients == ["https://b.example/ap/o/b"]
    jobs = await Job.filter(name="fan_out_activity").order_by("id")
    assert [j.args["activity_pk"] for j in jobs] == [first.id, second.id]
