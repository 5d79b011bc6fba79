"""Accounts, passwords and API tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field, field_validator
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.auth.models import ApiToken, Session, User
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.i18n import N_
from fabcom.permissions import Principal, known_scopes, load_principal, principal_from, session_roles_and_partners
from fabcom.validation import Input, InputError, parse

TOKEN_PREFIX = "fabcom_pat_"  # noqa: S105 - a public prefix, not a secret
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, checked when the e-mail is unknown so that a login
    takes as long for an unknown account as for a known one."""
    # Computed on first use, not at import: argon2 is slow on purpose, and every process
    # (each CLI command, each web worker) would pay for it before doing anything.
    return _hasher.hash(secrets.token_urlsafe(16))


Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, Field(min_length=10, max_length=1000)]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


class UserInput(Input):
    email: Email
    display_name: str = Field(min_length=1, max_length=120)
    password: Password | None = None
    locale: str = Field(default="fr", pattern="^(fr|en)$")

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


async def create_user(actor: Principal, data: dict[str, Any] | UserInput) -> User:
    """Create an account (instance admins, the CLI, or an accepted invitation)."""
    if not actor.is_instance_admin:
        raise PermissionDenied()
    payload = parse(UserInput, data)
    if await User.exists(email=payload.email):
        raise ValidationFailed.single(
            ErrorCode.ALREADY_EXISTS, N_("An account already uses this e-mail address."), "email"
        )
    async with in_transaction():
        user = await User.create(
            email=payload.email,
            display_name=payload.display_name,
            locale=payload.locale,
            password_hash=hash_password(payload.password) if payload.password else "",
        )
        await record(actor, "user.create", user, organization_id=None, after=snapshot(user))
    return user


async def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (same time either way)."""
    user = await User.get_or_none(email=email.strip().lower(), is_active=True)
    if not verify_password(user.password_hash if user else "", password) or user is None:
        return None
    await User.filter(id=user.id).update(last_login_at=clock.now())
    return user


class TokenInput(Input):
    name: str = Field(min_length=1, max_length=100)
    # The enabled modules add scopes to the core's: a bound only against absurd lists.
    scopes: list[str] = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        known = [scope.code for scope in known_scopes()]
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise InputError(
                N_("Unknown scope {scope}. Known scopes: {known}."), scope=unknown[0], known=", ".join(known)
            )
        return sorted(set(value))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_api_token(actor: Principal, user_id: int, data: dict[str, Any] | TokenInput) -> tuple[ApiToken, str]:
    """Create a token for ``user_id``; returns it with its secret, which is shown once
    and never stored (only its SHA-256 is). People create tokens for themselves only."""
    if actor.user_id != user_id and not actor.is_system:
        raise PermissionDenied()
    if actor.scopes is not None:
        raise PermissionDenied(N_("A token cannot create other tokens."))
    payload = parse(TokenInput, data)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = clock.now() + dt.timedelta(days=payload.expires_in_days) if payload.expires_in_days else None
    async with in_transaction():
        token = await ApiToken.create(
            user_id=user_id,
            name=payload.name,
            prefix=secret[len(TOKEN_PREFIX) :][:8],
            token_hash=_digest(secret),
            scopes=payload.scopes,
            expires_at=expires_at,
        )
        await record(actor, "api_token.create", token, organization_id=None, after=snapshot(token))
    return token, secret


async def revoke_api_token(actor: Principal, token_id: int) -> None:
    token = await ApiToken.get_or_none(id=token_id, revoked_at__isnull=True)
    if token is None or (token.user_id != actor.user_id and not actor.is_system):  # type: ignore[attr-defined]
        raise NotFound("api_token")
    async with in_transaction():
        await ApiToken.filter(id=token.id).update(revoked_at=clock.now())
        await record(actor, "api_token.revoke", token, organization_id=None, before=snapshot(token))


async def principal_for_token(secret: str) -> Principal | None:
    """The principal a bearer token acts as, or None if it is unknown, revoked or expired."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = await ApiToken.get_or_none(token_hash=_digest(secret), revoked_at__isnull=True).select_related("user")
    now = clock.now()
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    user = token.user
    if not user.is_active:
        return None
    await ApiToken.filter(id=token.id).update(last_used_at=now)
    return await load_principal(user.id, scopes=token.scopes, token_id=token.id, user=user)


# --- sessions -------------------------------------------------------------------------

SESSION_DAYS = 14
_EXPIRES_AT = Session._meta.fields_map["expires_at"]  # converts the column as Tortoise reads it (text on SQLite)


async def open_session(user: User, *, user_agent: str = "", ip_address: str = "") -> tuple[Session, str]:
    """Start a login session; returns it with the cookie value (kept only as a hash)."""
    key = secrets.token_urlsafe(32)
    session = await Session.create(
        user_id=user.id,
        key_hash=_digest(key),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=clock.now() + dt.timedelta(days=SESSION_DAYS),
        user_agent=user_agent[:300],
        ip_address=ip_address[:45],
    )
    return session, key


@dataclass(frozen=True, slots=True)
class Account:
    """What a page shows and checks of the logged-in person (read with their session)."""

    id: int
    email: str
    display_name: str
    locale: str
    is_instance_admin: bool


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A logged-in browser's session, as every request reads it (``request.state.session``)."""

    id: int
    csrf_token: str
    user: Account


async def session_and_principal(key: str) -> tuple[LiveSession, Principal] | None:
    """The live session behind a cookie value and who it acts for, or None (unknown,
    expired or revoked, or the account deactivated). The middleware runs this on every
    request: the session, its account and the account's memberships with their
    partnerships come in one statement, keyed by the cookie's hash."""
    if not key:
        return None
    found = await session_roles_and_partners(_digest(key))
    if found is None:
        return None
    session, rows = found
    if not session["is_active"] or _EXPIRES_AT.to_python_value(session["expires_at"]) <= clock.now():
        return None
    account = Account(
        id=session["user_id"],
        email=session["email"],
        display_name=session["display_name"],
        locale=session["locale"],
        is_instance_admin=bool(session["is_instance_admin"]),
    )
    return LiveSession(session["session_id"], session["csrf_token"], account), principal_from(account, rows)


async def close_session(key: str) -> None:
    """Log out: the cookie stops working at once, on every server process."""
    await Session.filter(key_hash=_digest(key)).delete()


async def close_all_sessions(user_id: int) -> int:
    """Revoke every session of a user (after a password change or on request)."""
    return await Session.filter(user_id=user_id).delete()


# --- login rate limit, password and language changes -----------------------------------

LOGIN_WINDOW = dt.timedelta(minutes=5)
LOGIN_MAX_ATTEMPTS = 25


async def register_login_attempt(ip_address: str) -> bool:
    """Count a login attempt from ``ip_address``; False when it is over the limit (more
    than 25 within 5 minutes). Kept in the database so every server process agrees."""
    from fabcom.web.models import LoginAttempt

    now = clock.now()
    await LoginAttempt.filter(created_at__lt=now - LOGIN_WINDOW).delete()
    recent = await LoginAttempt.filter(ip_address=ip_address[:45], created_at__gte=now - LOGIN_WINDOW).count()
    await LoginAttempt.create(ip_address=ip_address[:45], created_at=now)
    return recent < LOGIN_MAX_ATTEMPTS


class PasswordChangeInput(Input):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: Password


async def change_password(actor: Principal, data: dict[str, Any] | PasswordChangeInput) -> User:
    """Change one's own password; every existing session of the account is revoked."""
    if actor.user_id is None or actor.scopes is not None:
        raise PermissionDenied()
    payload = parse(PasswordChangeInput, data)
    user = await User.get(id=actor.user_id)
    if not verify_password(user.password_hash, payload.current_password):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("The current password is wrong."), "current_password")
    async with in_transaction():
        await User.filter(id=user.id).update(password_hash=hash_password(payload.new_password))
        await Session.filter(user_id=user.id).delete()
        await record(actor, "user.password_change", user, organization_id=None)
    return user


async def set_locale(actor: Principal, locale: str) -> None:
    """Save the user's interface language (fr or en)."""
    if actor.user_id is None:
        raise PermissionDenied()
    if locale not in ("fr", "en"):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Choose one of: {choices}."), "locale", choices="fr, en")
    await User.filter(id=actor.user_id).update(locale=locale)


# --- password reset by e-mail -----------------------------------------------------------

RESET_LINK_INVALID = N_("This link is invalid, already used or expired. Ask for a new one.")


async def request_password_reset(email: str) -> None:
    """Send a reset link to the account using ``email`` if there is one. Says nothing
    either way, so nobody learns which addresses have an account."""
    from fabcom.jobs.outbox import enqueue
    from fabcom.permissions import system_principal

    user = await User.get_or_none(email=email.strip().lower()[:254], is_active=True)
    if user is None:
        return
    async with in_transaction():
        await enqueue("send_password_reset", user_id=user.id)
        await record(system_principal(), "user.password_reset_request", user, organization_id=None)


async def password_reset_user(token: str) -> User | None:
    """The account a reset link is for, or None (unknown, used or expired)."""
    from fabcom.web.models import PasswordReset

    reset = await PasswordReset.get_or_none(token_hash=_digest(token), used_at__isnull=True).prefetch_related("user")
    if reset is None or reset.expires_at <= clock.now() or not reset.user.is_active:
        return None
    return reset.user


class PasswordResetInput(Input):
    new_password: Password


async def reset_password(token: str, data: dict[str, Any] | PasswordResetInput) -> User:
    """Set a new password from a reset link: the link stops working, as do every other
    link of the account and every session."""
    from fabcom.permissions import system_principal
    from fabcom.web.models import PasswordReset

    payload = parse(PasswordResetInput, data)
    user = await password_reset_user(token)
    if user is None:
        raise ValidationFailed.single(ErrorCode.INVALID, RESET_LINK_INVALID, "token")
    async with in_transaction():
        used = await PasswordReset.filter(
            token_hash=_digest(token), used_at__isnull=True, expires_at__gt=clock.now()
        ).update(used_at=clock.now())
        if used != 1:  # another request used it in the meantime
            raise ValidationFailed.single(ErrorCode.INVALID, RESET_LINK_INVALID, "token")
        await PasswordReset.filter(user_id=user.id, used_at__isnull=True).update(used_at=clock.now())
        await User.filter(id=user.id).update(password_hash=hash_password(payload.new_password))
        await close_all_sessions(user.id)
        await record(system_principal(), "user.password_reset", user, organization_id=None)
    return user
