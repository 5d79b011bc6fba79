"""The outbox: one row per job, written in the transaction of the change that caused it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for its first run
    RUNNING = "running"  # claimed by a runner until ``locked_until``
    DONE = "done"
    FAILED = "failed"  # a transient failure, tried again at ``next_try_at``
    DEAD = "dead"  # a permanent failure, or transient failures for longer than the retry window


class Job(Model):
    """A unit of background work. The database, not Redis, is the source of truth: a
    runner claims the row before running it and records the outcome on it."""

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=100)
    args: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    key = fields.CharField(max_length=200, unique=True)  # idempotency key, carried to the receiving side
    status = fields.CharEnumField(JobStatus, max_length=8, default=JobStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_try_at = fields.DatetimeField()
    # When the dispatcher handed the current attempt to Redis (null: not handed yet).
    dispatched_at = fields.DatetimeField(null=True)
    locked_until = fields.DatetimeField(null=True)
    first_failed_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fabcom_job"
        ordering = ["id"]
        indexes = (("status", "next_try_at"),)

    def __str__(self) -> str:
        return f"{self.name}#{self.id}"
