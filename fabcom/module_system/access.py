"""The plain data of access rules — API token scopes and module permissions — with no
database import.

Module discovery imports every installed module's manifest, and the manifest checks its
scopes and permissions against these: keeping them apart from ``fabcom.permissions``
(which reads memberships through the ORM) lets ``fabcom check``, the settings'
validation and any tool that lists modules run without loading Tortoise and every model.
``fabcom.permissions`` re-exports them and applies them (``Principal.can``).
"""

from __future__ import annotations

from dataclasses import dataclass

from fabcom.i18n import N_

# The values of ``fabcom.members.models.Role`` (which lives with the ORM models);
# ``fabcom.permissions`` refuses to import if the two ever differ.
ROLE_NAMES = ("owner", "admin", "staff", "volunteer", "member")


@dataclass(frozen=True)
class Scope:
    """A scope an API token may hold: ``code`` (``inventory:read``; a module's start with its
    slug, ``bookings:read``), and its ``name`` and ``help``, English message ids shown
    translated where a person picks the scopes of a token."""

    code: str
    name: str
    help: str


@dataclass(frozen=True)
class Permission:
    """A module's own right, declared in its manifest (``Module(permissions=...)``) and
    checked like a core action: ``actor.can(MANAGE, organization_id)``.

    ``code`` is ``<slug>.<verb>``; ``roles`` are the roles (``"owner"``, ``"admin"``,
    ``"staff"``, ``"volunteer"``, ``"member"``) that hold it in an organization; ``scope``
    is the API token scope acting through a token needs (one the module declares, or a
    core one). A read may ask another scope of the same roles: ``can(MANAGE, org_id,
    scope="bookings:read")``. Declaring the roles here, rather than borrowing a core
    action's, keeps the module's rule in one place the module owns."""

    code: str
    roles: tuple[str, ...]
    scope: str


# The core's scopes, in the order the tokens page lists them; the enabled modules' follow
# (``fabcom.permissions.known_scopes``). Their codes are those of
# ``fabcom.permissions.ACTION_SCOPES`` (a test checks it).
CORE_SCOPES: tuple[Scope, ...] = (
    Scope(
        "inventory:read",
        N_("Read the inventory"),
        N_("See your organizations' items, their stock and movements, and the items partners share with you."),
    ),
    Scope(
        "inventory:write",
        N_("Change the inventory"),
        N_("Create and edit items, record donations, sales and other movements, remove items."),
    ),
    Scope(
        "members:read",
        N_("Read the members"),
        N_("See members, their roles and fees: personal data, give it only to a tool you trust."),
    ),
    Scope("members:write", N_("Manage the members"), N_("Add members, change their roles and record their fees.")),
    Scope("network:read", N_("Read the partnerships"), N_("See partnerships and exchange requests.")),
    Scope(
        "network:write",
        N_("Act with partners"),
        N_("Ask for partnerships and items, and answer exchange requests."),
    ),
    Scope(
        "org:admin",
        N_("Administer the organization"),
        N_("Change the organization's settings (profile, modules, webhooks). Rarely needed."),
    ),
    Scope("projects:read", N_("Read the projects"), N_("See projects, their tasks, needs and documentation.")),
    Scope("projects:write", N_("Change the projects"), N_("Create and edit projects and their tasks.")),
)
SCOPES = tuple(scope.code for scope in CORE_SCOPES)
