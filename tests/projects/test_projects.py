"""Projects, tasks, needs and participants."""

from __future__ import annotations

import pytest

from fabcom.errors import ErrorCode, PermissionDenied, ValidationFailed
from fabcom.members.models import Role
from fabcom.projects.models import Project, ProjectNeed, Task
from fabcom.projects.services import (
    add_need,
    add_participant,
    add_partner_organization,
    create_project,
    create_task,
    update_project,
    update_task,
)


async def test_a_project_with_partners_tasks_needs_and_participants(org_a, org_b, staff_a):
    project = await create_project(
        staff_a,
        org_a.id,
        {"title": "Atelier vélo", "visibility": "public", "starts_on": "2026-03-01", "ends_on": "2026-09-30"},
    )
    await add_partner_organization(staff_a, project.id, org_b.id)
    task = await create_task(
        staff_a, project.id, {"title": "Trier les vélos", "due_on": "2026-04-01", "assignee_id": staff_a.user_id}
    )
    await update_task(staff_a, task.id, {"status": "done"})
    await add_need(staff_a, project.id, {"kind": "item", "category_code": "C_26", "quantity": "10"})
    await add_need(staff_a, project.id, {"kind": "skill", "skill": "Mécanique"})
    participant = await add_participant(
        staff_a, project.id, {"display_name": "Léa (Fablab B)", "organization_id": org_b.id}
    )
    project = await Project.get(id=project.id).prefetch_related("partner_organizations", "tasks", "needs")
    assert [o.slug for o in project.partner_organizations] == [org_b.slug]
    assert [(t.title, t.status) for t in project.tasks] == [("Trier les vélos", "done")]
    assert sorted(n.kind for n in project.needs) == ["item", "skill"]
    assert participant.display_name == "Léa (Fablab B)"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "X", "status": "abandoned"}, "status"),
        ({"title": "X", "licence": "all rights; reserved"}, "licence"),
        ({"title": "X", "starts_on": "2026-09-01", "ends_on": "2026-01-01"}, "ends_on"),
    ],
)
async def test_bad_projects_are_refused(org_a, staff_a, data, field):
    with pytest.raises(ValidationFailed) as refused:
        await create_project(staff_a, org_a.id, data)
    assert refused.value.errors[0].field == field
    assert await Project.all().count() == 0


async def test_needs_must_say_what_is_needed(org_a, staff_a):
    project = await create_project(staff_a, org_a.id, {"title": "Ressourcerie mobile"})
    for data in (
        {"kind": "item"},
        {"kind": "skill"},
        {"kind": "item", "category_code": "C_99"},
        {"kind": "item", "category_code": "C_15", "quantity": "0"},
    ):
        with pytest.raises(ValidationFailed):
            await add_need(staff_a, project.id, data)
    assert await ProjectNeed.all().count() == 0


async def test_partners_read_shared_projects_but_only_the_lead_edits(org_a, org_b, staff_a, staff_b, make_member):
    project = await create_project(staff_a, org_a.id, {"title": "Commun", "visibility": "public"})
    for actor in (staff_b, await make_member(org_a, role=Role.MEMBER)):
        with pytest.raises(PermissionDenied):
            await update_project(actor, project.id, {"title": "Pris"})
        with pytest.raises(PermissionDenied):
            await create_task(actor, project.id, {"title": "Intrus"})
    assert (await Project.get(id=project.id)).title == "Commun"
    assert await Task.all().count() == 0


async def test_bad_task_edit_changes_nothing(org_a, staff_a):
    project = await create_project(staff_a, org_a.id, {"title": "P"})
    task = await create_task(staff_a, project.id, {"title": "T"})
    with pytest.raises(ValidationFailed) as refused:
        await update_task(staff_a, task.id, {"assignee_id": 999999, "status": "done"})
    assert refused.value.errors[0].code == ErrorCode.INVALID
    assert (await Task.get(id=task.id)).status == "todo"
