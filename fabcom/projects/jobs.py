"""Task reminders."""

from __future__ import annotations

import datetime as dt

from fabcom import clock
from fabcom.jobs.execution import JobContext
from fabcom.jobs.outbox import enqueue_once
from fabcom.jobs.registry import cron, job
from fabcom.notifications.services import notify
from fabcom.projects.models import Task, TaskStatus


@job()
async def remind_tasks(ctx: JobContext) -> None:
    """Queue one reminder per unfinished, assigned task due tomorrow (keyed by task and
    date: sent once however often this runs)."""
    due = clock.today() + dt.timedelta(days=1)
    task_ids = await (
        Task.filter(due_on=due, assignee_id__isnull=False).exclude(status=TaskStatus.DONE).values_list("id", flat=True)
    )
    for task_id in task_ids:
        await enqueue_once("notify_task_due", key=f"task-due:{task_id}:{due.isoformat()}", task_id=task_id)


@job()
async def notify_task_due(ctx: JobContext, *, task_id: int) -> None:
    """Tell the assignee their task is due."""
    task = await Task.get_or_none(id=task_id).prefetch_related("project")
    if task is None or task.assignee_id is None or task.due_on is None or task.status == TaskStatus.DONE:  # type: ignore[attr-defined]
        return
    data = {"task_id": task.id, "task": task.title, "project": task.project.title, "date": task.due_on.isoformat()}
    await notify([task.assignee_id], "task.due", data, organization_id=task.project.lead_organization_id)  # type: ignore[attr-defined]


cron("remind_tasks", hour=7, minute=30)
