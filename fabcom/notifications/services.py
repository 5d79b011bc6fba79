"""Notifying people: in-app rows, plus e-mail jobs for those who chose e-mail.

``notify`` is called by services inside their transaction, so a notification and its
e-mail exist if and only if the change commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.errors import NotFound, PermissionDenied
from fabcom.jobs.outbox import enqueue
from fabcom.members.models import Membership, Role
from fabcom.notifications.models import Notification
from fabcom.notifications.preference_models import Channel, NotificationPreference
from fabcom.permissions import STAFF_AND_UP, Principal
from fabcom.validation import Input, parse


async def notify(
    user_ids: Iterable[int],
    kind: str,
    data: dict[str, Any],
    *,
    organization_id: int | None = None,
    url: str = "",
) -> list[Notification]:
    """Create one notification per person; queue an e-mail for those who chose e-mail."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    emailed = set(
        await NotificationPreference.filter(user_id__in=ids, channel=Channel.EMAIL).values_list("user_id", flat=True)
    )
    created = []
    for user_id in ids:
        notification = await Notification.create(
            user_id=user_id, organization_id=organization_id, kind=kind, data=data, url=url
        )
        created.append(notification)
        if user_id in emailed:
            await enqueue(
                "send_notification_email",
                key=f"notification-email:{notification.id}",
                notification_id=notification.id,
            )
    return created


async def staff_of(organization_id: int, roles: Iterable[Role] = STAFF_AND_UP) -> list[int]:
    """The people with one of ``roles`` in the organization today."""
    today = clock.today()
    user_ids = (
        await Membership.filter(organization_id=organization_id, role__in=list(roles), valid_from__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values_list("user_id", flat=True)
    )
    return [int(user_id) for user_id in user_ids]  # type: ignore[call-overload]


class PreferenceInput(Input):
    channel: Channel


async def set_preference(actor: Principal, data: dict[str, Any] | PreferenceInput) -> NotificationPreference:
    """Choose how one is notified: in the app only, by e-mail, or a daily digest."""
    if actor.user_id is None:
        raise PermissionDenied()
    payload = parse(PreferenceInput, data)
    async with in_transaction():
        preference, _ = await NotificationPreference.get_or_create(user_id=actor.user_id)
        await NotificationPreference.filter(id=preference.id).update(
            channel=payload.channel, updated_at=clock.now(), last_digest_at=preference.last_digest_at or clock.now()
        )
        await preference.refresh_from_db()
    return preference


async def mark_read(actor: Principal, notification_id: int) -> None:
    """Mark one of one's own notifications as read (someone else's is not found)."""
    if actor.user_id is None:
        raise PermissionDenied()
    found = await Notification.filter(id=notification_id, user_id=actor.user_id).exists()
    if not found:
        raise NotFound("notification")
    await Notification.filter(id=notification_id, user_id=actor.user_id, read_at__isnull=True).update(
        read_at=clock.now()
    )


async def mark_all_read(actor: Principal, organization_id: int | None = None) -> int:
    """Mark all one's unread notifications as read (those of ``organization_id`` and those
    of no organization, when given); returns how many."""
    if actor.user_id is None:
        raise PermissionDenied()
    query = Notification.filter(user_id=actor.user_id, read_at__isnull=True)
    if organization_id is not None:
        query = query.filter(Q(organization_id=organization_id) | Q(organization_id__isnull=True))
    return await query.update(read_at=clock.now())
