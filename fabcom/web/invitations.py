"""Invitations by e-mail: resend or revoke from the members page, and the page the
e-mailed link opens (create an account, or accept after logging in)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.auth.middleware import SESSION_COOKIE
from fabcom.auth.models import User
from fabcom.auth.services import open_session
from fabcom.errors import NotFound, ServiceError
from fabcom.i18n import N_
from fabcom.members.models import Invitation
from fabcom.members.services import (
    INVITATION_LINK_INVALID,
    accept_invitation,
    accept_invitation_with_new_account,
    invitation_for_token,
    resend_invitation,
    revoke_invitation,
)
from fabcom.permissions import Action
from fabcom.web.auth_views import _set_session_cookie
from fabcom.web.pages import client_ip, confirm_page, confirmed, current_org, field_errors, layout_context, page
from fabcom.web.templating import _, flash, render

ACTIONS = {
    "resend": (resend_invitation, N_("Invitation sent again.")),
    "revoke": (revoke_invitation, N_("Invitation revoked.")),
}


@page()
async def invitation_action(request: Request) -> Response:
    """Resend or revoke a pending invitation of this organization."""
    org = await current_org(request, Action.MEMBERS_WRITE)
    action = ACTIONS.get(request.path_params["action"])
    invitation = await Invitation.get_or_none(id=request.path_params["invitation_id"], organization_id=org.id)
    if action is None or invitation is None:
        raise NotFound("invitation")
    service, done = action
    if request.path_params["action"] == "revoke" and not confirmed(await request.form()):
        return confirm_page(
            request,
            title=_(request, N_("Revoke the invitation of {email}?"), email=invitation.email),
            consequence=_(
                request,
                N_(
                    "The link sent by e-mail stops working at once. To invite this person later, send a new invitation."
                ),
            ),
            button=_(request, N_("Yes, revoke the invitation")),
            cancel_url=request.url_for("web:member_list", slug=org.slug).path,
        )
    try:
        await service(request.state.principal, invitation.id)
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
    else:
        message, level = _(request, done), "success"
    response = RedirectResponse(request.url_for("web:member_list", slug=org.slug).path, status_code=303)
    flash(request, response, message, level)
    return response


async def invitation_accept(request: Request) -> Response:
    """The link of an invitation e-mail. Logged in: accept it. Not logged in: create an
    account with the invited address, or log in first when that address has an account."""
    request.state.web_context = await layout_context(request)
    token = request.path_params["token"]
    principal = request.state.principal
    invitation = await invitation_for_token(token)
    if invitation is None:
        message = _(request, INVITATION_LINK_INVALID)
        return render(request, "invitation.html", {"invalid": message}, status_code=410)
    has_account = await User.exists(email=invitation.email)
    values = {"display_name": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        try:
            if principal.is_authenticated:
                await accept_invitation(principal, token)
                response = RedirectResponse(
                    request.url_for("web:dashboard", slug=invitation.organization.slug).path, status_code=303
                )
            elif has_account:
                return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)
            else:
                values = {"display_name": str(form.get("display_name", "")).strip()}
                password = str(form.get("password", ""))
                if password != str(form.get("password_again", "")):
                    errors["password_again"] = _(request, N_("The two passwords differ."))
                    raise _FormInvalid()
                membership = await accept_invitation_with_new_account(token, {**values, "password": password})
                user = await User.get(id=membership.user_id)  # type: ignore[attr-defined]
                if request.state.session is not None:
                    from fabcom.auth.services import close_session

                    await close_session(request.cookies.get(SESSION_COOKIE, ""))
                _session, key = await open_session(
                    user, user_agent=request.headers.get("user-agent", ""), ip_address=client_ip(request)
                )
                response = RedirectResponse(
                    request.url_for("web:dashboard", slug=invitation.organization.slug).path, status_code=303
                )
                _set_session_cookie(request, response, key)
        except _FormInvalid:
            pass
        except ServiceError as error:
            errors = field_errors(error, request.state.locale)
            if "token" in errors:
                return render(request, "invitation.html", {"invalid": errors["token"]}, status_code=410)
        else:
            flash(
                request,
                response,
                _(request, N_("Welcome to {organization}!"), organization=invitation.organization.name),
            )
            return response
    return render(
        request,
        "invitation.html",
        {
            "invitation": invitation,
            "has_account": has_account,
            "values": values,
            "errors": errors,
            "invalid": "",
            "token": token,
        },
        status_code=400 if errors else 200,
    )


class _FormInvalid(Exception):
    """The form has an error found before calling the service."""
