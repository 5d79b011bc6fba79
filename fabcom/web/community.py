"""Projects, members and fees, partners and exchange requests, and personal API tokens."""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import nh3
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.expressions import Q

from fabcom import clock
from fabcom.auth.models import ApiToken
from fabcom.auth.services import create_api_token, revoke_api_token
from fabcom.errors import NotFound, PermissionDenied, ServiceError
from fabcom.i18n import N_
from fabcom.members.models import Membership, MembershipFee, PaymentMethod
from fabcom.members.services import invite_member, pending_invitations, record_fee, update_membership
from fabcom.network.models import ExchangeRequest, Partnership
from fabcom.network.services import (
    MODE_FOR_KIND,
    create_exchange_request,
    request_partnership,
    respond_exchange_request,
    respond_partnership,
)
from fabcom.network.shared import local_partner_item
from fabcom.orgs.models import Organization
from fabcom.permissions import Action, known_scopes
from fabcom.projects.models import Project, Task, TaskStatus
from fabcom.projects.services import get_project_for, update_task
from fabcom.web import exports
from fabcom.web.inventory import _decimal_text
from fabcom.web.pages import confirm_page, confirmed, current_org, field_errors, page
from fabcom.web.templating import _, flash, is_htmx, render, see_other

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@functools.cache
def _markdown() -> MarkdownIt:
    # Imported and built on the first project page, not at start-up: markdown-it costs
    # ~30-45 ms of CPU to import, paid by every web process before its first answer.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_markdown(text: str) -> Markup:
    """Markdown to HTML, then sanitised by nh3: no script, no event handler, no
    ``javascript:`` link, links marked ``rel="noopener noreferrer nofollow"``."""
    return Markup(nh3.clean(_markdown().render(text or ""), link_rel="noopener noreferrer nofollow"))  # noqa: S704 - sanitised by nh3


# --- projects -----------------------------------------------------------------------------


@page()
async def project_list(request: Request) -> Response:
    org = await current_org(request, Action.PROJECTS_READ)
    projects = (
        await Project.filter(Q(lead_organization_id=org.id) | Q(partner_organizations__id=org.id))
        .filter(request.state.principal.visibility_filter("projects", "lead_organization_id"))
        .distinct()
        .prefetch_related("lead_organization")
    )
    return render(request, "project_list.html", {"projects": projects})


async def _org_project(request: Request, org: Organization, project_id: int) -> Project:
    project = await get_project_for(request.state.principal, project_id)
    partner_ids = await project.partner_organizations.all().values_list("id", flat=True)
    if project.lead_organization_id != org.id and org.id not in partner_ids:  # type: ignore[attr-defined]
        raise NotFound("project")
    return project


async def _board(project: Project) -> dict[str, Any]:
    tasks = await Task.filter(project_id=project.id).prefetch_related("assignee")
    return {
        "project": project,
        "columns": [(status, [t for t in tasks if t.status == status]) for status in TaskStatus],
    }


@page()
async def project_detail(request: Request) -> Response:
    org = await current_org(request, Action.PROJECTS_READ)
    project = await _org_project(request, org, int(request.path_params["project_id"]))
    await project.fetch_related("lead_organization", "partner_organizations", "participants", "needs__category")
    description = await asyncio.to_thread(render_markdown, project.description)
    can_write = request.state.principal.can(Action.PROJECTS_WRITE, project.lead_organization_id)  # type: ignore[attr-defined]
    return render(
        request,
        "project_detail.html",
        {**await _board(project), "description": description, "can_write_project": can_write},
    )


@page()
async def task_status(request: Request) -> Response:
    """Move a task on the board (htmx swaps the board)."""
    org = await current_org(request, Action.PROJECTS_READ)
    task = await Task.get_or_none(id=int(request.path_params["task_id"]))
    if task is None:
        raise NotFound("task")
    project = await _org_project(request, org, task.project_id)  # type: ignore[attr-defined]
    form = await request.form()
    error = ""
    try:
        await update_task(request.state.principal, task.id, {"status": str(form.get("status", ""))})
    except ServiceError as exc:
        error = exc.text(request.state.locale)
    if not is_htmx(request):
        response = RedirectResponse(
            request.url_for("web:project_detail", slug=org.slug, project_id=project.id).path, status_code=303
        )
        if error:
            flash(request, response, error, "error")
        return response
    can_write = request.state.principal.can(Action.PROJECTS_WRITE, project.lead_organization_id)  # type: ignore[attr-defined]
    return render(
        request,
        "project_detail.html",
        {**await _board(project), "board_error": error, "can_write_project": can_write},
        fragment="_project_board.html",
        status_code=400 if error else 200,
    )


# --- members and fees -------------------------------------------------------------------------


async def _members(org: Organization) -> list[dict[str, Any]]:
    today = clock.today()
    memberships = await Membership.filter(organization_id=org.id).prefetch_related("user").order_by("id")
    fees = await MembershipFee.filter(membership__organization_id=org.id).order_by("-period_end")
    latest: dict[int, MembershipFee] = {}
    for paid in fees:
        latest.setdefault(paid.membership_id, paid)  # type: ignore[attr-defined]
    rows = []
    for m in memberships:
        fee = latest.get(m.id)
        active = m.valid_from <= today and (m.valid_until is None or m.valid_until >= today)
        rows.append({"m": m, "fee": fee, "active": active, "due": active and (fee is None or fee.period_end < today)})
    return sorted(rows, key=lambda r: r["m"].user.display_name.lower())


@page()
async def member_list(request: Request) -> Response:
    org = await current_org(request, Action.MEMBERS_READ)
    rows = await _members(org)
    due_only = request.query_params.get("due") == "1"
    today = clock.today()
    values: dict[str, Any] = {
        "period_start": today.replace(month=1, day=1).isoformat(),
        "period_end": today.replace(month=12, day=31).isoformat(),
        "paid_on": today.isoformat(),
        "method": "cash",
    }
    errors: dict[str, str] = {}
    invite_values: dict[str, Any] = {"role": "member"}
    invite_errors: dict[str, str] = {}
    form = await request.form() if request.method == "POST" else None
    if form is not None and form.get("form") == "invite":
        invite_values = {k: str(form.get(k, "")).strip() for k in ("email", "role")}
        try:
            await invite_member(request.state.principal, org.id, invite_values)
        except ServiceError as error:
            invite_errors = field_errors(error, request.state.locale)
        else:
            response = RedirectResponse(request.url_for("web:member_list", slug=org.slug).path, status_code=303)
            flash(request, response, _(request, N_("Invitation sent to {email}."), email=invite_values["email"]))
            return response
    elif form is not None:
        if not request.state.principal.can(Action.MEMBERS_WRITE, org.id):
            raise PermissionDenied()
        values = {
            k: str(form.get(k, ""))
            for k in ("membership_id", "amount", "period_start", "period_end", "paid_on", "method", "note")
        }
        membership = await Membership.get_or_none(
            id=int(values["membership_id"]) if values["membership_id"].isdigit() else 0, organization_id=org.id
        )
        if membership is None:
            errors["membership_id"] = _(request, N_("This field is required."))
        else:
            data = {k: v for k, v in values.items() if k != "membership_id" and v != ""}
            if "amount" in data:
                data["amount"] = _decimal_text(data["amount"])
            try:
                await record_fee(request.state.principal, membership.id, data)
            except ServiceError as error:
                errors = field_errors(error, request.state.locale)
            else:
                response = RedirectResponse(request.url_for("web:member_list", slug=org.slug).path, status_code=303)
                flash(request, response, _(request, N_("Fee recorded.")))
                return response
    return render(
        request,
        "member_list.html",
        {
            "rows": [r for r in rows if r["due"]] if due_only else rows,
            "due_count": sum(1 for r in rows if r["due"]),
            "due_only": due_only,
            "methods": list(PaymentMethod),
            "values": values,
            "errors": errors,
            "invitations": await pending_invitations(request.state.principal, org.id),
            "invite_values": invite_values,
            "invite_errors": invite_errors,
            "now": clock.now(),
        },
        status_code=400 if errors or invite_errors else 200,
    )


@page()
async def member_export(request: Request) -> Response:
    org = await current_org(request, Action.MEMBERS_READ)
    locale = request.state.locale
    rows = await _members(org)
    header = [
        _(request, N_("Name")),
        _(request, N_("E-mail address")),
        _(request, N_("Role")),
        _(request, N_("Member since")),
        _(request, N_("Until")),
        _(request, N_("Paid until")),
        _(request, N_("Fee due")),
    ]
    data = [
        [
            exports.defuse(r["m"].user.display_name),
            exports.defuse(r["m"].user.email),
            r["m"].role.value,
            r["m"].valid_from.isoformat(),
            r["m"].valid_until.isoformat() if r["m"].valid_until else "",
            r["fee"].period_end.isoformat() if r["fee"] else "",
            _(request, N_("yes")) if r["due"] else _(request, N_("no")),
        ]
        for r in rows
    ]
    content = exports.write_csv(header, data, locale)
    return Response(
        content,
        media_type=exports.FORMATS["csv"].media_type,
        headers={"Content-Disposition": f'attachment; filename="{org.slug}-membres.csv"', "Cache-Control": "no-store"},
    )


@page()
async def member_role(request: Request) -> Response:
    org = await current_org(request, Action.MEMBERS_WRITE)
    membership = await Membership.get_or_none(id=int(request.path_params["membership_id"]), organization_id=org.id)
    if membership is None:
        raise NotFound("membership")
    form = await request.form()
    try:
        await update_membership(request.state.principal, membership.id, {"role": str(form.get("role", ""))})
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
    else:
        message, level = _(request, N_("Role changed.")), "success"
    response = RedirectResponse(request.url_for("web:member_list", slug=org.slug).path, status_code=303)
    flash(request, response, message, level)
    return response


# --- partners, exchange requests and the network search ---------------------------------------------


async def _partners_context(request: Request, org: Organization) -> dict[str, Any]:
    links = await Partnership.filter(Q(organization_id=org.id) | Q(partner_id=org.id)).prefetch_related(
        "organization", "partner"
    )
    exchanges = await ExchangeRequest.filter(
        Q(owner_organization_id=org.id) | Q(requester_organization_id=org.id)
    ).prefetch_related("item", "owner_organization", "requester_organization")
    return {"links": links, "exchanges": exchanges}


@page()
async def partners(request: Request) -> Response:
    """Partnerships and exchange requests. Searching the partners' items is the network
    search's job (one page for partners here and on other servers): an old search link
    (``?q=``) lands there."""
    org = await current_org(request, Action.NETWORK_READ)
    if "q" in request.query_params:
        target = request.url_for("federation:network", slug=org.slug).path
        q = request.query_params.get("q", "").strip()[:200]
        url = target + ("?" + urlencode({"q": q}) if q else "")
        return see_other(request, url)
    return render(request, "partners.html", await _partners_context(request, org))


@page()
async def partnership_new(request: Request) -> Response:
    """Ask an organization to become partners: a slug here, or name@server / an actor URL
    for an organization on another server (a Follow is sent)."""
    org = await current_org(request, Action.NETWORK_WRITE)
    form = await request.form()
    address = str(form.get("address", "")).strip()
    remote = "@" in address or address.startswith(("http://", "https://"))
    data = {
        "partner_address" if remote else "partner_slug": address,
        "message": str(form.get("message", "")),
    }
    try:
        await request_partnership(request.state.principal, org.id, data)
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
    else:
        message, level = _(request, N_("Partnership request sent.")), "success"
    response = RedirectResponse(request.url_for("web:partners", slug=org.slug).path, status_code=303)
    flash(request, response, message, level)
    return response


@page()
async def partnership_action(request: Request) -> Response:
    """Accept, refuse or block a partnership (the answer reaches a remote partner too)."""
    org = await current_org(request, Action.NETWORK_WRITE)
    link = await Partnership.get_or_none(id=int(request.path_params["partnership_id"]))
    if link is None or org.id not in (link.organization_id, link.partner_id):  # type: ignore[attr-defined]
        raise NotFound("partnership")
    action = request.path_params["action"]
    if action == "block" and not confirmed(await request.form()):
        await link.fetch_related("organization", "partner")
        other = link.partner if link.organization_id == org.id else link.organization  # type: ignore[attr-defined]
        return confirm_page(
            request,
            title=_(request, N_("Block {name}?"), name=other.name),
            consequence=_(
                request,
                N_(
                    "The partnership ends: {name} no longer sees your shared items, you no longer see theirs, "
                    "their requests stop and they cannot ask to be partners again."
                ),
                name=other.name,
            ),
            button=_(request, N_("Yes, block {name}"), name=other.name),
            cancel_url=request.url_for("web:partners", slug=org.slug).path,
        )
    try:
        await respond_partnership(request.state.principal, link.id, action)
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
    else:
        message, level = _(request, N_("Partnership updated.")), "success"
    response = RedirectResponse(request.url_for("web:partners", slug=org.slug).path, status_code=303)
    flash(request, response, message, level)
    return response


@page()
async def exchange_new(request: Request) -> Response:
    """Ask a partner for an item. From the network search, the answer goes where the
    person asked: htmx gets that row back with it (and what was typed), a plain form
    goes back to the same search with a message naming the item."""
    org = await current_org(request, Action.NETWORK_WRITE)
    form = await request.form()
    data = {
        "item_id": str(form.get("item_id", "")),
        "kind": str(form.get("kind", "")),
        "quantity": _decimal_text(str(form.get("quantity", "1"))) or "1",
        "message": str(form.get("message", "")),
    }
    from_search = form.get("back") == "network"
    field = ""
    try:
        await create_exchange_request(request.state.principal, org.id, data)
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
        field = (error.errors[0].field or "") if error.errors else ""
    else:
        message, level = _(request, N_("Request sent.")), "success"
    if not from_search:
        response = RedirectResponse(request.url_for("web:partners", slug=org.slug).path, status_code=303)
        flash(request, response, message, level)
        return response
    search = {name: str(form.get(name, "")).strip()[:200] for name in ("q", "category")}
    item = await local_partner_item(request.state.principal, org.id, data["item_id"])
    if item is not None:  # the search lists many rows: say which one the answer is about
        message = _(request, N_("{title}: {answer}"), title=item.title, answer=message)
    if is_htmx(request):
        context = {
            "origin": "local",
            "row": item,
            "item_id": data["item_id"] if data["item_id"].isdigit() else "",
            "asked": {
                "text": message,
                "level": level,
                "field": field,
                "kind": data["kind"],
                "quantity": str(form.get("quantity", "1"))[:20],
            },
            "sharing_for_kind": {kind.value: mode.value for kind, mode in MODE_FOR_KIND.items()},
            "already_asked": {"local": {item.id} if item is not None and level == "success" else set()},
            **search,
        }
        return render(request, "_network_search_row.html", context, status_code=400 if level == "error" else 200)
    url = request.url_for("federation:network", slug=org.slug).path
    query = urlencode({k: v for k, v in search.items() if v})
    response = RedirectResponse(url + ("?" + query if query else ""), status_code=303)
    flash(request, response, message, level)
    return response


# Answers that cannot be taken back: (title, consequence, button).
IRREVERSIBLE_EXCHANGE_ACTIONS = {
    "decline": (
        N_("Decline the request for “{title}”?"),
        N_("The partner is told at once, and this request cannot be accepted afterwards."),
        N_("Yes, decline"),
    ),
    "cancel": (
        N_("Cancel your request for “{title}”?"),
        N_("The partner is told at once; to get the item later, you will have to ask again."),
        N_("Yes, cancel the request"),
    ),
}


@page()
async def exchange_action(request: Request) -> Response:
    org = await current_org(request, Action.NETWORK_READ)
    exchange = await ExchangeRequest.get_or_none(id=int(request.path_params["exchange_id"]))
    if exchange is None or org.id not in (exchange.owner_organization_id, exchange.requester_organization_id):  # type: ignore[attr-defined]
        raise NotFound("exchange_request")
    form = await request.form()
    action = request.path_params["action"]
    if action in IRREVERSIBLE_EXCHANGE_ACTIONS and not confirmed(form):
        await exchange.fetch_related("item")
        title, consequence, button = IRREVERSIBLE_EXCHANGE_ACTIONS[action]
        return confirm_page(
            request,
            title=_(request, title, title=exchange.item.title),
            consequence=_(request, consequence),
            button=_(request, button),
            cancel_url=request.url_for("web:partners", slug=org.slug).path,
            fields={"message": str(form.get("message", ""))},
        )
    try:
        await respond_exchange_request(request.state.principal, exchange.id, action, str(form.get("message", "")))
    except ServiceError as error:
        message, level = error.text(request.state.locale), "error"
    else:
        message, level = _(request, N_("Request updated.")), "success"
    response = RedirectResponse(request.url_for("web:partners", slug=org.slug).path, status_code=303)
    flash(request, response, message, level)
    return response


# --- personal API tokens ---------------------------------------------------------------------------


@page()
async def tokens(request: Request) -> Response:
    """Create a token with scopes (its secret is shown once) or revoke one."""
    principal = request.state.principal
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"name": "", "scopes": [], "expires_in_days": "90"}
    secret = ""
    if request.method == "POST":
        form = await request.form()
        if form.get("revoke"):
            try:
                token_id = int(str(form.get("revoke")))
            except ValueError:
                raise NotFound("token") from None
            if not confirmed(form):
                token = await ApiToken.get_or_none(id=token_id, user_id=principal.user_id, revoked_at__isnull=True)
                if token is None:
                    raise NotFound("token")
                return confirm_page(
                    request,
                    title=_(request, N_("Revoke the token “{name}”?"), name=token.name),
                    consequence=_(
                        request,
                        N_(
                            "The tools using it stop working at once. A revoked token cannot be used again: "
                            "create a new one if needed."
                        ),
                    ),
                    button=_(request, N_("Yes, revoke the token")),
                    cancel_url="/account/tokens",
                    fields={"revoke": str(token.id)},
                )
            try:
                await revoke_api_token(principal, token_id)
            except ServiceError:
                raise NotFound("token") from None
            response = RedirectResponse("/account/tokens", status_code=303)
            flash(request, response, _(request, N_("Token revoked.")))
            return response
        values = {
            "name": str(form.get("name", "")),
            "scopes": [str(s) for s in form.getlist("scopes")],
            "expires_in_days": str(form.get("expires_in_days", "")),
        }
        try:
            _token, secret = await create_api_token(
                principal,
                principal.user_id,
                {**values, "expires_in_days": values["expires_in_days"] or None},
            )
        except ServiceError as error:
            errors = field_errors(error, request.state.locale)
        else:
            values = {"name": "", "scopes": [], "expires_in_days": "90"}
    mine = await ApiToken.filter(user_id=principal.user_id, revoked_at__isnull=True).order_by("-id")
    return render(
        request,
        "tokens.html",
        {
            "tokens": mine,
            "scopes": {scope.code: scope for scope in known_scopes()},
            "values": values,
            "errors": errors,
            "secret": secret,
            "now": clock.now(),
        },
        status_code=400 if errors else 200,
        headers={"Cache-Control": "no-store"},
    )
