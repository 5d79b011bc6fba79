"""Project services: projects, their partner organizations, participants, tasks and needs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, model_validator
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.auth.models import User
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.federation.sharing import share_project
from fabcom.i18n import N_
from fabcom.inventory.models import Unit, Visibility
from fabcom.inventory.services import category_by_code
from fabcom.orgs.models import Organization
from fabcom.permissions import Action, Principal
from fabcom.projects.models import NeedKind, Participant, Project, ProjectNeed, ProjectStatus, Task, TaskStatus
from fabcom.validation import Input, InputError, parse
from fabcom.webhooks.services import WebhookEvent, emit


class ProjectInput(Input):
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=500)
    description: str = Field(default="", max_length=100_000)
    status: ProjectStatus = ProjectStatus.IDEA
    visibility: Visibility = Visibility.PRIVATE
    licence: str = Field(default="CC-BY-SA-4.0", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9.+-]+$")
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ProjectInput:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise InputError(N_("The end date must come after the start date."), field="ends_on")
        return self


async def create_project(actor: Principal, organization_id: int, data: dict[str, Any] | ProjectInput) -> Project:
    """Start a project led by ``organization_id``."""
    if not actor.can(Action.PROJECTS_WRITE, organization_id):
        raise PermissionDenied()
    payload = parse(ProjectInput, data)
    async with in_transaction():
        project = await Project.create(
            lead_organization_id=organization_id, created_by_id=actor.user_id, **payload.model_dump()
        )
        await record(actor, "project.create", project, organization_id=organization_id, after=snapshot(project))
        await share_project(project, None)
    return project


async def get_project_for(actor: Principal, project_id: int, action: Action | None = None) -> Project:
    """The project if visible to ``actor`` (invisible = not found), checked for ``action``."""
    project = await Project.get_or_none(id=project_id)
    if project is None or not actor.sees("projects", project.visibility, project.lead_organization_id):  # type: ignore[attr-defined]
        raise NotFound("project")
    if action is not None and not actor.can(action, project.lead_organization_id):  # type: ignore[attr-defined]
        raise PermissionDenied()
    return project


async def update_project(actor: Principal, project_id: int, changes: dict[str, Any]) -> Project:
    project = await get_project_for(actor, project_id, Action.PROJECTS_WRITE)
    current = {name: getattr(project, name) for name in ProjectInput.model_fields}
    payload = parse(ProjectInput, {**current, **changes})
    before = snapshot(project)
    async with in_transaction():
        await Project.filter(id=project.id).update(**payload.model_dump(), updated_at=clock.now())
        await project.refresh_from_db()
        await record(
            actor,
            "project.update",
            project,
            organization_id=project.lead_organization_id,  # type: ignore[attr-defined]
            before=before,
            after=snapshot(project),
        )
        await emit(project.lead_organization_id, WebhookEvent.PROJECT_UPDATED, snapshot(project))  # type: ignore[attr-defined]
        await share_project(project, before["visibility"])
    return project


async def add_partner_organization(actor: Principal, project_id: int, organization_id: int) -> None:
    """Name another organization as a partner of the project."""
    project = await get_project_for(actor, project_id, Action.PROJECTS_WRITE)
    partner = await Organization.get_or_none(id=organization_id)
    if partner is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown organization."), "organization_id")
    if partner.id == project.lead_organization_id:  # type: ignore[attr-defined]
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("The lead organization is already part of the project."), "organization_id"
        )
    async with in_transaction():
        await project.partner_organizations.add(partner)
        await record(
            actor,
            "project.add_partner",
            project,
            organization_id=project.lead_organization_id,  # type: ignore[attr-defined]
            after={"partner_organization_id": partner.id},
        )


class ParticipantInput(Input):
    user_id: int | None = None
    display_name: str = Field(default="", max_length=120)
    organization_id: int | None = None
    role: str = Field(default="", max_length=80)


async def add_participant(actor: Principal, project_id: int, data: dict[str, Any] | ParticipantInput) -> Participant:
    """Add a participant: a local account or, by name, a person from a partner site."""
    project = await get_project_for(actor, project_id, Action.PROJECTS_WRITE)
    payload = parse(ParticipantInput, data)
    display_name = payload.display_name
    if payload.user_id is not None:
        user = await User.get_or_none(id=payload.user_id)
        if user is None:
            raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown account."), "user_id")
        if await Participant.exists(project_id=project.id, user_id=user.id):
            raise ValidationFailed.single(ErrorCode.ALREADY_EXISTS, N_("This person already takes part."), "user_id")
        display_name = display_name or user.display_name
    if not display_name:
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("This field is required."), "display_name")
    if payload.organization_id is not None and not await Organization.exists(id=payload.organization_id):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown organization."), "organization_id")
    async with in_transaction():
        participant = await Participant.create(
            project_id=project.id,
            user_id=payload.user_id,
            organization_id=payload.organization_id,
            display_name=display_name,
            role=payload.role,
        )
        await record(
            actor,
            "participant.create",
            participant,
            organization_id=project.lead_organization_id,  # type: ignore[attr-defined]
            after=snapshot(participant),
        )
    return participant


class TaskInput(Input):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    status: TaskStatus = TaskStatus.TODO
    assignee_id: int | None = None
    due_on: dt.date | None = None
    position: int = Field(default=0, ge=0, le=1_000_000)


async def _check_assignee(assignee_id: int | None) -> None:
    if assignee_id is not None and not await User.exists(id=assignee_id):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown account."), "assignee_id")


async def create_task(actor: Principal, project_id: int, data: dict[str, Any] | TaskInput) -> Task:
    project = await get_project_for(actor, project_id, Action.PROJECTS_WRITE)
    payload = parse(TaskInput, data)
    await _check_assignee(payload.assignee_id)
    async with in_transaction():
        task = await Task.create(project_id=project.id, **payload.model_dump())
        await record(actor, "task.create", task, organization_id=project.lead_organization_id, after=snapshot(task))  # type: ignore[attr-defined]
    return task


async def update_task(actor: Principal, task_id: int, changes: dict[str, Any]) -> Task:
    task = await Task.get_or_none(id=task_id)
    if task is None:
        raise NotFound("task")
    project = await get_project_for(actor, task.project_id, Action.PROJECTS_WRITE)  # type: ignore[attr-defined]
    current = {name: getattr(task, name) for name in TaskInput.model_fields}
    payload = parse(TaskInput, {**current, **changes})
    await _check_assignee(payload.assignee_id)
    before = snapshot(task)
    async with in_transaction():
        await Task.filter(id=task.id).update(**payload.model_dump(), updated_at=clock.now())
        await task.refresh_from_db()
        await record(
            actor,
            "task.update",
            task,
            organization_id=project.lead_organization_id,  # type: ignore[attr-defined]
            before=before,
            after=snapshot(task),
        )
    return task


class NeedInput(Input):
    kind: NeedKind
    category_code: str | None = None
    skill: str = Field(default="", max_length=120)
    description: str = Field(default="", max_length=500)
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3)] = Decimal(1)
    unit: Unit = Unit.PIECE

    @model_validator(mode="after")
    def _what_is_needed(self) -> NeedInput:
        if self.kind == NeedKind.ITEM and not self.category_code:
            raise InputError(N_("Say which category of items is needed."), field="category_code")
        if self.kind == NeedKind.SKILL and not self.skill:
            raise InputError(N_("Say which skill is needed."), field="skill")
        return self


async def add_need(actor: Principal, project_id: int, data: dict[str, Any] | NeedInput) -> ProjectNeed:
    """Declare what the project needs: items of a category or a skill."""
    project = await get_project_for(actor, project_id, Action.PROJECTS_WRITE)
    payload = parse(NeedInput, data)
    category = await category_by_code(payload.category_code)
    async with in_transaction():
        need = await ProjectNeed.create(
            project_id=project.id,
            category_id=category.id if category else None,
            **payload.model_dump(exclude={"category_code"}),
        )
        await record(
            actor,
            "project_need.create",
            need,
            organization_id=project.lead_organization_id,  # type: ignore[attr-defined]
            after=snapshot(need),
        )
        await share_project(project, str(project.visibility))
    return need
