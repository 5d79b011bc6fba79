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
    session_and_principal,
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


async def test_a_session_brings_its_account_and_only_its_valid_memberships(lea):
    """The session, its account and its memberships come from one statement: an account
    without any membership still has its session; memberships not yet started or already
    ended give no role; an expired session or a deactivated account gives nothing."""
    from fabcom.members.models import Membership, Role
    from fabcom.network.models import Partnership
    from fabcom.orgs.models import Organization

    _, key = await open_session(lea)
    session, principal = await session_and_principal(key)
    assert (session.user.email, session.user.display_name, principal.roles) == ("lea@example.org", "Léa", {})
    assert session.csrf_token == (await Session.get(id=session.id)).csrf_token

    today = clock.today()
    atelier, ferme, futur, ancien = [
        await Organization.create(slug=slug, name=slug) for slug in ("atelier", "ferme", "futur", "ancien")
    ]
    await Membership.create(user=lea, organization=atelier, role=Role.STAFF, valid_from=today)
    await Membership.create(user=lea, organization=futur, role=Role.ADMIN, valid_from=today + dt.timedelta(days=1))
    await Membership.create(
        user=lea,
        organization=ancien,
        role=Role.OWNER,
        valid_from=today - dt.timedelta(days=9),
        valid_until=today - dt.timedelta(days=1),
    )
    await Partnership.create(organization=ferme, partner=atelier, status="accepted")
    _, principal = await session_and_principal(key)
    assert principal.roles == {atelier.id: Role.STAFF}
    assert principal.partner_ids == {ferme.id}

    await Session.filter(id=session.id).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    assert await session_and_principal(key) is None
    _, other_key = await open_session(lea)
    await User.filter(id=lea.id).update(is_active=False)
    assert await session_and_principal(other_key) is None


async def test_memberships_count_on_fabcoms_clock_not_the_machines_date(lea, monkeypatch):
    """A membership starts on fabcom's day (``clock``), whatever the machine's local date:
    on 1 January 2031 by the clock, one starting that day counts and one ended the day
    before does not."""
    from fabcom.members.models import Membership, Role
    from fabcom.orgs.models import Organization

    new_year = dt.datetime(2031, 1, 1, 0, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: new_year)
    starts, ended = [await Organization.create(slug=slug, name=slug) for slug in ("debut", "fin")]
    await Membership.create(user=lea, organization=starts, role=Role.STAFF, valid_from=dt.date(2031, 1, 1))
    await Membership.create(
        user=lea, organization=ended, role=Role.STAFF, valid_from=dt.date(2030, 1, 1), valid_until=dt.date(2030, 12, 31)
    )
    _, key = await open_session(lea)
    _, principal = await session_and_principal(key)
    assert principal.roles == {starts.id: Role.STAFF}


async def test_sessions_are_revocable(lea):
    _, key = await open_session(lea, user_agent="Firefox", ip_address="127.0.0.1")
    _, other_key = await open_session(lea)
    session, principal = await session_and_principal(key)
    assert (session.user.id, principal.user_id) == (lea.id, lea.id)
    assert await session_and_principal("forged") is None
    await close_session(key)
    assert await session_and_principal(key) is None
    assert await session_and_principal(other_key) is not None
    assert await close_all_sessions(lea.id) == 1
    assert await Session.all().count() == 0
