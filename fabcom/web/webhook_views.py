"""The organization's webhooks page: endpoints (create with the secret shown once,
disable or enable, delete, send a test event) and their recent deliveries."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.errors import NotFound, ServiceError
from fabcom.i18n import N_
from fabcom.permissions import Action
from fabcom.web.pages import confirm_page, confirmed, current_org, field_errors, page
from fabcom.web.templating import _, flash, render
from fabcom.webhooks.models import WebhookEndpoint, WebhookEvent
from fabcom.webhooks.services import (
    create_endpoint,
    delete_endpoint,
    list_endpoints,
    recent_deliveries,
    send_test_event,
    set_endpoint_active,
)


@page()
async def webhooks(request: Request) -> Response:
    org = await current_org(request, Action.ORG_MANAGE)
    principal = request.state.principal
    values: dict[str, Any] = {"url": "", "description": "", "events": []}
    errors: dict[str, str] = {}
    created: WebhookEndpoint | None = None
    if request.method == "POST":
        form = await request.form()
        values = {
            "url": str(form.get("url", "")).strip(),
            "description": str(form.get("description", "")).strip(),
            "events": [str(e) for e in form.getlist("events")],
        }
        try:
            created = await create_endpoint(
                principal, org.id, values, allow_private=request.app.state.settings.webhooks_allow_private
            )
        except ServiceError as error:
            errors = field_errors(error, request.state.locale)
        else:
            values = {"url": "", "description": "", "events": []}
    endpoints = [
        {"endpoint": e, "deliveries": await recent_deliveries(principal, e.id)}
        for e in await list_endpoints(principal, org.id)
    ]
    return render(
        request,
        "webhooks.html",
        {
            "endpoints": endpoints,
            "events": [e.value for e in WebhookEvent],
            "values": values,
            "errors": errors,
            "created": created,
        },
        status_code=400 if errors else 200,
    )


ACTIONS = {
    "disable": N_("Endpoint disabled."),
    "enable": N_("Endpoint enabled."),
    "delete": N_("Endpoint deleted."),
    "test": N_("Test event queued: it appears in the deliveries below."),
}


@page()
async def webhook_action(request: Request) -> Response:
    org = await current_org(request, Action.ORG_MANAGE)
    action = request.path_params["action"]
    endpoint = await WebhookEndpoint.get_or_none(id=request.path_params["endpoint_id"], organization_id=org.id)
    if action not in ACTIONS or endpoint is None:
        raise NotFound("webhook_endpoint")
    principal = request.state.principal
    if action == "delete" and not confirmed(await request.form()):
        return confirm_page(
            request,
            title=_(request, N_("Delete the endpoint {url}?"), url=endpoint.url),
            consequence=_(
                request,
                N_(
                    "No more events are sent there and its deliveries are forgotten; the partner's secret stops "
                    "working. To pause it instead, use Disable."
                ),
            ),
            button=_(request, N_("Yes, delete the endpoint")),
            cancel_url=request.url_for("web:webhooks", slug=org.slug).path,
        )
    try:
        if action in ("disable", "enable"):
            await set_endpoint_active(principal, endpoint.id, action == "enable")
        elif action == "delete":
            await delete_endpoint(principal, endpoint.id)
        else:
            await send_test_event(principal, endpoint.id)
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
    else:
        message, level = _(request, ACTIONS[action]), "success"
    response = RedirectResponse(request.url_for("web:webhooks", slug=org.slug).path, status_code=303)
    flash(request, response, message, level)
    return response
