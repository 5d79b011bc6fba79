"""A person's data: the download (everything stored about them, as JSON) and erasure.

Erasure keeps the account's row as an anonymous placeholder, because the structure must
keep what the person did for it: stock movements they recorded (the ledger is
append-only and stock is its sum), fees they paid (the accounts), bookings that used a
machine (the statistics). Everything that identifies the person goes:

- the account: e-mail, name and password replaced, disabled; sessions, API tokens,
  password-reset links, notifications and notification preferences deleted;
- memberships: kept (anonymous) and ended today; fees kept with their note blanked;
- project participations deleted; tasks stay assigned to the placeholder;
- files they uploaded that belong to no item or project (personal files) deleted;
- every other text column and JSON document of every table (audit snapshots, stock
  movement counterparties, notes, webhook payloads, module tables…) scrubbed of the
  person's e-mail and name, replaced by ``[erased]``;
- modules erase their part through ``fabcom_erase_member`` (bookings, ressourcerie);
- partner sites that recognise the person (consent given) get ``Delete`` and purge them;
- ``fabcom_member_erased`` lets modules tell whatever else they told.

All of it in one transaction: an erasure that fails changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field
from tortoise import Tortoise, connections
from tortoise import fields as tfields
from tortoise.models import Model
from tortoise.transactions import in_transaction

from fabcom import __version__, clock
from fabcom.audit.models import AuditEntry
from fabcom.audit.services import record
from fabcom.auth.models import ApiToken, Session, User
from fabcom.auth.services import verify_password
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.federation.members import forget_member
from fabcom.i18n import N_
from fabcom.inventory.models import Attachment, Category
from fabcom.members.models import Membership, MembershipFee, Role
from fabcom.module_system.hooks import call_async, plugin_manager
from fabcom.notifications.models import Notification
from fabcom.notifications.preference_models import NotificationPreference
from fabcom.permissions import Principal
from fabcom.projects.models import Participant, Task
from fabcom.validation import Input, parse
from fabcom.web.models import PasswordReset

ERASED = "[erased]"
EXPORT_FORMAT = "fabcom-member-data/1"
# Tables the scrub never rewrites: the shipped taxonomy (no one's data).
SCRUB_SKIP: tuple[type[Model], ...] = (Category,)


def plain(value: Any) -> Any:
    """A JSON-safe copy of a stored value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def row(obj: Model, *names: str) -> dict[str, Any]:
    return {name: plain(getattr(obj, name)) for name in names}


def _may_handle(actor: Principal, user_id: int) -> bool:
    """The person themself (in a browser session, not with an API token), or the instance."""
    if actor.is_system:
        return True
    return actor.user_id == user_id and actor.scopes is None


async def member_data(actor: Principal, user_id: int) -> dict[str, Any]:
    """Everything the instance stores about a person, as one JSON-safe document."""
    if not _may_handle(actor, user_id):
        raise PermissionDenied()
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound("user")
    memberships = await Membership.filter(user_id=user_id).prefetch_related("organization").order_by("id")
    fees = await MembershipFee.filter(membership__user_id=user_id).order_by("paid_on", "id")
    fees_by_membership: dict[int, list[dict[str, Any]]] = {}
    for fee in fees:
        fees_by_membership.setdefault(fee.membership_id, []).append(  # type: ignore[attr-defined]
            row(fee, "amount", "period_start", "period_end", "paid_on", "method", "note")
        )
    preference = await NotificationPreference.get_or_none(user_id=user_id)
    membership_ids = [str(m.id) for m in memberships]
    audit = await AuditEntry.filter(actor_id=user_id).order_by("id")
    about = await AuditEntry.filter(object_type="User", object_id=str(user_id)).order_by("id")
    about += await AuditEntry.filter(object_type="Membership", object_id__in=membership_ids).order_by("id")
    module_parts: dict[str, Any] = {}
    for found in await call_async(plugin_manager().hook.fabcom_member_data, user_id=user_id):
        for section, data in (found or {}).items():
            module_parts[section] = plain(data)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": clock.now().isoformat(),
        "fabcom_version": __version__,
        "account": row(user, "id", "email", "display_name", "locale", "is_active", "created_at", "last_login_at"),
        "memberships": [
            {
                "organization": {"slug": m.organization.slug, "name": m.organization.name},
                **row(m, "role", "valid_from", "valid_until"),
                "fees": fees_by_membership.get(m.id, []),
            }
            for m in memberships
        ],
        "notifications": [
            row(n, "kind", "data", "url", "created_at", "read_at")
            for n in await Notification.filter(user_id=user_id).order_by("id")
        ],
        "notification_channel": preference.channel.value if preference else "in_app",
        "api_tokens": [
            row(t, "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at")
            for t in await ApiToken.filter(user_id=user_id).order_by("id")
        ],
        "sessions": [
            row(s, "created_at", "last_seen_at", "expires_at", "user_agent", "ip_address")
            for s in await Session.filter(user_id=user_id).order_by("id")
        ],
        "project_participations": [
            {"project": p.project.title, **row(p, "display_name", "role", "created_at")}
            for p in await Participant.filter(user_id=user_id).prefetch_related("project").order_by("id")
        ],
        "assigned_tasks": [
            {"project": t.project.title, **row(t, "title", "status", "due_on")}
            for t in await Task.filter(assignee_id=user_id).prefetch_related("project").order_by("id")
        ],
        "audit": {
            "by_me": [row(a, "created_at", "action", "object_type", "object_id", "before", "after") for a in audit],
            "about_me": [row(a, "created_at", "action", "object_type", "object_id", "before", "after") for a in about],
        },
        "modules": module_parts,
    }


class EraseInput(Input):
    password: str = Field(min_length=1, max_length=1000)


async def erase_own_account(
    actor: Principal, data: dict[str, Any] | EraseInput, uploads_dir: Path | None = None
) -> None:
    """Self-service erasure, confirmed by the person's password."""
    if actor.user_id is None or actor.scopes is not None:
        raise PermissionDenied()
    payload = parse(EraseInput, data)
    user = await User.get(id=actor.user_id)
    if not verify_password(user.password_hash, payload.password):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("The password is wrong."), "password")
    await erase_member(actor, user.id, uploads_dir)


async def _sole_owner_of(user_id: int) -> list[str]:
    """Organizations where the person is the only owner: erasing them would orphan it."""
    today = clock.today()
    names = []
    for membership in await Membership.filter(user_id=user_id, role=Role.OWNER).prefetch_related("organization"):
        others = (
            await Membership.filter(organization_id=membership.organization_id, role=Role.OWNER)  # type: ignore[attr-defined]
            .exclude(user_id=user_id)
            .filter(user__is_active=True)
            .exclude(valid_until__lt=today)
            .count()
        )
        if others == 0:
            names.append(membership.organization.name)
    return names


async def erase_member(actor: Principal, user_id: int, uploads_dir: Path | None = None) -> None:
    """Erase a person (see the module's docstring), in one transaction; their personal
    files are deleted from ``uploads_dir`` once it committed."""
    if not _may_handle(actor, user_id):
        raise PermissionDenied()
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound("user")
    if not actor.is_system:
        orphaned = await _sole_owner_of(user_id)
        if orphaned:
            raise ValidationFailed.single(
                ErrorCode.INVALID,
                N_("You are the only owner of {names}: make someone else owner first."),
                "password",
                names=", ".join(orphaned),
            )
    identity = {"email": user.email, "display_name": user.display_name}
    files: list[str] = []
    async with in_transaction():
        await call_async(plugin_manager().hook.fabcom_erase_member, user_id=user_id, identity=identity)
        # Partner sites that recognise the person get Delete and purge their profile.
        await forget_member(actor, user_id)
        await Session.filter(user_id=user_id).delete()
        await ApiToken.filter(user_id=user_id).delete()
        await PasswordReset.filter(user_id=user_id).delete()
        await Notification.filter(user_id=user_id).delete()
        await NotificationPreference.filter(user_id=user_id).delete()
        await Participant.filter(user_id=user_id).delete()
        today = clock.today()
        await Membership.filter(user_id=user_id).filter(valid_until__isnull=True).update(valid_until=today)
        await Membership.filter(user_id=user_id, valid_until__gt=today).update(valid_until=today)
        await MembershipFee.filter(membership__user_id=user_id).exclude(note="").update(note="")
        personal = await Attachment.filter(created_by_id=user_id, item_id=None, project_id=None)
        files = [a.stored_name for a in personal]
        await Attachment.filter(id__in=[a.id for a in personal]).delete()
        await User.filter(id=user_id).update(
            email=f"erased-{user_id}@erased.invalid",
            display_name=ERASED,
            password_hash="",
            is_active=False,
            is_instance_admin=False,
            last_login_at=None,
        )
        await scrub_everywhere([identity["email"], identity["display_name"]])
        await record(actor, "user.erase", user, organization_id=None, before=None, after={"erased": True})
        await call_async(plugin_manager().hook.fabcom_member_erased, user_id=user_id)
    for name in files:  # after the commit: a rolled-back erasure keeps its files
        if uploads_dir is not None:
            (uploads_dir / name).unlink(missing_ok=True)


def _needles(values: list[str]) -> list[str]:
    """The values worth looking for: at least 3 characters (a shorter "name" would
    erase unrelated words everywhere)."""
    return [v.strip() for v in values if len(v.strip()) >= 3 and v.strip() != ERASED]


def _search_fragment(needle: str) -> str:
    """What SQL looks for: the longest ASCII run of the needle, because SQLite's LIKE
    ignores case for ASCII letters only (and JSON may escape the rest); the exact,
    Unicode-aware match is then made in Python."""
    longest = max(re.split(r"[^\x00-\x7f]+", needle), key=len)
    return longest if len(longest) >= 3 else needle


def _scrub_value(value: Any, patterns: list[re.Pattern[str]]) -> Any:
    if isinstance(value, str):
        for pattern in patterns:
            value = pattern.sub(ERASED, value)
        return value
    if isinstance(value, dict):
        return {_scrub_value(k, patterns): _scrub_value(v, patterns) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v, patterns) for v in value]
    return value


def text_columns() -> list[tuple[type[Model], str, str, bool]]:
    """(model, field name, column, is JSON) for every text and JSON column of every table."""
    found = []
    for app in (Tortoise.apps or {}).values():
        for model in app.values():
            if issubclass(model, SCRUB_SKIP):
                continue
            for name, field in model._meta.fields_map.items():
                is_json = isinstance(field, tfields.JSONField)
                if isinstance(field, tfields.CharField | tfields.TextField) or is_json:
                    if getattr(field, "enum_type", None) is not None:
                        continue  # an enumeration holds codes, never free text
                    found.append((model, name, model._meta.fields_db_projection[name], is_json))
    return found


async def scrub_everywhere(values: list[str]) -> int:
    """Replace every occurrence of ``values`` (whole words, any case) in every text and
    JSON column of the database by ``[erased]``; returns the number of values changed."""
    needles = _needles(values)
    if not needles:
        return 0
    patterns = [re.compile(r"(?<!\w)" + re.escape(n) + r"(?!\w)", re.IGNORECASE) for n in needles]
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    changed = 0
    for model, name, column, is_json in text_columns():
        pk = model._meta.pk_attr
        candidates: dict[Any, Any] = {}
        for needle in {_search_fragment(n) for n in needles}:
            if is_json:
                # JSON documents: found as text (jsonb has no LIKE), rewritten as documents.
                where = f'"{column}"::text ILIKE $1' if postgres else f'"{column}" LIKE ?'
                pk_column = model._meta.fields_db_projection[pk]
                sql = f'SELECT "{pk_column}" AS pk FROM "{model._meta.db_table}" WHERE {where}'  # noqa: S608 - names from the models
                _, rows = await connection.execute_query(sql, [f"%{needle}%"])
                ids = [r["pk"] for r in rows]
                if ids:
                    for obj in await model.filter(**{f"{pk}__in": ids}):
                        candidates[getattr(obj, pk)] = getattr(obj, name)
            else:
                for key, value in await model.filter(**{f"{name}__icontains": needle}).values_list(pk, name):
                    candidates[key] = value
        for key, value in candidates.items():
            new = _scrub_value(value, patterns)
            if new != value:
                await model.filter(**{pk: key}).update(**{name: new})
                changed += 1
    return changed
