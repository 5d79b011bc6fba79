"""The failed-jobs page for instance admins: jobs listed by status with keyset pages,
a job's detail (arguments, last error, attempts), retry; everyone else gets a 404."""

from __future__ import annotations

import datetime as dt

from fabcom import clock
from fabcom.auth.models import User
from fabcom.jobs.models import Job, JobStatus
from fabcom.members.models import Role
from fabcom.permissions import load_principal


async def _job(name: str, status: JobStatus, n: int, error: str = "") -> Job:
    return await Job.create(
        name=name,
        args={"delivery_id": n},
        key=f"{name}:{n}",
        status=status,
        attempts=3 if status != JobStatus.PENDING else 0,
        next_try_at=clock.now() + dt.timedelta(minutes=5),
        last_error=error,
    )


async def _instance_admin(make_member, org):
    member = await make_member(org, role=Role.OWNER)
    await User.filter(id=member.user_id).update(is_instance_admin=True)
    return await load_principal(member.user_id)


async def test_an_instance_admin_lists_dead_jobs_reads_one_and_retries_it(make_client, make_member, org_a):
    admin = await make_client(await _instance_admin(make_member, org_a))
    dead = await _job("deliver_webhook", JobStatus.DEAD, 1, "HTTPStatusFailure: HTTP 404: <b>gone</b>")
    await _job("send_invitation", JobStatus.FAILED, 2, "ConnectError: refused")
    await _job("ping_worker", JobStatus.DONE, 3)

    listed = await admin.get("/admin/jobs")
    assert listed.status_code == 200
    assert "deliver_webhook" in listed.text
    assert "send_invitation" not in listed.text  # the default tab is the dead jobs
    assert "Abandonnées (1)" in listed.text
    assert "À réessayer (1)" in listed.text
    assert "&lt;b&gt;gone&lt;/b&gt;" in listed.text  # errors are shown inert
    failed = await admin.get("/admin/jobs?status=failed")
    assert "send_invitation" in failed.text
    assert "deliver_webhook" not in failed.text

    detail = await admin.get(f"/admin/jobs/{dead.id}")
    assert detail.status_code == 200
    assert '"delivery_id": 1' in detail.text
    assert "HTTPStatusFailure: HTTP 404" in detail.text
    assert "Réessayer maintenant" in detail.text

    retried = await admin.post_form(f"/admin/jobs/{dead.id}/retry")
    assert retried.status_code == 303
    job = await Job.get(id=dead.id)
    assert job.status == JobStatus.PENDING
    again = await admin.post_form(f"/admin/jobs/{dead.id}/retry")  # a pending job cannot be retried
    assert again.status_code == 303
    page = await admin.get(f"/admin/jobs/{dead.id}")
    assert "Seule une tâche morte ou en échec peut être relancée." in page.text
    assert "Réessayer maintenant" not in page.text


async def test_pages_go_back_in_time_by_keyset(make_client, make_member, org_a):
    admin = await make_client(await _instance_admin(make_member, org_a))
    jobs = [await _job("deliver_webhook", JobStatus.DEAD, n) for n in range(55)]
    first = await admin.get("/admin/jobs?status=dead")
    assert first.text.count('<tr>\n    <td><a href="/admin/jobs/') == 50
    assert f'/admin/jobs/{jobs[-1].id}"' in first.text
    assert f'before={jobs[5].id}"' in first.text
    second = await admin.get(f"/admin/jobs?status=dead&before={jobs[5].id}")
    assert second.text.count('<tr>\n    <td><a href="/admin/jobs/') == 5
    assert f'/admin/jobs/{jobs[0].id}"' in second.text
    assert 'rel="next"' not in second.text
    odd = await admin.get("/admin/jobs?status=nonsense&before=x")
    assert odd.status_code == 200


async def test_anyone_but_an_instance_admin_gets_a_404(make_client, make_member, org_a):
    dead = await _job("deliver_webhook", JobStatus.DEAD, 1)
    owner = await make_client(await make_member(org_a, role=Role.OWNER))
    anonymous = await make_client()
    for url in ("/admin/jobs", f"/admin/jobs/{dead.id}"):
        assert (await owner.get(url)).status_code == 404
    assert (await owner.post_form(f"/admin/jobs/{dead.id}/retry")).status_code == 404
    assert (await anonymous.get("/admin/jobs")).status_code == 303  # to the login page
    assert (await anonymous.post_form(f"/admin/jobs/{dead.id}/retry")).status_code in (303, 403)
    assert (await Job.get(id=dead.id)).status == JobStatus.DEAD
