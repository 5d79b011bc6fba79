"""The federation's HTTP surface: discovery, actors, inboxes and outboxes."""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.expressions import Q

from fabcom.federation import actors, config, discovery, inbox, outbox
from fabcom.federation.models import Audience, OutboxActivity
from fabcom.federation.signatures import signed_partner
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization

logger = logging.getLogger("fabcom.federation")

AP_TYPES = ("application/activity+json", "application/ld+json", "application/json")


def _json(document: object, content_type: str = config.AP_CONTENT_TYPE, status: int = 200) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type=content_type)


def _ap_response(request: Request, document: object) -> Response:
    """Answer with the media type the client asked for (activity+json by default)."""
    accept = request.headers.get("accept", "")
    content_type = config.LD_CONTENT_TYPE if "application/ld+json" in accept else config.AP_CONTENT_TYPE
    response = _json(document, content_type)
    response.headers["vary"] = "Accept, Signature"
    return response


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept and not any(t in accept for t in AP_TYPES)


def _not_found() -> Response:
    return _json({"error": "not found"}, "application/json", 404)


async def _local_org(request: Request) -> Organization | None:
    return await Organization.get_or_none(slug=request.path_params["slug"], is_local=True)


async def actor(request: Request) -> Response:
    org = await _local_org(request)
    if org is None:
        return _not_found()
    if wants_html(request):
        return RedirectResponse(actors.web_url(org), status_code=303)
    return _ap_response(request, await actors.organization_actor(org))


async def application_actor(request: Request) -> Response:
    if wants_html(request):
        return RedirectResponse(f"{config.base_url()}/", status_code=303)
    return _ap_response(request, await actors.application_actor())


async def empty_collection(request: Request) -> Response:
    """Followers, following and the application actor's outbox: counted, never listed."""
    total = 0
    if "slug" in request.path_params:
        org = await _local_org(request)
        if org is None:
            return _not_found()
        total = await Partnership.filter(
            Q(organization_id=org.id) | Q(partner_id=org.id), status=PartnershipStatus.ACCEPTED
        ).count()
    url = f"{config.base_url()}{request.url.path}"
    return _ap_response(
        request, {"@context": config.AS_CONTEXT, "id": url, "type": "OrderedCollection", "totalItems": total}
    )


async def outbox_view(request: Request) -> Response:
    org = await _local_org(request)
    if org is None:
        return _not_found()
    partner = await signed_partner(request, org) is not None
    params = request.query_params
    if "page" not in params:
        document = await outbox.collection(org, partner)
    else:
        try:
            after = int(params["after"]) if params.get("after") else None
            before = int(params["before"]) if params.get("before") else None
        except ValueError:
            return _json({"error": "after and before are activity numbers"}, "application/json", 400)
        document = await outbox.page(org, partner, after=after, before=before)
    response = _ap_response(request, document)
    response.headers["cache-control"] = "private, no-store" if partner else "public, max-age=60"
    return response


async def object_view(request: Request) -> Response:
    """An object's id (``/ap/items/<n>``, ``/ap/projects/<n>``…) serves its latest published
    state, and an activity's id the activity: public ones to anyone, partner-only ones only
    to a signed fetch by an accepted partner (anyone else gets 404, as if it did not
    exist); a deleted object is a 410 Tombstone. Direct activities are never served."""
    uri = f"{config.base_url()}{request.url.path}"
    field = "activity_uri" if request.url.path.startswith("/ap/activities/") else "object_uri"
    row = (
        await OutboxActivity.filter(**{field: uri}, audience__in=[Audience.PUBLIC, Audience.PARTNERS])
        .order_by("-id")
        .select_related("organization")
        .first()
    )
    if row is None:
        return _not_found()
    if row.audience == Audience.PARTNERS and await signed_partner(request, row.organization) is None:
        return _not_found()
    if field == "activity_uri":
        response = _ap_response(request, row.payload)
    else:
        obj = row.payload.get("object")
        if row.type == "Delete":
            tombstone = obj if isinstance(obj, dict) else {"id": uri, "type": "Tombstone"}
            response = _json({"@context": config.AS_CONTEXT, **tombstone}, config.AP_CONTENT_TYPE, 410)
        elif not isinstance(obj, dict):
            return _not_found()
        else:
            response = _ap_response(request, {"@context": row.payload.get("@context", config.AS_CONTEXT), **obj})
    response.headers["vary"] = "Accept, Signature"
    response.headers["cache-control"] = (
        "private, no-store" if row.audience == Audience.PARTNERS else "public, max-age=60"
    )
    return response


async def org_inbox(request: Request) -> Response:
    org = await _local_org(request)
    if org is None:
        return _not_found()
    return await _receive(request, org)


async def shared_inbox(request: Request) -> Response:
    return await _receive(request, None)


async def _receive(request: Request, org: Organization | None) -> Response:
    try:
        await inbox.receive(request, org)
    except inbox.Refusal as refusal:
        logger.info("inbox %s: refused (%s)", request.url.path, refusal)
        return _json({"error": refusal.reason}, "application/json", refusal.status)
    return Response(status_code=202)


async def webfinger(request: Request) -> Response:
    resource = request.query_params.get("resource", "")
    document = await discovery.webfinger(resource) if resource else None
    if document is None:
        return _json({"error": "unknown resource"}, "application/json", 404 if resource else 400)
    response = _json(document, "application/jrd+json")
    response.headers["access-control-allow-origin"] = "*"
    return response


async def nodeinfo_links(request: Request) -> Response:
    return _json(discovery.nodeinfo_links(), "application/json")


async def nodeinfo(request: Request) -> Response:
    return _json(await discovery.nodeinfo(), discovery.NODEINFO_CONTENT_TYPE)


async def host_meta(request: Request) -> Response:
    return PlainTextResponse(discovery.host_meta(), media_type="application/xrd+xml")


def federation_routes() -> list[BaseRoute]:
    return [
        Route("/.well-known/webfinger", webfinger, name="federation:webfinger"),
        Route("/.well-known/nodeinfo", nodeinfo_links, name="federation:nodeinfo_links"),
        Route("/.well-known/host-meta", host_meta, name="federation:host_meta"),
        Route("/nodeinfo/2.1", nodeinfo, name="federation:nodeinfo"),
        Route("/ap/actor", application_actor, name="federation:application_actor"),
        Route("/ap/actor/outbox", empty_collection, name="federation:application_outbox"),
        Route("/ap/inbox", shared_inbox, methods=["POST"], name="federation:shared_inbox"),
        Route("/ap/o/{slug}", actor, name="federation:actor"),
        Route("/ap/o/{slug}/inbox", org_inbox, methods=["POST"], name="federation:inbox"),
        Route("/ap/o/{slug}/outbox", outbox_view, name="federation:outbox"),
        Route("/ap/o/{slug}/followers", empty_collection, name="federation:followers"),
        Route("/ap/o/{slug}/following", empty_collection, name="federation:following"),
        Route("/ap/activities/{key}", object_view, name="federation:activity"),
        Route("/ap/items/{key}", object_view, name="federation:item"),
        Route("/ap/projects/{key}", object_view, name="federation:project"),
    ]
