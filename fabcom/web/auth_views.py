"""Login, logout, password change, language switch and the organization switcher."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.auth.middleware import LOCALE_COOKIE, SESSION_COOKIE
from fabcom.auth.services import (
    SESSION_DAYS,
    authenticate,
    change_password,
    close_session,
    open_session,
    password_reset_user,
    register_login_attempt,
    request_password_reset,
    reset_password,
    set_locale,
)
from fabcom.errors import ServiceError
from fabcom.i18n import LOCALES, N_
from fabcom.members.models import Role
from fabcom.orgs.models import Organization
from fabcom.web.pages import client_ip, field_errors, layout_context, page
from fabcom.web.templating import _, flash, is_htmx, render, see_other


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def _set_session_cookie(request: Request, response: Response, key: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=SESSION_DAYS * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


async def login(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    request.state.web_context = await layout_context(request)
    if request.method == "GET":
        if request.state.principal.is_authenticated:
            return RedirectResponse(next_url, status_code=303)
        return render(request, "login.html", {"next": next_url, "email": "", "error": ""})
    if not await register_login_attempt(client_ip(request)):
        return render(
            request,
            "login.html",
            {
                "next": next_url,
                "email": "",
                "error": _(request, N_("Too many attempts. Wait a few minutes and try again.")),
            },
            status_code=429,
            headers={"Retry-After": "300"},
        )
    form = await request.form()
    email = str(form.get("email", ""))[:254]
    next_url = safe_next(str(form.get("next", "")) or next_url)
    user = await authenticate(email, str(form.get("password", "")))
    if user is None:
        return render(
            request,
            "login.html",
            {"next": next_url, "email": email, "error": _(request, N_("Wrong e-mail address or password."))},
            status_code=400,
        )
    if request.state.session is not None:  # a new login never reuses an older session id
        await close_session(request.cookies.get(SESSION_COOKIE, ""))
    _session, key = await open_session(
        user, user_agent=request.headers.get("user-agent", ""), ip_address=client_ip(request)
    )
    response = RedirectResponse(next_url, status_code=303)
    _set_session_cookie(request, response, key)
    return response


async def password_forgot(request: Request) -> Response:
    """Ask for a reset link by e-mail: the same answer whether the account exists or not."""
    request.state.web_context = await layout_context(request)
    if request.method == "GET":
        return render(request, "password_forgot.html", {"email": "", "errors": {}, "sent": False})
    form = await request.form()
    email = str(form.get("email", "")).strip()[:254]
    if not await register_login_attempt("reset:" + client_ip(request)):
        error = _(request, N_("Too many attempts. Wait a few minutes and try again."))
        return render(
            request,
            "password_forgot.html",
            {"email": email, "errors": {"email": error}, "sent": False},
            status_code=429,
            headers={"Retry-After": "300"},
        )
    if "@" not in email or len(email) < 3:
        error = _(request, N_("Enter a valid e-mail address."))
        return render(
            request,
            "password_forgot.html",
            {"email": email, "errors": {"email": error}, "sent": False},
            status_code=400,
        )
    await request_password_reset(email)
    return render(request, "password_forgot.html", {"email": email, "errors": {}, "sent": True})


async def password_reset(request: Request) -> Response:
    """Choose a new password from the link sent by e-mail; then every session is closed."""
    request.state.web_context = await layout_context(request)
    token = request.path_params["token"]
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        new_password = str(form.get("new_password", ""))
        if new_password != str(form.get("new_password_again", "")):
            errors["new_password_again"] = _(request, N_("The two new passwords differ."))
        else:
            try:
                await reset_password(token, {"new_password": new_password})
            except ServiceError as error:
                errors = field_errors(error, request.state.locale)
            else:
                response = RedirectResponse("/login", status_code=303)
                response.delete_cookie(SESSION_COOKIE, path="/")
                flash(request, response, _(request, N_("Your password is changed. Log in with it.")))
                return response
    valid = "token" not in errors and await password_reset_user(token) is not None
    return render(
        request,
        "password_reset.html",
        {"errors": errors, "valid": valid, "token": token},
        status_code=400 if errors else 200,
    )


async def logout(request: Request) -> Response:
    await close_session(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    flash(request, response, _(request, N_("You are logged out.")))
    return response


async def language(request: Request) -> Response:
    """Switch the interface language; saved in the account when logged in."""
    form = await request.form()
    locale = str(form.get("locale", ""))
    target = safe_next(str(form.get("next", "")))
    if locale not in LOCALES:
        return RedirectResponse(target, status_code=303)
    response = RedirectResponse(target, status_code=303)
    if request.state.principal.is_authenticated and request.state.principal.scopes is None:
        await set_locale(request.state.principal, locale)
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=365 * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@page()
async def home(request: Request) -> Response:
    orgs = request.state.web_context["my_orgs"]
    if len(orgs) >= 1:
        return RedirectResponse(request.url_for("web:dashboard", slug=orgs[0].slug).path, status_code=303)
    return render(request, "home.html", {})


@page()
async def go(request: Request) -> Response:
    """The organization switcher (a GET form): jump to that organization's dashboard."""
    slug = request.query_params.get("org", "")
    org = await Organization.get_or_none(slug=slug, is_local=True)
    if org is None or org.id not in request.state.principal.roles:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(request.url_for("web:dashboard", slug=org.slug).path, status_code=303)


@page()
async def account(request: Request) -> Response:
    """The user's own account: change the password (which logs out every other device)."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        data = {
            "current_password": str(form.get("current_password", "")),
            "new_password": str(form.get("new_password", "")),
        }
        if data["new_password"] != str(form.get("new_password_again", "")):
            errors["new_password_again"] = _(request, N_("The two new passwords differ."))
        else:
            try:
                user = await change_password(request.state.principal, data)
            except ServiceError as error:
                errors = field_errors(error, request.state.locale)
            else:
                _session, key = await open_session(
                    user, user_agent=request.headers.get("user-agent", ""), ip_address=client_ip(request)
                )
                response = see_other(request, request.url_for("web:account").path)
                _set_session_cookie(request, response, key)
                flash(request, response, _(request, N_("Password changed. Your other sessions are logged out.")))
                return response
    roles = {org.id: Role(request.state.principal.roles[org.id]) for org in request.state.web_context["my_orgs"]}
    return render(
        request,
        "account.html",
        {"errors": errors, "roles": roles},
        fragment="_password_form.html" if is_htmx(request) and request.method == "POST" else None,
        status_code=400 if errors else 200,
    )
