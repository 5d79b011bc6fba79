"""Recording audit entries. Called by services inside their transaction, never by views."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from tortoise.models import Model

from fabcom.audit.models import AuditEntry
from fabcom.permissions import Principal


def snapshot(obj: Model) -> dict[str, Any]:
    """The object's stored fields as JSON-safe values, for the audit's before/after."""
    data: dict[str, Any] = {}
    for name in sorted(obj._meta.db_fields):
        value = getattr(obj, obj._meta.fields_db_projection_reverse.get(name, name), None)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        elif isinstance(value, enum.Enum):
            value = value.value
        data[name] = value
    data.pop("password_hash", None)
    data.pop("token_hash", None)
    return data


async def record(
    actor: Principal,
    action: str,
    obj: Model,
    *,
    organization_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append ``action`` on ``obj`` to the audit trail, with the state before and after."""
    return await AuditEntry.create(
        actor_id=actor.user_id,
        api_token_id=actor.token_id,
        organization_id=organization_id,
        action=action,
        object_type=type(obj).__name__,
        object_id=str(obj.pk),
        before=before,
        after=after,
    )
