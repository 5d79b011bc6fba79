"""E-mailing notifications, one by one or as a daily digest."""

from __future__ import annotations

from fabcom.auth.models import User
from fabcom.jobs.execution import JobContext
from fabcom.jobs.registry import cron, job
from fabcom.notifications.email import send_email
from fabcom.notifications.messages import digest_subject, email_text, render
from fabcom.notifications.models import Notification
from fabcom.notifications.preference_models import Channel, NotificationPreference


def preferences_url(ctx: JobContext) -> str:
    return ctx.settings.public_url + "/notifications/preferences"


@job()
async def send_notification_email(ctx: JobContext, *, notification_id: int) -> None:
    """E-mail one notification to its recipient, in their language."""
    notification = await Notification.get_or_none(id=notification_id)
    if notification is None:
        return
    user = await User.get(id=notification.user_id)  # type: ignore[attr-defined]
    if not user.is_active:
        return
    subject, body = render(notification.kind, notification.data, user.locale)
    text = email_text(user.locale, user.display_name, [body], preferences_url(ctx))
    await send_email(ctx.settings, user.email, subject, text, ctx.key)


@job()
async def send_notification_digests(ctx: JobContext) -> None:
    """Once a day, one e-mail per person on the digest channel listing what is new."""
    preferences = await NotificationPreference.filter(channel=Channel.DIGEST).prefetch_related("user")
    for preference in preferences:
        query = Notification.filter(user_id=preference.user_id)  # type: ignore[attr-defined]
        if preference.last_digest_at is not None:
            query = query.filter(created_at__gt=preference.last_digest_at)
        notifications = await query.order_by("id")
        if not notifications:
            continue
        user = preference.user
        if user.is_active:
            lines = ["- " + render(n.kind, n.data, user.locale)[1] for n in notifications]
            text = email_text(user.locale, user.display_name, lines, preferences_url(ctx))
            key = f"{ctx.key}:user-{user.id}"
            await send_email(ctx.settings, user.email, digest_subject(user.locale, len(lines)), text, key)
        # Recorded per person, so a retry after a failure does not send twice those already done.
        last = max(n.created_at for n in notifications)
        await NotificationPreference.filter(id=preference.id).update(last_digest_at=last)


cron("send_notification_digests", hour=7, minute=0)
