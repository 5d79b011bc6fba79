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
from typing import TYPE_CHECKING

from tortoise.expressions import Q

from fabcom.members.models import Role

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
SCOPES = tuple(sorted(set(ACTION_SCOPES.values())))
# Seeing partners-only objects is a read of the matching domain.
READ_SCOPE_FOR = {"inventory": "inventory:read", "projects": "projects:read"}


@dataclass(frozen=True)
class Principal:
    """The actor of a request, job or CLI command."""

    user_id: int | None = None
    roles: dict[int, Role] = field(default_factory=dict)  # organization id -> role, valid today
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

    def can(self, action: Action, organization_id: int) -> bool:
        """May this principal do ``action`` in ``organization_id``?"""
        if self.is_system:
            return True
        role = self.roles.get(organization_id)
        return role is not None and role in ROLE_ACTIONS[action] and self.has_scope(ACTION_SCOPES[action])

    def orgs_where(self, action: Action) -> list[int]:
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
# from it, so it is one round trip rather than one per table. ``{source}`` and ``{who}``
# name the user directly, or through a session's key (then the statement needs nothing
# from the session's own query and both go to the database together).
_ROLES_AND_PARTNERS = (
    "SELECT m.organization_id, m.role, p.organization_id AS a, p.partner_id AS b "
    "FROM {source} LEFT JOIN fabcom_partnership p ON p.status = 'accepted' "
    "AND (p.organization_id = m.organization_id OR p.partner_id = m.organization_id) "
    "WHERE {who} AND m.valid_from <= {p2} AND (m.valid_until IS NULL OR m.valid_until >= {p2})"
)
_BY_USER = {"source": "fabcom_membership m", "who": "m.user_id = {p1}"}
_BY_SESSION = {
    "source": "fabcom_session s JOIN fabcom_membership m ON m.user_id = s.user_id",
    "who": "s.key_hash = {p1}",
}


async def roles_and_partners(
    *, user_id: int | None = None, session_key_hash: str | None = None, today: dt.date | None = None
) -> list[tuple[int, str, int | None, int | None]]:
    """(organization, role, partnership side a, side b) rows of the memberships valid
    ``today`` of a user, named by id or by the key hash of one of their sessions."""
    from tortoise import connections

    today = today or dt.date.today()
    connection = connections.get("default")
    is_sqlite = connection.capabilities.dialect == "sqlite"
    parts = _BY_USER if session_key_hash is None else _BY_SESSION
    p1, p2 = ("?", "?") if is_sqlite else ("$1", "$2")
    sql = _ROLES_AND_PARTNERS.format(source=parts["source"], who=parts["who"].format(p1=p1), p2=p2)
    who = user_id if session_key_hash is None else session_key_hash
    values: list[object] = [who, today, today] if is_sqlite else [who, today]
    _count, rows = await connection.execute_query(sql, values)
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def principal_from(
    user: User,
    rows: Iterable[tuple[int, str, int | None, int | None]],
    *,
    scopes: Iterable[str] | None = None,
    token_id: int | None = None,
) -> Principal:
    """The principal of ``user`` from the rows of ``roles_and_partners``."""
    roles: dict[int, Role] = {}
    partner_ids: set[int] = set()
    for organization_id, role, a, b in rows:
        roles[organization_id] = Role(role)
        if a is not None and b is not None:
            partner_ids.update((a, b))
    partner_ids -= set(roles)
    return Principal(
        user_id=user.id,
        roles=roles,
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
    rows = await roles_and_partners(user_id=user_id, today=today)
    return principal_from(user, rows, scopes=scopes, token_id=token_id)


def system_principal() -> Principal:
    """The instance itself (demo loader, migrations, jobs acting for nobody)."""
    return Principal(is_instance_admin=True, is_system=True)
