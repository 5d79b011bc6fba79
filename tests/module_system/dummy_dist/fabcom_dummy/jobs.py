"""A job and its cron entry."""

from fabcom.api import JobContext, cron, job


@job()
async def count_dummies(ctx: JobContext) -> None:
    """Count the dummy things."""


cron("count_dummies", hour=4, minute=0)
