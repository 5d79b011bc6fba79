"""Who may do what: one small table of role × action, the token's scopes, and the
visibility rules. Every service asks here; nothing else decides access.

- A *principal* is the acting user (or nobody), with their valid memberships, the
  organizations partnered with theirs, and — when acting through an API token —
  the token's scopes. A token never exceeds its user's rights.
- Visibility: public objects to anyone; ``partners`` objects to members of the owning
  organization and of its accepted partners; private objects to members of the
  owning organization whose role reads private data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from tortoise.expressions import Q

from fabcom import clock
from fabcom.members.models import Role
from fabcom.module_system.access import CORE_SCOPES, ROLE_NAMES, Permission, Scope
from fabcom.module_system.access import SCOPES as SCOPES  # re-exported: the core's scope codes

if TYPE_CHECKING:
    from fabcom.auth.models import User


class Action(StrEnum):
    INVENTORY_READ = "inventory.read"  # private items and their ledger
    INVENTORY_WRITE = "inventory.write"
    INVENTORY_DELETE = "inventory.delete"
    PROJECTS_READ = "projects.read"  # private projects
    PROJECTS_WRITE = "projects.write"
    MEMBERS_READ = "members.read"
    MEMBERS_WRITE = "members.write"
    NETWORK_READ = "network.read"  # partnerships and exchange requests
    NETWORK_WRITE = "network.write"
    ORG_MANAGE = "org.manage"  # profile, tokens, webhooks


STAFF_AND_UP = frozenset({Role.OWNER, Role.ADMIN, Role.STAFF})
ROLE_ACTIONS: dict[Action, frozenset[Role]] = {
    Action.INVENTORY_READ: STAFF_AND_UP | {Role.VOLUNTEER},
    Action.INVENTORY_WRITE: STAFF_AND_UP | {Role.VOLUNTEER},
    Action.INVENTORY_DELETE: STAFF_AND_UP,
    Action.PROJECTS_READ: STAFF_AND_UP | {Role.VOLUNTEER, Role.MEMBER},
    Action.PROJECTS_WRITE: STAFF_AND_UP | {Role.VOLUNTEER},
    Action.MEMBERS_READ: STAFF_AND_UP,
    Action.MEMBERS_WRITE: frozenset({Role.OWNER, Role.ADMIN}),
    Action.NETWORK_READ: STAFF_AND_UP | {Role.VOLUNTEER},
    Action.NETWORK_WRITE: STAFF_AND_UP,
    Action.ORG_MANAGE: frozenset({Role.OWNER, Role.ADMIN}),
}

# The API token scope an action needs. Reads of public data need no scope at all.
ACTION_SCOPES: dict[Action, str] = {
    Action.INVENTORY_READ: "inventory:read",
    Action.INVENTORY_WRITE: "inventory:write",
    Action.INVENTORY_DELETE: "inventory:write",
    Action.PROJECTS_READ: "projects:read",
    Action.PROJECTS_WRITE: "projects:write",
    Action.MEMBERS_READ: "members:read",
    Action.MEMBERS_WRITE: "members:write",
    Action.NETWORK_READ: "network:read",
    Action.NETWORK_WRITE: "network:write",
    Action.ORG_MANAGE: "org:admin",
}


# The scopes' and module permissions' plain data live apart, free of the ORM, for module
# discovery (fabcom/module_system/access.py); they are re-exported here with the rules.
if tuple(role.value for role in Role) != ROLE_NAMES:
    raise RuntimeError("fabcom.module_system.access.ROLE_NAMES must list the values of Role")


def known_scopes(registry: Iterable[Any] | None = None) -> tuple[Scope, ...]:
    """The scopes a token may hold: the core's, then those the enabled modules (of
    ``registry``, else of the running instance) declare in their manifest
    (``Module(scopes=...)``), in dependency order."""
    if registry is None:
        from fabcom.module_system.registry import active_registry

        registry = active_registry() or ()
    return CORE_SCOPES + tuple(scope for module in registry for scope in module.scopes)


# Seeing partners-only objects is a read of the matching domain.
READ_SCOPE_FOR = {"inventory": "inventory:read", "projects": "projects:read"}


@dataclass(frozen=True)
class Principal:
    """The actor of a request, job or CLI command."""

    user_id: int | None = None
    roles: dict[int, Role] = field(default_factory=dict)  # organization id -> role, valid today
    local_slugs: dict[str, int] = field(default_factory=dict)  # slug -> id, of the local ones of ``roles``
    partner_ids: frozenset[int] = frozenset()  # organizations partnered with one of ``roles``
    scopes: frozenset[str] | None = None  # None: a session (all of the user's rights)
    token_id: int | None = None
    is_instance_admin: bool = False
    # The instance itself (demo loader, jobs acting for nobody): every check passes.
    is_system: bool = False
    locale: str = "fr"

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def can(self, action: Action | Permission, organization_id: int, *, scope: str | None = None) -> bool:
        """May this principal do ``action`` in ``organization_id``? ``action`` is a core
        action or a module's ``Permission`` (``bookings.manage``), held by the roles it
        names. Through a token, it needs the action's scope, or ``scope`` when given (a
        module's permission asked for a read: ``scope="bookings:read"``)."""
        if self.is_system:
            return True
        role = self.roles.get(organization_id)
        if role is None:
            return False
        if isinstance(action, Permission):
            return role in action.roles and self.has_scope(scope or action.scope)
        return role in ROLE_ACTIONS[action] and self.has_scope(scope or ACTION_SCOPES[action])

    def orgs_where(self, action: Action | Permission) -> list[int]:
        return [org_id for org_id in self.roles if self.can(action, org_id)]

    def sees(self, domain: str, visibility: str, organization_id: int) -> bool:
        """May this principal see an object of ``domain`` ("inventory" or "projects")?"""
        if visibility == "public" or self.is_system:
            return True
        if not self.has_scope(READ_SCOPE_FOR[domain]):
            return False
        if visibility == "partners" and (organization_id in self.partner_ids or organization_id in self.roles):
            return True
        read = Action.INVENTORY_READ if domain == "inventory" else Action.PROJECTS_READ
        return self.can(read, organization_id)

    def visibility_filter(self, domain: str, org_field: str = "organization_id") -> Q:
        """The same rule as ``sees`` as a query filter, for lists."""
        if self.is_system:
            return Q()
        condition = Q(visibility="public")
        if not self.has_scope(READ_SCOPE_FOR[domain]):
            return condition
        shared_with = sorted(self.partner_ids | set(self.roles))
        if shared_with:
            condition |= Q(visibility="partners", **{f"{org_field}__in": shared_with})  # type: ignore[arg-type]  # the lookups never include join_type
        read = Action.INVENTORY_READ if domain == "inventory" else Action.PROJECTS_READ
        private = self.orgs_where(read)
        if private:
            condition |= Q(**{f"{org_field}__in": private})  # type: ignore[arg-type]  # the lookups never include join_type
        return condition


ANONYMOUS = Principal()


# The user's memberships valid on a day, each with the accepted partnerships of its
# organization (either side), in one statement: the principal of every request is built
# from it, so it is one round trip rather than one per table. Through a session's key, the
# same statement also returns the session and its account (``SESSION_COLUMNS`` first, then
# one row even when the account has no membership, its organization NULL): a page's
# request then costs one statement before the page's own.
_MEMBERSHIPS = "m.valid_from <= {p2} AND (m.valid_until IS NULL OR m.valid_until >= {p2})"
_PARTNERSHIPS = (
    "LEFT JOIN fabcom_partnership p ON p.status = 'accepted' "
    "AND (p.organization_id = m.organization_id OR p.partner_id = m.organization_id)"
)
# The organization's slug when it is on this instance: a fragment finds the organization of
# its URL among the principal's (``local_slugs``) instead of reading it.
_LOCAL = "LEFT JOIN fabcom_organization o ON o.id = m.organization_id AND o.is_local"
_ROLES = "m.organization_id, m.role, p.organization_id AS a, p.partner_id AS b, o.slug"
# The session's and its account's columns, by the name the caller reads them with.
SESSION_COLUMNS = {
    "session_id": "s.id",
    "csrf_token": "s.csrf_token",
    "expires_at": "s.expires_at",
    "user_id": "u.id",
    "email": "u.email",
    "display_name": "u.display_name",
    "locale": "u.locale",
    "is_active": "u.is_active",
    "is_instance_admin": "u.is_instance_admin",
}
# (S608: the statements are built from the constants above; the values are parameters)
_BY_USER = (
    f"SELECT {_ROLES} FROM fabcom_membership m {_PARTNERSHIPS} {_LOCAL} WHERE m.user_id = {{p1}} AND {_MEMBERSHIPS}"  # noqa: S608
)
_BY_SESSION = (
    f"SELECT {', '.join(SESSION_COLUMNS.values())}, {_ROLES} FROM fabcom_session s JOIN fabcom_user u ON u.id = s.user_id "  # noqa: S608
    f"LEFT JOIN fabcom_membership m ON m.user_id = u.id AND {_MEMBERSHIPS} {_PARTNERSHIPS} {_LOCAL} WHERE s.key_hash = {{p1}}"
)

RoleRow = tuple[int | None, str | None, int | None, int | None, str | None]


async def roles_and_partners(user_id: int, today: dt.date | None = None) -> list[RoleRow]:
    """(organization, role, partnership side a, side b, the organization's slug if local)
    rows of the memberships valid ``today`` of a user."""
    return [(row[0], row[1], row[2], row[3], row[4]) for row in await _run(_BY_USER, user_id, today)]


async def session_roles_and_partners(
    key_hash: str, today: dt.date | None = None
) -> tuple[dict[str, Any], list[RoleRow]] | None:
    """The ``SESSION_COLUMNS`` of the session whose key hashes to ``key_hash``, by name,
    and the ``roles_and_partners`` rows of its account; None when there is no such session."""
    rows = await _run(_BY_SESSION, key_hash, today)
    if not rows:
        return None
    width = len(SESSION_COLUMNS)
    session = dict(zip(SESSION_COLUMNS, rows[0][:width], strict=True))
    return session, [(row[width], row[width + 1], row[width + 2], row[width + 3], row[width + 4]) for row in rows]


async def _run(statement: str, who: object, today: dt.date | None) -> list[tuple[Any, ...]]:
    from tortoise import connections

    connection = connections.get("default")
    p1, p2 = ("?1", "?2") if connection.capabilities.dialect == "sqlite" else ("$1", "$2")
    _count, rows = await connection.execute_query(statement.format(p1=p1, p2=p2), [who, today or clock.today()])
    return [tuple(row) for row in rows]


class Person(Protocol):
    """What a principal needs of an account (a ``User``, or a session's ``Account``)."""

    @property
    def id(self) -> int: ...
    @property
    def is_instance_admin(self) -> bool: ...
    @property
    def locale(self) -> str: ...


def principal_from(
    user: Person,
    rows: Iterable[RoleRow],
    *,
    scopes: Iterable[str] | None = None,
    token_id: int | None = None,
) -> Principal:
    """The principal of ``user`` from the rows of ``roles_and_partners``."""
    roles: dict[int, Role] = {}
    local_slugs: dict[str, int] = {}
    partner_ids: set[int] = set()
    for organization_id, role, a, b, slug in rows:
        if organization_id is None or role is None:  # a session's account without any membership
            continue
        roles[organization_id] = Role(role)
        if slug is not None:
            local_slugs[slug] = organization_id
        if a is not None and b is not None:
            partner_ids.update((a, b))
    partner_ids -= set(roles)
    return Principal(
        user_id=user.id,
        roles=roles,
        local_slugs=local_slugs,
        partner_ids=frozenset(partner_ids),
        scopes=frozenset(scopes) if scopes is not None else None,
        token_id=token_id,
        is_instance_admin=user.is_instance_admin,
        locale=user.locale,
    )


async def load_principal(
    user_id: int,
    *,
    scopes: Iterable[str] | None = None,
    token_id: int | None = None,
    today: dt.date | None = None,
    user: User | None = None,
) -> Principal:
    """Build the principal of ``user_id`` from their memberships valid ``today``
    (``user``: the account when the caller has already read it, saving a query)."""
    from fabcom.auth.models import User

    if user is None:
        user = await User.get(id=user_id)
    rows = await roles_and_partners(user_id, today)
    return principal_from(user, rows, scopes=scopes, token_id=token_id)


def system_principal() -> Principal:
    """The instance itself (demo loader, migrations, jobs acting for nobody)."""
    return Principal(is_instance_admin=True, is_system=True)
