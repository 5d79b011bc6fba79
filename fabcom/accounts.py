"""Account operations shared by the CLI and the web UI's admin pages."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from fabcom.auth.models import ApiToken, User
from fabcom.auth.services import create_api_token, create_user
from fabcom.errors import ErrorCode, ValidationFailed
from fabcom.i18n import N_
from fabcom.members.models import Role
from fabcom.members.services import add_member
from fabcom.orgs.models import Organization
from fabcom.permissions import system_principal


async def add_user_to_org(
    email: str, org_slug: str, role: str, name: str | None, password: str | None, locale: str = "fr"
) -> User:
    """Create an account and its membership together: both or neither."""
    org = await Organization.get_or_none(slug=org_slug, is_local=True)
    if org is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown organization {slug}."), "org", slug=org_slug)
    if role not in {r.value for r in Role}:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("Choose one of: {choices}."), "role", choices=", ".join(r.value for r in Role)
        )
    system = system_principal()
    async with in_transaction():
        user = await create_user(
            system,
            {
                "email": email,
                "display_name": name or email.split("@")[0],
                "password": password or None,
                "locale": locale,
            },
        )
        await add_member(system, org.id, {"user_id": user.id, "role": role})
    return user


async def create_token_for(email: str, name: str, scopes: list[str], expires_in_days: int | None) -> str:
    user = await User.get_or_none(email=email.strip().lower())
    if user is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown account."), "email")
    _token, secret = await create_api_token(
        system_principal(), user.id, {"name": name, "scopes": scopes, "expires_in_days": expires_in_days}
    )
    return secret


async def unrevoked_tokens(email: str | None) -> list[ApiToken]:
    """The tokens not revoked (expired ones included: they are still listed on their
    owner's page), newest first, with their owner; only ``email``'s when given."""
    tokens = ApiToken.filter(revoked_at__isnull=True).select_related("user").order_by("-id")
    if email is not None:
        user = await User.get_or_none(email=email.strip().lower())
        if user is None:
            raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown account."), "email")
        tokens = tokens.filter(user_id=user.id)
    return await tokens
