"""What every staff page shares: the login requirement, the organization in the URL,
the layout's context (organization switcher, language switch) and error pages."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from fabcom.errors import FieldError, NotFound, PermissionDenied, ServiceError
from fabcom.i18n import negotiate_locale
from fabcom.module_system.contributions import MODULE_SCOPE_KEY
from fabcom.module_system.hooks import call_async_except, plugin_manager
from fabcom.module_system.services import switched_off
from fabcom.orgs.models import Organization
from fabcom.permissions import ANONYMOUS, Action
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
                return await error_page(request, 404)
            except PermissionDenied:
                return await error_page(request, 403)

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


async def together(*works: Awaitable[Any]) -> list[Any]:
    """The results of ``works`` run concurrently (their queries go to the database together,
    on pooled connections), or the first failure once all have ended: a 404 found by one
    does not leave the others running unawaited."""
    results = await asyncio.gather(*works, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


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
    module = request.scope.get(MODULE_SCOPE_KEY)
    # The modules switched off matter to a module's routes and to the menu; a core page's
    # htmx fragment (search as you type) has neither, and skips their query.
    off = await switched_off(org.id) if module is not None or not is_htmx(request) else set()
    if module in off:
        raise NotFound("organization")
    if action is not None and not principal.can(action, org.id):
        raise PermissionDenied()
    await _org_menu(request, org, off)
    return org


@dataclass(frozen=True, slots=True)
class OrgRef:
    """The organization of a fragment's URL, as far as the fragment shows it."""

    id: int
    slug: str


async def fragment_org(request: Request, action: Action) -> OrgRef:
    """``current_org`` for the htmx fragment of a core page (search as you type), which
    shows neither the organization's name nor a menu: found among the organizations of who
    is asking (read with the session) rather than read again. The same answers: 404 where
    the user has no role, 403 where the role may not do ``action``."""
    principal = request.state.principal
    slug = request.path_params["slug"]
    org_id = principal.local_slugs.get(slug)
    if org_id is None:
        raise NotFound("organization")
    if not principal.can(action, org_id):
        raise PermissionDenied()
    org = OrgRef(org_id, slug)
    await _org_menu(request, org, set())
    return org


async def _org_menu(request: Request, org: Organization | OrgRef, off: set[str]) -> None:
    """Put ``org``, the user's role there and its menu (the modules' entries too) in the
    layout's context."""
    principal = request.state.principal
    request.state.web_context["org"] = org
    request.state.web_context["role"] = principal.roles[org.id]
    request.state.web_context["can"] = {a.value.replace(".", "_"): principal.can(a, org.id) for a in Action}
    if is_htmx(request):  # a fragment has no menu: the modules' menu hooks are not asked
        request.state.web_context["module_menu"] = []
        return
    entries = await call_async_except(
        plugin_manager().hook.fabcom_menu_items, off, organization=org, principal=principal
    )
    request.state.web_context["module_menu"] = [entry for found in entries for entry in found or []]


# Paths answered to programs (federation, API, probes, files): their errors stay plain.
MACHINE_PATHS = ("/ap/", "/.well-known/", "/nodeinfo", "/graphql", "/healthz", "/readyz", "/metrics", "/static/")


def wants_page(request: Request) -> bool:
    """A person's browser (or htmx) asked, rather than a program: errors get a page."""
    if request.url.path.startswith(MACHINE_PATHS) or request.url.path.endswith((".json", ".jsonld")):
        return False
    accept = request.headers.get("accept", "")
    return "json" not in accept or "text/html" in accept


async def error_page(request: Request, status: int, *, title: str = "", text: str = "") -> Response:
    """The 403, 404, 405 or 500 page inside the layout (menu, language switch, a way back);
    an htmx request gets a short fragment. Never a traceback."""
    state = request.scope.setdefault("state", {})
    if "locale" not in state:  # the error came before the middleware ran (500 only)
        state["locale"] = negotiate_locale(request.headers.get("accept-language"))
    principal = state.setdefault("principal", ANONYMOUS)
    try:
        if not hasattr(request.state, "web_context"):
            request.state.web_context = await layout_context(request)
        context = request.state.web_context
        if context.get("org") is None and principal.is_authenticated and not is_htmx(request):
            org = await _org_of_path(request) or (context["my_orgs"][0] if context.get("my_orgs") else None)
            if org is not None:
                await _org_menu(request, org, await switched_off(org.id))
    except Exception:  # the page of a failure must not fail itself (database down)
        request.state.web_context = {"my_orgs": [], "user": None, "org": None}
    context = {"status": status, "error_title": title, "error_text": text}
    return render(request, "error.html", context, fragment="_error.html", status_code=status)


async def _org_of_path(request: Request) -> Organization | None:
    """The organization named in ``/o/<slug>/…`` or ``/m/<module>/o/<slug>/…`` when the user
    belongs to it."""
    parts = request.url.path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "o":
        slug = parts[1]
    elif len(parts) >= 4 and parts[0] == "m" and parts[2] == "o":
        slug = parts[3]
    else:
        return None
    org = await Organization.get_or_none(slug=slug[:100], is_local=True)
    return org if org is not None and org.id in request.state.principal.roles else None


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's HTTP errors (no such route, wrong method…): a page for people."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if not wants_page(request) or status not in ERROR_PAGES:
        detail = exc.detail if isinstance(exc, HTTPException) else ""
        return PlainTextResponse(detail or "", status_code=status, headers=getattr(exc, "headers", None))
    response = await error_page(request, status)
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: the server's log has the traceback, the person a calm page."""
    if not wants_page(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return await error_page(request, 500)


ERROR_PAGES = (403, 404, 405, 500)


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


# --- confirming an irreversible action -----------------------------------------------------


def confirmed(form: Any) -> bool:
    """The form carries ``confirm=1``: the person saw the confirmation and said yes."""
    return str(form.get("confirm", "")) == "1"


def confirm_page(
    request: Request,
    *,
    title: str,
    consequence: str,
    button: str,
    cancel_url: str,
    fields: dict[str, str] | None = None,
    action: str | None = None,
) -> Response:
    """Ask before an irreversible action: a page (a fragment for htmx) repeating the same
    POST with ``confirm=1`` and ``fields``, or going back to ``cancel_url``. Works without
    JavaScript; nothing was changed yet."""
    return render(
        request,
        "confirm.html",
        {
            "confirm_title": title,
            "consequence": consequence,
            "button": button,
            "cancel_url": cancel_url,
            "fields": fields or {},
            "action": action or request.url.path,
        },
        fragment="_confirm.html",
    )
