"""Federation pages and documents of the objects half: the JSON-LD context, the network
search over the partners' mirrored items (with requests for them), and the member's
consent to be recognised by partners."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fabcom.errors import NotFound, ServiceError
from fabcom.federation.exchanges import cancel_mirrored_request, request_mirrored_item
from fabcom.federation.members import set_partner_recognition
from fabcom.federation.mirror_models import ExchangeDirection, FederatedExchange, SharedProfile
from fabcom.federation.network import (
    NetworkFilter,
    local_partner_items,
    network_items,
    network_projects_queryset,
    partner_mirror_item,
)
from fabcom.federation.vocab import CONTEXT_DOCUMENT
from fabcom.i18n import N_
from fabcom.inventory.models import Category
from fabcom.network.services import open_request_item_ids
from fabcom.network.shared import by_title, local_partner_projects
from fabcom.permissions import Action
from fabcom.web.pages import confirm_page, confirmed, current_org, page
from fabcom.web.templating import _, flash, is_htmx, render

SHARING_FOR_KIND = {"borrow": "lend", "receive": "give", "buy": "sell"}
OPEN_REMOTE_STATUSES = ("pending", "accepted")


async def context_document(request: Request) -> Response:
    """The JSON-LD context fabcom publishes (the same on every instance)."""
    return JSONResponse(
        CONTEXT_DOCUMENT,
        media_type="application/ld+json",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=86400"},
    )


@page()
async def network_search(request: Request) -> Response:
    """The one search of what partners share with the organization: partners on this site
    (their inventory) and on other servers (their mirrored items), each row saying where it
    comes from, and a request for one."""
    org = await current_org(request, Action.NETWORK_READ)
    params = request.query_params
    flt = NetworkFilter(
        search=params.get("q", "").strip()[:200] or None,
        category_code=params.get("category", "").strip()[:40] or None,
        organization=params.get("partner", "").strip()[:64] or None,
    )
    rows, _has_more = await network_items(request.state.principal, org.id, flt, limit=50)
    local = await local_partner_items(request.state.principal, org.id, flt, limit=50)
    exchanges = await FederatedExchange.filter(
        local_organization_id=org.id, direction=ExchangeDirection.OUTGOING
    ).prefetch_related("remote_organization")
    # Rows already asked for and still open say so instead of offering « Ask » again.
    already_asked = {
        "local": await open_request_item_ids(org.id, [item.id for item in local]),
        "remote": {e.mirror_item_id for e in exchanges if e.status in OPEN_REMOTE_STATUSES},  # type: ignore[attr-defined]
    }
    all_categories = await Category.all().order_by("position")
    categories = [c for c in all_categories if c.parent_id is None]  # type: ignore[attr-defined]
    projects = (
        await (await network_projects_queryset(request.state.principal, flt, [org.id]))
        .order_by("title", "id")
        .limit(20)
        .prefetch_related("organization")
    )
    local_projects = await local_partner_projects(request.state.principal, org.id, flt, limit=20)
    context: dict[str, Any] = {
        "mirrors": rows,
        "local_items": local,
        "results": by_title(local, rows),
        "q": flt.search or "",
        "category": flt.category_code or "",
        "categories": categories,
        "category_names": {c.code: c.label(request.state.locale) for c in all_categories},
        "remote_exchanges": exchanges[:50],
        "projects": by_title(local_projects, projects),
        "sharing_for_kind": SHARING_FOR_KIND,
        "already_asked": already_asked,
    }
    return render(request, "network_search.html", context, fragment="_network_search_results.html")


def _decimal_text(value: str) -> str:
    try:
        return str(Decimal(value.replace(",", ".").replace(" ", "")))
    except InvalidOperation:
        return value


@page()
async def network_request(request: Request) -> Response:
    """Ask a partner on another server for one of its items. As for a partner on this site
    (``exchange_new``), the answer goes where the person asked: htmx gets that row back with
    it and what was typed, a plain form the same search with a message naming the item."""
    org = await current_org(request, Action.NETWORK_WRITE)
    form = await request.form()
    data = {
        "mirror_item_id": str(form.get("mirror_item_id", "")),
        "kind": str(form.get("kind", "")),
        "quantity": _decimal_text(str(form.get("quantity", "1"))) or "1",
        "message": str(form.get("message", "")),
    }
    field = ""
    try:
        await request_mirrored_item(request.state.principal, org.id, data)
    except NotFound:
        message, level = _(request, N_("This item is no longer shared with you.")), "error"
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
        field = (error.errors[0].field or "") if error.errors else ""
    else:
        message, level = _(request, N_("Request sent to the partner.")), "success"
    search = {name: str(form.get(name, "")).strip()[:200] for name in ("q", "category")}
    mirror = await partner_mirror_item(request.state.principal, org.id, data["mirror_item_id"])
    if mirror is not None:  # the search lists many rows: say which one the answer is about
        message = _(request, N_("{title}: {answer}"), title=mirror.title, answer=message)
    if is_htmx(request):
        categories = await Category.all()
        context = {
            "origin": "remote",
            "row": mirror,
            "item_id": data["mirror_item_id"] if data["mirror_item_id"].isdigit() else "",
            "asked": {
                "text": message,
                "level": level,
                "field": field,
                "kind": data["kind"],
                "quantity": str(form.get("quantity", "1"))[:20],
            },
            "category_names": {c.code: c.label(request.state.locale) for c in categories},
            "sharing_for_kind": SHARING_FOR_KIND,
            "already_asked": {"remote": {mirror.id} if mirror is not None and level == "success" else set()},
            **search,
        }
        return render(request, "_network_search_row.html", context, status_code=400 if level == "error" else 200)
    url = request.url_for("federation:network", slug=org.slug).path
    query = urlencode({k: v for k, v in search.items() if v})
    response = RedirectResponse(url + ("?" + query if query else ""), status_code=303)
    flash(request, response, message, level)
    return response


@page()
async def network_cancel(request: Request) -> Response:
    org = await current_org(request, Action.NETWORK_READ)
    exchange = await FederatedExchange.get_or_none(
        id=int(request.path_params["exchange_id"]), local_organization_id=org.id
    )
    if exchange is None:
        raise NotFound("exchange_request")
    if not confirmed(await request.form()):
        return confirm_page(
            request,
            title=_(request, N_("Cancel your request for “{title}”?"), title=exchange.item_title),
            consequence=_(
                request, N_("The partner is told at once; to get the item later, you will have to ask again.")
            ),
            button=_(request, N_("Yes, cancel the request")),
            cancel_url=request.url_for("federation:network", slug=org.slug).path,
        )
    try:
        await cancel_mirrored_request(request.state.principal, exchange.id)
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
    else:
        message, level = _(request, N_("Request updated.")), "success"
    response = RedirectResponse(request.url_for("federation:network", slug=org.slug).path, status_code=303)
    flash(request, response, message, level)
    return response


@page()
async def account_partners(request: Request) -> Response:
    """The member chooses, organization by organization, to be recognised by its partners."""
    principal = request.state.principal
    orgs = request.state.web_context["my_orgs"]
    if request.method == "POST":
        form = await request.form()
        try:
            organization_id = int(str(form.get("organization_id", "")))
        except ValueError:
            raise NotFound("membership") from None
        consent = form.get("consent") == "yes"
        try:
            await set_partner_recognition(principal, organization_id, consent)
        except ServiceError as error:
            message, level = error.text(request.state.locale), "error"
        else:
            message = _(
                request,
                N_("Partners of this organization can now recognise you.")
                if consent
                else N_("Partners will no longer recognise you; they have been asked to forget you."),
            )
            level = "success"
        response = RedirectResponse(request.url_for("federation:account_partners").path, status_code=303)
        flash(request, response, message, level)
        return response
    shared = set(await SharedProfile.filter(user_id=principal.user_id).values_list("organization_id", flat=True))
    return render(request, "account_partners.html", {"orgs": orgs, "shared": shared})


def federation_object_routes() -> list[BaseRoute]:
    """Routes of the objects half (the transport half serves actors, inboxes, outboxes)."""
    return [
        Route("/ap/context.jsonld", context_document, name="federation:context"),
        Route("/o/{slug}/network", network_search, name="federation:network"),
        Route("/o/{slug}/network/request", network_request, methods=["POST"], name="federation:network_request"),
        Route(
            "/o/{slug}/network/exchanges/{exchange_id:int}/cancel",
            network_cancel,
            methods=["POST"],
            name="federation:network_cancel",
        ),
        Route("/account/partners", account_partners, methods=["GET", "POST"], name="federation:account_partners"),
    ]
