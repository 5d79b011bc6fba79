"""The instance's federation settings, read once per process.

Services publish activities without a request at hand, so the instance's public base
URL (``FABCOM_BASE_URL``) and the private-address switch come from here; tests override
them with ``use``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fabcom.settings import Settings, load_settings

_settings: Settings | None = None

AP_CONTENT_TYPE = "application/activity+json"
LD_CONTENT_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def use(value: Settings | None) -> None:
    """Make ``value`` the settings federation reads (None: read the environment again)."""
    global _settings
    _settings = value


def base_url() -> str:
    return settings().public_url.rstrip("/")


def host() -> str:
    """The host (with its port when not the default) that names this instance: acct:slug@host."""
    return urlsplit(base_url()).netloc


def allow_private() -> bool:
    return settings().federation_allow_private_addresses


def org_actor_uri(slug: str) -> str:
    return f"{base_url()}/ap/o/{slug}"


def application_actor_uri() -> str:
    return f"{base_url()}/ap/actor"
