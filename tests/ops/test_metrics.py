"""``/metrics``: readable from loopback or with the token, refused otherwise; requests
counted by route template, the outbox's depth by status, federation deliveries."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fabcom import clock
from fabcom.app import create_app
from fabcom.jobs.models import Job, JobStatus

OUTSIDE = ("203.0.113.7", 51000)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def client_for(app, address=("127.0.0.1", 40000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=address)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_a_loopback_client_reads_the_metrics_without_a_token(app):
    async with client_for(app) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"fabcom_http_requests", "fabcom_http_request_duration_seconds", "fabcom_jobs"} <= names
    assert {"fabcom_jobs_due", "fabcom_federation_deliveries", "process_resident_memory_bytes"} <= names


@pytest.mark.parametrize("address", [OUTSIDE, ("10.0.0.5", 1), ("::ffff:203.0.113.7", 1), ("unknown", 0)])
async def test_without_a_token_any_other_client_is_refused(app, address):
    async with client_for(app, address) as http:
        response = await http.get("/metrics")
    assert response.status_code == 403
    assert "fabcom_" not in response.text


async def test_with_a_token_only_the_bearer_of_it_reads_them_even_from_loopback(db):
    app = create_app(db.model_copy(update={"metrics_token": "s3cret-metrics-token"}))
    async with client_for(app) as local, client_for(app, OUTSIDE) as outside:
        assert (await local.get("/metrics")).status_code == 401
        wrong = await outside.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-tokeX"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert (
            await outside.get("/metrics", headers={"Authorization": "Basic s3cret-metrics-token"})
        ).status_code == 401
        right = await outside.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert right.status_code == 200
    assert "fabcom_jobs" in right.text


async def test_requests_are_counted_by_route_template_method_and_status(app, org_a, org_b, staff_a, login):
    async with client_for(app) as http:
        before = samples((await http.get("/metrics")).text)
        await login(http, staff_a)
        assert (await http.get(f"/o/{org_a.slug}/items")).status_code == 200
        assert (await http.get(f"/o/{org_b.slug}/items")).status_code == 404
        assert (await http.get(f"/o/{org_a.slug}/items")).status_code == 200
        assert (await http.get("/no/such/page")).status_code == 404
        after = samples((await http.get("/metrics")).text)

    def delta(route: str, status: str) -> float:
        key = ("fabcom_http_requests_total", (("method", "GET"), ("route", route), ("status", status)))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("/o/{slug}/items", "200") == 2
    assert delta("/o/{slug}/items", "404") == 1
    assert delta("unmatched", "404") == 1
    count = ("fabcom_http_request_duration_seconds_count", (("method", "GET"), ("route", "/o/{slug}/items")))
    assert after[count] - before.get(count, 0) == 3
    assert not any(org_a.slug in str(labels) for _, labels in after)  # templates, never raw paths


async def test_the_queue_depth_failed_dead_jobs_and_deliveries_come_from_the_database(app):
    now = clock.now()
    rows = [
        ("send_notification_email", JobStatus.PENDING, now - dt.timedelta(seconds=5)),
        ("send_notification_email", JobStatus.PENDING, now + dt.timedelta(hours=1)),
        ("deliver_webhook", JobStatus.FAILED, now - dt.timedelta(seconds=5)),
        ("deliver_webhook", JobStatus.DEAD, now),
        ("deliver_activity", JobStatus.DEAD, now),
        ("deliver_activity", JobStatus.DONE, now),
        ("deliver_activity", JobStatus.DONE, now),
        ("deliver_activity", JobStatus.RUNNING, now),
    ]
    for i, (name, status, due) in enumerate(rows):
        await Job.create(name=name, key=f"k{i}", status=status, next_try_at=due)
    async with client_for(app) as http:
        found = samples((await http.get("/metrics")).text)
    jobs = {labels[0][1]: value for (name, labels), value in found.items() if name == "fabcom_jobs"}
    assert jobs == {"pending": 2, "running": 1, "done": 2, "failed": 1, "dead": 2}
    assert found[("fabcom_jobs_due", ())] == 2
    deliveries = {
        labels[0][1]: value for (name, labels), value in found.items() if name == "fabcom_federation_deliveries"
    }
    assert deliveries == {"pending": 0, "running": 1, "done": 2, "failed": 0, "dead": 1}
