"""Passwords, API tokens and sessions."""

from __future__ import annotations

import datetime as dt

import pytest

from fabcom import clock
from fabcom.auth.models import ApiToken, Session, User
from fabcom.auth.services import (
    authenticate,
    close_all_sessions,
    close_session,
    create_api_token,
    create_user,
    hash_password,
    open_session,
    principal_for_token,
    revoke_api_token,
    session_for_key,
)
from fabcom.errors import ErrorCode, PermissionDenied, ValidationFailed
from fabcom.permissions import system_principal


@pytest.fixture
async def lea(db):
    return await User.create(
        email="lea@example.org", display_name="Léa", password_hash=hash_password("correct horse battery")
    )


async def test_authenticate_checks_the_argon2_hash(lea):
    assert lea.password_hash.startswith("$argon2id$")
    assert (await authenticate(" LEA@example.org ", "correct horse battery")).id == lea.id
    assert await authenticate("lea@example.org", "wrong horse battery") is None
    assert await authenticate("nobody@example.org", "correct horse battery") is None
    lea.is_active = False
    await lea.save()
    assert await authenticate("lea@example.org", "correct horse battery") is None


async def test_create_user_refuses_duplicates_and_bad_input(db):
    system = system_principal()
    await create_user(system, {"email": "Ana@Example.org", "display_name": "Ana", "password": "a long passphrase"})
    for data, field in (
        ({"email": "ana@example.org", "display_name": "Autre"}, "email"),
        ({"email": "not-an-email", "display_name": "X"}, "email"),
        ({"email": "x@example.org", "display_name": "X", "password": "short"}, "password"),
        ({"email": "x@example.org", "display_name": "X", "locale": "de"}, "locale"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            await create_user(system, data)
        assert refused.value.errors[0].field == field
    assert await User.all().count() == 1


async def test_tokens_are_shown_once_stored_hashed_and_act_for_their_user(lea):
    token, secret = await create_api_token(system_principal(), lea.id, {"name": "sync", "scopes": ["inventory:read"]})
    stored = await ApiToken.get(id=token.id)
    assert secret.startswith("fabcom_pat_")
    assert secret not in (stored.token_hash, stored.prefix)
    assert stored.expires_at > clock.now() + dt.timedelta(days=89)
    principal = await principal_for_token(secret)
    assert (principal.user_id, principal.scopes, principal.token_id) == (
        lea.id,
        frozenset({"inventory:read"}),
        token.id,
    )
    assert (await ApiToken.get(id=token.id)).last_used_at is not None
    assert await principal_for_token(secret + "x") is None
    assert await principal_for_token("Bearer nonsense") is None


async def test_expired_and_revoked_tokens_stop_working(lea):
    lea_principal = await principal_for_token(
        (await create_api_token(system_principal(), lea.id, {"name": "a", "scopes": ["inventory:read"]}))[1]
    )
    token, secret = await create_api_token(system_principal(), lea.id, {"name": "b", "scopes": ["inventory:read"]})
    await ApiToken.filter(id=token.id).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    assert await principal_for_token(secret) is None
    token, secret = await create_api_token(system_principal(), lea.id, {"name": "c", "scopes": ["inventory:read"]})
    await revoke_api_token(system_principal(), token.id)
    assert await principal_for_token(secret) is None
    assert lea_principal is not None


async def test_people_create_tokens_only_for_themselves_and_tokens_make_no_tokens(lea, make_member, org_a):
    other = await make_member(org_a)
    with pytest.raises(PermissionDenied):
        await create_api_token(other, lea.id, {"name": "x", "scopes": ["inventory:read"]})
    _, secret = await create_api_token(system_principal(), lea.id, {"name": "x", "scopes": ["inventory:read"]})
    with pytest.raises(PermissionDenied):
        await create_api_token(await principal_for_token(secret), lea.id, {"name": "y", "scopes": ["inventory:read"]})
    with pytest.raises(ValidationFailed) as unknown:
        await create_api_token(system_principal(), lea.id, {"name": "z", "scopes": ["root"]})
    assert unknown.value.errors[0].code == ErrorCode.INVALID
    assert await ApiToken.all().count() == 1


async def test_sessions_are_revocable(lea):
    _, key = await open_session(lea, user_agent="Firefox", ip_address="127.0.0.1")
    _, other_key = await open_session(lea)
    assert (await session_for_key(key)).user_id == lea.id
    assert await session_for_key("forged") is None
    await close_session(key)
    assert await session_for_key(key) is None
    assert await session_for_key(other_key) is not None
    assert await close_all_sessions(lea.id) == 1
    assert await Session.all().count() == 0
