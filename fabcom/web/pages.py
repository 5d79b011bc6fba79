"""What every staff page shares: the login requirement, the organization in the URL,
the layout's context (organization switcher, language switch) and error pages."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.errors import FieldError, NotFound, PermissionDenied, ServiceError
from fabcom.module_system.contributions import MODULE_SCOPE_KEY
from fabcom.module_system.hooks import call_async_except, plugin_manager
from fabcom.module_system.services import switched_off
from fabcom.orgs.models import Organization
from fabcom.permissions import Action
from fabcom.web.templating import is_htmx, render

View = Callable[[Request], Awaitable[Response]]


def page(login: bool = True) -> Callable[[View], View]:
    """Wrap a view: anonymous visitors go to the login page, the layout context is
    loaded, and a refused or invisible object becomes a 403 or 404 page."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        async def wrapper(request: Request) -> Response:
            principal = request.state.principal
            if login and not principal.is_authenticated:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.headers.get("hx-request") == "true":
                    return Response(status_code=204, headers={"HX-Redirect": "/login?next=" + quote(target)})
                return RedirectResponse("/login?next=" + quote(target), status_code=303)
            request.state.web_context = await layout_context(request)
            try:
                return await view(request)
            except NotFound:
                return render(request, "error.html", {"status": 404}, status_code=404)
            except PermissionDenied:
                return render(request, "error.html", {"status": 403}, status_code=403)

        return wrapper

    return decorate


async def layout_context(request: Request) -> dict[str, Any]:
    """What the layout shows around every page. An htmx fragment has no layout, so it
    skips the organization switcher's query (see also ``current_org``)."""
    principal = request.state.principal
    orgs = (
        await Organization.filter(id__in=list(principal.roles), is_local=True).order_by("name")
        if principal.roles and not is_htmx(request)
        else []
    )
    user = request.state.session.user if request.state.session is not None else None
    return {"my_orgs": orgs, "user": user, "org": None}


async def current_org(request: Request, action: Action | None = None) -> Organization:
    """The organization named in the URL, when the user belongs to it (else 404), and
    may do ``action`` there (else 403). Under a module's routes (``/m/<slug>/``), a
    module the organization switched off answers 404 too."""
    principal = request.state.principal
    slug = request.path_params["slug"]
    mine = request.state.web_context.get("my_orgs")
    if mine:  # the layout has just read the user's local organizations: the URL's is one of them or none
        org = next((o for o in mine if o.slug == slug), None)
    else:
        org = await Organization.get_or_none(slug=slug, is_local=True)
    if org is None or org.id not in principal.roles:
        raise NotFound("organization")
    off = await switched_off(org.id)
    if request.scope.get(MODULE_SCOPE_KEY) in off:
        raise NotFound("organization")
    if action is not None and not principal.can(action, org.id):
        raise PermissionDenied()
    request.state.web_context["org"] = org
    request.state.web_context["role"] = principal.roles[org.id]
    request.state.web_context["can"] = {a.value.replace(".", "_"): principal.can(a, org.id) for a in Action}
    if is_htmx(request):  # a fragment has no menu: the modules' menu hooks are not asked
        request.state.web_context["module_menu"] = []
        return org
    entries = await call_async_except(
        plugin_manager().hook.fabcom_menu_items, off, organization=org, principal=principal
    )
    request.state.web_context["module_menu"] = [entry for found in entries for entry in found or []]
    return org


def field_errors(error: ServiceError, locale: str) -> dict[str, str]:
    """One translated message per field (``__all__`` for those without a field)."""
    messages: dict[str, str] = {}
    for e in error.errors:
        key = (e.field or "__all__").split(".")[0]
        messages.setdefault(key, e.text(locale))
    return messages


def first_error(errors: list[FieldError], locale: str) -> str:
    return errors[0].text(locale) if errors else ""


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
