"""Task reminders."""

from __future__ import annotations

import datetime as dt

from fabcom import clock
from fabcom.jobs.registry import cron, job
from fabcom.notifications.models import Notification
from fabcom.notifications.services import notify
from fabcom.projects.models import Task, TaskStatus


@job()
async def remind_tasks(ctx: object) -> None:
    """Tell each assignee about their unfinished tasks due tomorrow (once per task and date)."""
    due = clock.today() + dt.timedelta(days=1)
    tasks = await (
        Task.filter(due_on=due, assignee_id__isnull=False).exclude(status=TaskStatus.DONE).prefetch_related("project")
    )
    for task in tasks:
        data = {"task_id": task.id, "task": task.title, "project": task.project.title, "date": due.isoformat()}
        already = await Notification.filter(user_id=task.assignee_id, kind="task.due").values_list("data", flat=True)  # type: ignore[attr-defined]
        if data in already:
            continue
        await notify([task.assignee_id], "task.due", data, organization_id=task.project.lead_organization_id)  # type: ignore[attr-defined]


cron("remind_tasks", hour=7, minute=30)
