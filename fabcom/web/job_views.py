"""Instance admins: the jobs that failed (or wait), one job's detail, and retrying it.
Anyone else gets a 404: the page's existence is not advertised."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.errors import NotFound, ServiceError
from fabcom.i18n import N_
from fabcom.jobs.models import Job, JobStatus
from fabcom.jobs.outbox import list_jobs, retry_job
from fabcom.web.pages import page
from fabcom.web.templating import _, flash, render

PAGE_SIZE = 50
STATUSES = (JobStatus.DEAD, JobStatus.FAILED, JobStatus.PENDING, JobStatus.RUNNING, JobStatus.DONE)


def _admin_only(request: Request) -> None:
    if not request.state.principal.is_instance_admin:
        raise NotFound("job")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@page()
async def job_list(request: Request) -> Response:
    _admin_only(request)
    raw = request.query_params.get("status", JobStatus.DEAD.value)
    status = JobStatus(raw) if raw in {s.value for s in STATUSES} else JobStatus.DEAD
    before = _int(request.query_params.get("before"))
    jobs = await list_jobs(request.state.principal, status, limit=PAGE_SIZE + 1, before_id=before)
    has_more = len(jobs) > PAGE_SIZE
    jobs = jobs[:PAGE_SIZE]
    counts = {s.value: await Job.filter(status=s).count() for s in STATUSES if s != JobStatus.DONE}
    return render(
        request,
        "job_list.html",
        {
            "jobs": jobs,
            "status": status.value,
            "statuses": [s.value for s in STATUSES],
            "counts": counts,
            "next_before": jobs[-1].id if has_more and jobs else None,
            "first_page": before is None,
        },
    )


@page()
async def job_detail(request: Request) -> Response:
    _admin_only(request)
    job = await Job.get_or_none(id=request.path_params["job_id"])
    if job is None:
        raise NotFound("job")
    return render(
        request, "job_detail.html", {"job": job, "retryable": job.status in (JobStatus.DEAD, JobStatus.FAILED)}
    )


@page()
async def job_retry(request: Request) -> Response:
    _admin_only(request)
    job_id = request.path_params["job_id"]
    try:
        await retry_job(request.state.principal, job_id)
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
    else:
        message, level = _(request, N_("The job will run again shortly.")), "success"
    response = RedirectResponse(request.url_for("web:job_detail", job_id=job_id).path, status_code=303)
    flash(request, response, message, level)
    return response
