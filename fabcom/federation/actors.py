"""Actor documents: each local organization is a ``Group``; the instance itself is an
``Application`` (it signs instance-level fetches such as key lookups)."""

from __future__ import annotations

from typing import Any

from fabcom.federation import config
from fabcom.federation.keys import application_key, organization_keys
from fabcom.orgs.models import Organization

CONTEXT: list[Any] = [
    config.AS_CONTEXT,
    config.SECURITY_CONTEXT,
    {"manuallyApprovesFollowers": "as:manuallyApprovesFollowers"},
]
# FEP-521a's terms, spelled out as https://w3id.org/security/multikey/v1 defines them (so a
# JSON-LD reader needs no third remote context).
MULTIKEY_TERMS: dict[str, Any] = {
    "Multikey": "https://w3id.org/security#Multikey",
    "assertionMethod": {"@id": "https://w3id.org/security#assertionMethod", "@type": "@id", "@container": "@set"},
    "controller": {"@id": "https://w3id.org/security#controller", "@type": "@id"},
    "publicKeyMultibase": {
        "@id": "https://w3id.org/security#publicKeyMultibase",
        "@type": "https://w3id.org/security#multibase",
    },
}
ORGANIZATION_CONTEXT: list[Any] = [*CONTEXT[:2], {**CONTEXT[2], **MULTIKEY_TERMS}]


def web_url(org: Organization) -> str:
    return f"{config.base_url()}/o/{org.slug}/"


async def organization_actor(org: Organization) -> dict[str, Any]:
    uri = config.org_actor_uri(org.slug)
    key, multikey = await organization_keys(org.id, org.slug)
    document: dict[str, Any] = {
        "@context": ORGANIZATION_CONTEXT,
        "id": uri,
        "type": "Group",
        "preferredUsername": org.slug,
        "name": org.name,
        "summary": org.description,
        "url": web_url(org),
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "following": f"{uri}/following",
        "endpoints": {"sharedInbox": f"{config.base_url()}/ap/inbox"},
        "manuallyApprovesFollowers": True,
        "discoverable": True,
        "published": org.created_at.isoformat().replace("+00:00", "Z"),
        "publicKey": {"id": key.key_id, "owner": uri, "publicKeyPem": key.public_key_pem},
        "assertionMethod": [multikey.document()],
    }
    return document


async def application_actor() -> dict[str, Any]:
    uri = config.application_actor_uri()
    key = await application_key()
    return {
        "@context": CONTEXT,
        "id": uri,
        "type": "Application",
        "preferredUsername": config.host().split(":")[0],
        "name": "fabcom",
        "url": f"{config.base_url()}/",
        "inbox": f"{config.base_url()}/ap/inbox",
        "outbox": f"{uri}/outbox",
        "endpoints": {"sharedInbox": f"{config.base_url()}/ap/inbox"},
        "manuallyApprovesFollowers": True,
        "publicKey": {"id": key.key_id, "owner": uri, "publicKeyPem": key.public_key_pem},
    }


def local_slug(actor_uri: str) -> str | None:
    """The slug of a local organization's actor id, None when the id is not one of ours."""
    prefix = f"{config.base_url()}/ap/o/"
    if not actor_uri.startswith(prefix):
        return None
    slug = actor_uri[len(prefix) :]
    return slug if slug and "/" not in slug and "#" not in slug and "?" not in slug else None


async def local_organization(actor_uri: str) -> Organization | None:
    slug = local_slug(actor_uri)
    if slug is None:
        return None
    return await Organization.get_or_none(slug=slug, is_local=True)
