"""WebFinger, NodeInfo 2.1 and host-meta: how other servers find this instance's actors."""

from __future__ import annotations

from typing import Any

from fabcom import __version__
from fabcom.federation import config
from fabcom.federation.actors import web_url
from fabcom.orgs.models import Organization

NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_CONTENT_TYPE = f'application/json; profile="{NODEINFO_SCHEMA}#"'


async def webfinger(resource: str) -> dict[str, Any] | None:
    """The JRD of ``acct:<slug>@<host>`` (or of an actor id), None when it is not ours."""
    org: Organization | None = None
    if resource.startswith("acct:"):
        user, _, host = resource[len("acct:") :].rpartition("@")
        if host.lower() != config.host().lower() or not user:
            return None
        if user == config.host().split(":")[0]:
            return _jrd(f"acct:{user}@{config.host()}", config.application_actor_uri(), f"{config.base_url()}/")
        org = await Organization.get_or_none(slug=user, is_local=True)
    elif resource.startswith(f"{config.base_url()}/ap/o/"):
        org = await Organization.get_or_none(slug=resource.rsplit("/", 1)[-1], is_local=True)
    if org is None:
        return None
    return _jrd(f"acct:{org.slug}@{config.host()}", config.org_actor_uri(org.slug), web_url(org))


def _jrd(subject: str, actor: str, page: str) -> dict[str, Any]:
    return {
        "subject": subject,
        "aliases": [actor],
        "links": [
            {"rel": "self", "type": config.AP_CONTENT_TYPE, "href": actor},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": page},
        ],
    }


def nodeinfo_links() -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": f"{config.base_url()}/nodeinfo/2.1"}]}


async def nodeinfo() -> dict[str, Any]:
    from fabcom.auth.models import User
    from fabcom.federation.models import OutboxActivity

    organizations = await Organization.filter(is_local=True).count()
    return {
        "version": "2.1",
        "software": {
            "name": "fabcom",
            "version": __version__,
            "homepage": config.base_url() + "/",
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {
            "users": {"total": await User.all().count()},
            "localPosts": await OutboxActivity.all().count(),
        },
        "metadata": {"organizations": organizations},
    }


def host_meta() -> str:
    template = f"{config.base_url()}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/jrd+json" template="{template}"/>\n'
        "</XRD>\n"
    )


async def resolve_address(address: str) -> str:
    """The actor id behind ``slug@host`` (through the host's WebFinger) or an actor URL."""
    from fabcom.federation import remote

    address = address.strip().removeprefix("acct:").lstrip("@")
    if address.startswith(("http://", "https://")):
        return address
    user, _, host = address.rpartition("@")
    if not user or not host:
        raise remote.FetchError(f"{address!r} is neither slug@host nor an actor URL")
    scheme = "http" if config.allow_private() and _looks_local(host) else "https"
    jrd = await remote.get_json(
        f"{scheme}://{host}/.well-known/webfinger?resource=acct:{user}@{host}", accept="application/jrd+json"
    )
    links = jrd.get("links") if isinstance(jrd, dict) else None
    for link in links if isinstance(links, list) else []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and str(link.get("type", "")).split(";")[0] in ("application/activity+json", "application/ld+json")
            and isinstance(link.get("href"), str)
        ):
            return str(link["href"])
    raise remote.FetchError(f"{address}: WebFinger names no ActivityPub actor")


def _looks_local(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in ("localhost", "127.0.0.1", "[::1]") or name.startswith("127.")
