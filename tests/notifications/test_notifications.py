"""Notifications: in the app for everyone concerned, by e-mail or digest for those who
chose it, in each person's language, and reminders that come once."""

from __future__ import annotations

import datetime as dt

import pytest

from fabcom import clock
from fabcom.auth.models import User
from fabcom.errors import ValidationFailed
from fabcom.inventory.services import create_item
from fabcom.jobs.models import Job, JobStatus
from fabcom.members.models import Membership, Role
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.network.services import create_exchange_request, respond_exchange_request
from fabcom.notifications.models import Notification
from fabcom.notifications.preference_models import Channel, NotificationPreference
from fabcom.notifications.services import notify, set_preference
from fabcom.projects.models import Project, Task, TaskStatus
from fabcom.testing.jobs import EmbeddedJobs, settings_for_tests
from fabcom.testing.smtp import SmtpSink


@pytest.fixture
def sink():
    with SmtpSink() as smtp:
        yield smtp


@pytest.fixture
def mail_jobs(db, fake_clock, sink):
    settings = settings_for_tests(db, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_tls="none")
    return EmbeddedJobs(settings, fake_clock)


async def person(make_member, org, role, locale="fr", channel=None):
    principal = await make_member(org, role=role)
    await User.filter(id=principal.user_id).update(locale=locale)
    if channel is not None:
        await set_preference(principal, {"channel": channel})
    return principal


@pytest.fixture
async def partners(org_a, org_b):
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)


async def shared_bike(actor, org):
    data = {"title": "Vélo", "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "1"}
    return await create_item(actor, org.id, data)


async def test_an_exchange_request_notifies_the_owners_staff_each_by_their_channel(
    org_a, org_b, partners, make_member, mail_jobs, sink
):
    # given the owner's team: two by e-mail (French, English), one in the app, a volunteer
    marie = await person(make_member, org_a, Role.ADMIN, "fr", "email")
    john = await person(make_member, org_a, Role.STAFF, "en", "email")
    lucas = await person(make_member, org_a, Role.STAFF, "fr")
    await person(make_member, org_a, Role.VOLUNTEER, "fr", "email")
    item = await shared_bike(marie, org_a)
    asker = await make_member(org_b, role=Role.STAFF)

    # when a partner asks for the bike
    request = await create_exchange_request(asker, org_b.id, {"item_id": item.id, "kind": "receive"})
    await mail_jobs.settle()

    # then the three staff see it in the app, and the two who chose e-mail get one each
    notified = (
        await Notification.filter(kind="exchange_request.created").order_by("user_id").values_list("user_id", "data")
    )
    expected_data = {
        "exchange_request_id": request.id,
        "item": "Vélo",
        "organization": "Fablab B",
        "quantity": "1",
        "status": "pending",
    }
    assert notified == [(marie.user_id, expected_data), (john.user_id, expected_data), (lucas.user_id, expected_data)]
    by_recipient = {m["To"]: m for m in sink.messages}
    marie_email = (await User.get(id=marie.user_id)).email
    john_email = (await User.get(id=john.user_id)).email
    assert sorted(by_recipient) == sorted([marie_email, john_email])
    assert by_recipient[marie_email]["Subject"] == "Nouvelle demande pour « Vélo »"
    assert "Fablab B demande « Vélo » (quantité 1)." in by_recipient[marie_email].get_content()
    assert by_recipient[john_email]["Subject"] == "New request for “Vélo”"
    assert by_recipient[john_email].get_content().startswith("Hello ")
    assert by_recipient[john_email]["X-Fabcom-Key"].startswith("notification-email:")
    # (the shared bike's federation delivery job is tested with federation, tests/federation)
    assert await Job.exclude(status=JobStatus.DONE).exclude(name="fan_out_activity").count() == 0


async def test_a_refused_request_notifies_nobody_and_queues_nothing(org_a, org_b, partners, make_member):
    marie = await person(make_member, org_a, Role.ADMIN, "fr", "email")
    item = await shared_bike(marie, org_a)
    asker = await make_member(org_b, role=Role.STAFF)

    with pytest.raises(ValidationFailed):
        await create_exchange_request(asker, org_b.id, {"item_id": item.id, "kind": "receive", "quantity": "5"})

    assert await Notification.all().count() == 0
    assert await Job.filter(name="send_notification_email").count() == 0


async def test_accepting_a_request_tells_the_requesters_staff(org_a, org_b, partners, make_member):
    marie = await person(make_member, org_a, Role.ADMIN)
    item = await shared_bike(marie, org_a)
    asker = await make_member(org_b, role=Role.STAFF)
    request = await create_exchange_request(asker, org_b.id, {"item_id": item.id, "kind": "receive"})

    await respond_exchange_request(marie, request.id, "accept")

    changed = await Notification.filter(kind="exchange_request.changed").values_list("user_id", "data")
    assert [(user_id, data["status"]) for user_id, data in changed] == [(asker.user_id, "accepted")]


async def test_the_daily_digest_sums_up_once(org_a, make_member, mail_jobs, sink):
    paul = await person(make_member, org_a, Role.MEMBER, "fr", "digest")
    await notify([paul.user_id], "membership.expiring", {"organization": "Recyclerie A", "date": "2026-12-01"})
    await notify([paul.user_id], "task.due", {"task": "Trier", "project": "Atelier", "date": "2026-12-02"})
    assert await Job.filter(name="send_notification_email").count() == 0

    from fabcom.jobs.outbox import enqueue

    await enqueue("send_notification_digests")
    await mail_jobs.settle()
    await enqueue("send_notification_digests")
    await mail_jobs.settle()

    (digest,) = sink.messages
    assert digest["Subject"] == "Votre résumé fabcom : 2 nouvelle(s) notification(s)"
    body = digest.get_content()
    assert "- Votre adhésion à Recyclerie A se termine le 2026-12-01. Renouvelez-la pour rester adhérent·e." in body
    assert "- La tâche « Trier » du projet Atelier est à rendre le 2026-12-02." in body


async def test_membership_reminders_come_once_per_date(org_a, make_member, embedded_jobs):
    paul = await make_member(org_a, role=Role.MEMBER)
    ends = clock.today() + dt.timedelta(days=14)
    membership = await Membership.get(user_id=paul.user_id)
    await Membership.filter(id=membership.id).update(valid_until=ends)

    from fabcom.jobs.outbox import enqueue

    await enqueue("remind_memberships")
    await enqueue("remind_memberships")
    await embedded_jobs.settle()

    assert await Notification.filter(kind="membership.expiring").values_list("user_id", "data") == [
        (
            paul.user_id,
            {"membership_id": membership.id, "organization": "Recyclerie A", "date": ends.isoformat()},
        )
    ]


async def test_task_reminders_go_to_assignees_of_unfinished_tasks_due_tomorrow(org_a, make_member, embedded_jobs):
    lea = await make_member(org_a, role=Role.VOLUNTEER)
    project = await Project.create(lead_organization=org_a, title="Atelier vélo")
    tomorrow = clock.today() + dt.timedelta(days=1)
    due = await Task.create(project=project, title="Trier les pièces", assignee_id=lea.user_id, due_on=tomorrow)
    await Task.create(project=project, title="Fini", assignee_id=lea.user_id, due_on=tomorrow, status=TaskStatus.DONE)
    await Task.create(project=project, title="Plus tard", assignee_id=lea.user_id, due_on=tomorrow + dt.timedelta(1))

    from fabcom.jobs.outbox import enqueue

    await enqueue("remind_tasks")
    await embedded_jobs.settle()

    assert await Notification.filter(kind="task.due").values_list("user_id", "data") == [
        (
            lea.user_id,
            {"task_id": due.id, "task": "Trier les pièces", "project": "Atelier vélo", "date": tomorrow.isoformat()},
        )
    ]


async def test_a_bad_channel_is_refused_and_the_preference_is_unchanged(org_a, make_member):
    paul = await person(make_member, org_a, Role.MEMBER, "fr", "digest")

    with pytest.raises(ValidationFailed) as refused:
        await set_preference(paul, {"channel": "pigeon"})

    assert refused.value.errors[0].field == "channel"
    assert (await NotificationPreference.get(user_id=paul.user_id)).channel == Channel.DIGEST


async def test_a_mailbox_that_does_not_exist_is_dead_at_once_and_a_busy_server_is_retried(
    org_a, make_member, mail_jobs, sink
):
    # given two people choosing e-mail: one address refused for good, one server busy once
    gone = await person(make_member, org_a, Role.STAFF, "fr", "email")
    busy = await person(make_member, org_a, Role.STAFF, "en", "email")
    gone_email = (await User.get(id=gone.user_id)).email
    busy_email = (await User.get(id=busy.user_id)).email
    sink.refuse(gone_email, "550 No such user")
    sink.refuse(busy_email, "451 Try again later")
    await notify([gone.user_id, busy.user_id], "membership.expiring", {"organization": "A", "date": "2026-12-01"})

    # when the e-mails are tried once
    await mail_jobs.runner.run_until_idle()

    # then the refused one is dead, the busy one waits for its next try
    jobs_by_user = {
        (await Notification.get(id=args["notification_id"])).user_id: status
        for args, status in await Job.filter(name="send_notification_email").values_list("args", "status")
    }
    assert jobs_by_user == {gone.user_id: JobStatus.DEAD, busy.user_id: JobStatus.FAILED}

    # and once the server accepts again, the busy one is delivered, once
    sink.accept(busy_email)
    await mail_jobs.settle()
    assert [m["To"] for m in sink.messages] == [busy_email]
