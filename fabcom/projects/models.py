"""Commons projects: lead and partner organizations, participants, tasks and needs."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from fabcom.db import TimestampedModel
from fabcom.inventory.models import Unit, Visibility

if TYPE_CHECKING:
    from fabcom.auth.models import User
    from fabcom.inventory.models import Category
    from fabcom.orgs.models import Organization


class ProjectStatus(StrEnum):
    IDEA = "idea"
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    ARCHIVED = "archived"


class TaskStatus(StrEnum):
    TODO = "todo"
    DOING = "doing"
    DONE = "done"


class NeedKind(StrEnum):
    ITEM = "item"
    SKILL = "skill"


class Project(TimestampedModel):
    """A commons project led by one organization, possibly with partners."""

    id = fields.IntField(primary_key=True)
    lead_organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name="led_projects", on_delete=fields.CASCADE
    )
    partner_organizations: fields.ManyToManyRelation = fields.ManyToManyField(
        "fabcom.Organization", related_name="partner_projects", through="fabcom_project_partner"
    )
    title = fields.CharField(max_length=200)
    summary = fields.CharField(max_length=500, default="")
    description = fields.TextField(default="")  # Markdown, sanitised when rendered
    status = fields.CharEnumField(ProjectStatus, max_length=10, default=ProjectStatus.IDEA)
    visibility = fields.CharEnumField(Visibility, max_length=10, default=Visibility.PRIVATE)
    licence = fields.CharField(max_length=40, default="CC-BY-SA-4.0")  # SPDX identifier
    starts_on = fields.DateField(null=True)
    ends_on = fields.DateField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        indexes = (("lead_organization_id",),)
        table = "fabcom_project"
        ordering = ["-created_at", "-id"]


class Participant(Model):
    """Someone taking part in a project, a local user or a person from a partner site."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "fabcom.Project", related_name="participants", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name="participations", null=True, on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    display_name = fields.CharField(max_length=120)
    role = fields.CharField(max_length=80, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        indexes = (("user_id",),)
        table = "fabcom_participant"
        unique_together = (("project", "user"),)


class Task(TimestampedModel):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "fabcom.Project", related_name="tasks", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    status = fields.CharEnumField(TaskStatus, max_length=6, default=TaskStatus.TODO)
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "fabcom.User", related_name="assigned_tasks", null=True, on_delete=fields.SET_NULL
    )
    due_on = fields.DateField(null=True)
    position = fields.IntField(default=0)

    class Meta:
        indexes = (("project_id",),)
        table = "fabcom_task"
        ordering = ["position", "id"]


class ProjectNeed(TimestampedModel):
    """Something a project wants: items of a category (matched against the network's
    inventory) or a skill."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "fabcom.Project", related_name="needs", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NeedKind, max_length=6)
    category: fields.ForeignKeyNullableRelation[Category] = fields.ForeignKeyField(
        "fabcom.Category", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    skill = fields.CharField(max_length=120, default="")
    description = fields.CharField(max_length=500, default="")
    quantity = fields.DecimalField(max_digits=12, decimal_places=3, default=1)
    unit = fields.CharEnumField(Unit, max_length=8, default=Unit.PIECE)
    fulfilled = fields.BooleanField(default=False)

    class Meta:
        indexes = (("project_id",),)
        table = "fabcom_project_need"
