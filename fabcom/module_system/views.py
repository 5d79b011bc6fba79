"""The organization's module settings page: each switchable module with an on/off button."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.errors import ServiceError
from fabcom.i18n import N_
from fabcom.module_system.services import modules_for, set_module_enabled
from fabcom.permissions import Action
from fabcom.web.pages import current_org, first_error, page
from fabcom.web.templating import _, flash, render


@page()
async def org_modules(request: Request) -> Response:
    """Owners and admins switch the organization's modules on or off."""
    org = await current_org(request, Action.ORG_MANAGE)
    error = ""
    if request.method == "POST":
        form = await request.form()
        enabled = str(form.get("enabled", "")) == "1"
        try:
            await set_module_enabled(
                request.state.principal, org.id, {"module": str(form.get("module", "")), "enabled": enabled}
            )
        except ServiceError as exc:
            error = first_error(exc.errors, request.state.locale)
        else:
            response = RedirectResponse(f"/o/{org.slug}/settings/modules", status_code=303)
            flash(request, response, _(request, N_("Module switched on.") if enabled else N_("Module switched off.")))
            return response
    return render(
        request,
        "org_modules.html",
        {"modules": await modules_for(org.id), "error": error},
        status_code=400 if error else 200,
    )
