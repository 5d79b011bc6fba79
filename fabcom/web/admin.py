"""Organization settings (profile) and the instance admin pages (organizations, users)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.accounts import add_user_to_org
from fabcom.auth.models import User
from fabcom.errors import PermissionDenied, ServiceError
from fabcom.i18n import N_
from fabcom.members.models import Membership, Role
from fabcom.orgs.models import Organization, OrganizationKind
from fabcom.orgs.services import create_organization, update_organization
from fabcom.permissions import Action
from fabcom.web.pages import current_org, field_errors, page
from fabcom.web.templating import _, flash, render

PROFILE_FIELDS = ("name", "kind", "description", "address", "postal_code", "city", "country", "email", "website")


@page()
async def org_settings(request: Request) -> Response:
    org = await current_org(request, Action.ORG_MANAGE)
    values: dict[str, Any] = {name: getattr(org, name) for name in PROFILE_FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        values = {name: str(form.get(name, "")) for name in PROFILE_FIELDS}
        try:
            await update_organization(request.state.principal, org.id, values)
        except ServiceError as error:
            errors = field_errors(error, request.state.locale)
        else:
            response = RedirectResponse(request.url_for("web:org_settings", slug=org.slug).path, status_code=303)
            flash(request, response, _(request, N_("Changes saved.")))
            return response
    return render(
        request,
        "org_settings.html",
        {"values": values, "errors": errors, "kinds": list(OrganizationKind)},
        status_code=400 if errors else 200,
    )


@page()
async def admin(request: Request) -> Response:
    """Instance admins: the organizations and accounts of this instance; open an
    organization, create an account with its role."""
    principal = request.state.principal
    if not principal.is_instance_admin:
        raise PermissionDenied()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"role": "staff"}
    form_name = ""
    if request.method == "POST":
        form = await request.form()
        form_name = str(form.get("form", ""))
        try:
            if form_name == "org":
                values = {k: str(form.get(k, "")) for k in ("slug", "name", "kind")}
                await create_organization(principal, values)
                message = N_("Organization created.")
            else:
                form_name = "user"
                values = {k: str(form.get(k, "")) for k in ("email", "display_name", "org", "role", "password")}
                await add_user_to_org(
                    values["email"],
                    values["org"],
                    values["role"],
                    values["display_name"] or None,
                    values["password"] or None,
                )
                message = N_("Account created.")
        except ServiceError as error:
            errors = field_errors(error, request.state.locale)
        else:
            response = RedirectResponse("/admin", status_code=303)
            flash(request, response, _(request, message))
            return response
    orgs = await Organization.all().order_by("name")
    users = await User.all().order_by("display_name")
    memberships = await Membership.all().prefetch_related("organization")
    by_user: dict[int, list[Membership]] = {}
    for m in memberships:
        by_user.setdefault(m.user_id, []).append(m)  # type: ignore[attr-defined]
    return render(
        request,
        "admin.html",
        {
            "orgs": orgs,
            "users": users,
            "by_user": by_user,
            "values": values,
            "errors": errors,
            "form_name": form_name,
            "kinds": list(OrganizationKind),
            "roles": list(Role),
        },
        status_code=400 if errors else 200,
    )
