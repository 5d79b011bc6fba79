"""The user's notifications: how to be told (preferences) and marking them as read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.expressions import Q

from fabcom.errors import NotFound, ServiceError
from fabcom.i18n import N_
from fabcom.notifications.models import Notification
from fabcom.notifications.preference_models import Channel, NotificationPreference
from fabcom.notifications.services import mark_all_read, mark_read, set_preference
from fabcom.web.auth_views import safe_next
from fabcom.web.pages import current_org, field_errors, page
from fabcom.web.templating import _, flash, is_htmx, render


@page()
async def preferences(request: Request) -> Response:
    """In the app only, by e-mail, or a daily digest."""
    principal = request.state.principal
    errors: dict[str, str] = {}
    preference = await NotificationPreference.get_or_none(user_id=principal.user_id)
    channel = preference.channel.value if preference else Channel.IN_APP.value
    if request.method == "POST":
        form = await request.form()
        channel = str(form.get("channel", ""))
        try:
            await set_preference(principal, {"channel": channel})
        except ServiceError as error:
            errors = field_errors(error, request.state.locale)
        else:
            response = RedirectResponse(request.url_for("web:notification_preferences").path, status_code=303)
            flash(request, response, _(request, N_("Your notification preference is saved.")))
            return response
    return render(
        request,
        "notification_preferences.html",
        {"channel": channel, "errors": errors, "channels": [c.value for c in Channel]},
        status_code=400 if errors else 200,
    )


async def _unread(principal_user_id: int, organization_id: int) -> list[Notification]:
    return (
        await Notification.filter(user_id=principal_user_id, read_at__isnull=True)
        .filter(Q(organization_id=organization_id) | Q(organization_id__isnull=True))
        .limit(8)
    )


@page()
async def read_one(request: Request) -> Response:
    """Mark one notification as read; htmx gets the dashboard's list back."""
    org = await current_org(request)
    principal = request.state.principal
    try:
        await mark_read(principal, int(request.path_params["notification_id"]))
    except NotFound:
        return render(request, "error.html", {"status": 404}, status_code=404)
    if is_htmx(request):
        notifications = await _unread(principal.user_id, org.id)
        return render(request, "_notifications.html", {"notifications": notifications, "org": org})
    return RedirectResponse(safe_next(f"/o/{org.slug}/"), status_code=303)


@page()
async def read_all(request: Request) -> Response:
    """Mark all of one's notifications (of this organization or of none) as read."""
    org = await current_org(request)
    principal = request.state.principal
    await mark_all_read(principal, org.id)
    if is_htmx(request):
        return render(request, "_notifications.html", {"notifications": [], "org": org})
    response = RedirectResponse(f"/o/{org.slug}/", status_code=303)
    flash(request, response, _(request, N_("All notifications are marked as read.")))
    return response
