"""Publishing an activity: the only way anything leaves for other servers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fabcom.federation.models import Audience, OutboxActivity
from fabcom.jobs.outbox import enqueue


async def publish(
    organization_id: int, activity: dict[str, Any], *, audience: Audience, recipients: Iterable[str] = ()
) -> OutboxActivity:
    """Record ``activity`` in the organization's outbox and schedule its delivery.

    Call it inside the service's transaction, like ``enqueue``: a rollback publishes
    nothing. ``activity`` is the complete JSON-LD document (with its ``id``); for a
    ``DIRECT`` audience, ``recipients`` are the actor ids to deliver to.
    """
    row = await OutboxActivity.create(
        organization_id=organization_id,
        activity_uri=activity["id"],
        type=activity["type"],
        object_uri=_object_uri(activity),
        audience=audience,
        recipients=list(recipients),
        payload=activity,
    )
    await enqueue("fan_out_activity", key=f"fan_out_activity:{row.id}", activity_pk=row.id)
    return row


def _object_uri(activity: dict[str, Any]) -> str:
    obj = activity.get("object")
    if isinstance(obj, dict):
        return str(obj.get("id", ""))
    return str(obj or "")
