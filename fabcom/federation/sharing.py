"""Publishing local changes to partners: one call per service, inside its transaction.

An item or a project that is (or was) shared with partners or the public is published
as ``Create`` when it becomes visible, ``Update`` while it stays visible and ``Delete``
when it is deleted or goes private (to the audience that saw it). A private object
publishes nothing. The activity is written to the outbox in the caller's transaction:
a rollback publishes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fabcom import clock
from fabcom.federation import vocab
from fabcom.federation.models import Audience
from fabcom.federation.publish import publish
from fabcom.orgs.models import Organization

if TYPE_CHECKING:
    from fabcom.inventory.models import Item
    from fabcom.projects.models import Project

SHARED = {"partners": Audience.PARTNERS, "public": Audience.PUBLIC}


def _verb(before: str | None, after: str | None) -> tuple[str, Audience] | None:
    """Which activity a change of visibility calls for (``None`` visibility: the object
    does not exist on that side of the change)."""
    if after in SHARED:
        return ("Update" if before in SHARED else "Create"), SHARED[after]
    if before in SHARED:
        return "Delete", SHARED[before]
    return None


async def _actor(organization_id: int) -> str | None:
    org = await Organization.get_or_none(id=organization_id)
    if org is None or not org.is_local:
        return None
    return vocab.actor_id(org.slug)


async def item_document(item: Item, actor: str, audience: Audience) -> dict:
    """The item as fabcom shares it (see ``vocab.item_object``)."""
    from fabcom.inventory.models import Attachment, Category

    code = None
    if item.category_id:  # type: ignore[attr-defined]
        category = await Category.get_or_none(id=item.category_id)  # type: ignore[attr-defined]
        code = category.code if category else None
    image_url = None
    if audience == Audience.PUBLIC:  # partner-only photos are not fetchable by other servers
        photo = await Attachment.filter(item_id=item.id).order_by("position", "id").first()
        image_url = f"{vocab.base_url()}/photos/{photo.id}" if photo else None
    return vocab.item_object(
        pk=item.id,
        actor=actor,
        title=item.title,
        description=item.description,
        category_code=code,
        quantity_value=item.quantity,
        unit=str(item.unit),
        condition=str(item.condition),
        status=str(item.status),
        sharing_modes=list(item.sharing_modes or []),
        audience=audience,
        published=item.created_at,
        updated=clock.now(),
        image_url=image_url,
    )


async def share_item(item: Item, before: str | None, *, deleted: bool = False, refresh: bool = False) -> None:
    """Publish what partners must know after ``item`` changed; ``before`` is its
    visibility before the change (None for a new item). ``refresh``: re-read the item
    first when it is shared (its quantity moved in the database)."""
    if refresh and str(item.visibility) in SHARED:
        await item.refresh_from_db()
    after = None if deleted or item.deleted_at is not None else str(item.visibility)
    verb = _verb(before, after)
    actor = await _actor(item.organization_id)  # type: ignore[attr-defined]
    if verb is None or actor is None:
        return
    kind, audience = verb
    if kind == "Delete":
        obj: dict = vocab.tombstone(vocab.item_id(item.id), "Page", clock.now())
    else:
        obj = await item_document(item, actor, audience)
    await publish(
        item.organization_id,  # type: ignore[attr-defined]
        vocab.activity(kind, actor=actor, obj=obj, audience=audience, published=clock.now()),
        audience=audience,
    )


async def project_document(project: Project, actor: str, audience: Audience) -> dict:
    from fabcom.inventory.models import Category
    from fabcom.projects.models import ProjectNeed

    needs = []
    for need in await ProjectNeed.filter(project_id=project.id, fulfilled=False).order_by("id"):
        category = await Category.get_or_none(id=need.category_id) if need.category_id else None  # type: ignore[attr-defined]
        needs.append(
            {
                "id": need.id,
                "category_code": category.code if category else None,
                "skill": need.skill,
                "quantity": need.quantity,
                "unit": str(need.unit),
            }
        )
    return vocab.project_object(
        pk=project.id,
        actor=actor,
        title=project.title,
        summary=project.summary,
        description=project.description,
        status=str(project.status),
        licence=project.licence,
        starts_on=project.starts_on,
        ends_on=project.ends_on,
        needs=needs,
        audience=audience,
        published=project.created_at,
        updated=clock.now(),
    )


async def share_project(project: Project, before: str | None, *, deleted: bool = False) -> None:
    """Publish what partners must know after ``project`` changed (see ``share_item``)."""
    after = None if deleted else str(project.visibility)
    verb = _verb(before, after)
    actor = await _actor(project.lead_organization_id)  # type: ignore[attr-defined]
    if verb is None or actor is None:
        return
    kind, audience = verb
    if kind == "Delete":
        obj: dict = vocab.tombstone(vocab.project_id(project.id), "Page", clock.now())
    else:
        obj = await project_document(project, actor, audience)
    await publish(
        project.lead_organization_id,  # type: ignore[attr-defined]
        vocab.activity(kind, actor=actor, obj=obj, audience=audience, published=clock.now()),
        audience=audience,
    )
