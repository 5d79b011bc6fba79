"""The scopes a token may hold: the core's and those of the enabled modules, which
declare them in their manifest; a disabled module's scopes are unknown."""

from __future__ import annotations

import pytest

from fabcom.auth.models import User
from fabcom.auth.services import create_api_token
from fabcom.errors import ValidationFailed
from fabcom.module_system import registry as registry_module
from fabcom.module_system.registry import build_registry
from fabcom.permissions import ACTION_SCOPES, CORE_SCOPES, SCOPES, known_scopes, system_principal


@pytest.fixture
async def lea(db):
    return await User.create(email="lea@example.org", display_name="Léa")


def test_the_core_scopes_are_those_its_actions_ask():
    assert sorted(SCOPES) == sorted(set(ACTION_SCOPES.values()))
    assert [scope.code for scope in CORE_SCOPES] == list(SCOPES)


async def test_the_enabled_modules_add_their_scopes_after_the_cores(db):
    codes = [scope.code for scope in known_scopes()]

    assert codes[: len(SCOPES)] == list(SCOPES)
    assert {"bookings:read", "bookings:write"} <= set(codes[len(SCOPES) :])


async def test_a_token_may_hold_an_enabled_modules_scope(lea):
    token, _secret = await create_api_token(
        system_principal(), lea.id, {"name": "agenda", "scopes": ["bookings:read", "inventory:read"]}
    )

    assert token.scopes == ["bookings:read", "inventory:read"]


async def test_a_disabled_modules_scope_is_unknown(lea, monkeypatch):
    monkeypatch.setattr(registry_module, "_active", build_registry([]).freeze())

    with pytest.raises(ValidationFailed) as refused:
        await create_api_token(system_principal(), lea.id, {"name": "agenda", "scopes": ["bookings:read"]})

    assert refused.value.errors[0].text("en") == (
        "Unknown scope bookings:read. Known scopes: inventory:read, inventory:write, members:read, members:write, "
        "network:read, network:write, org:admin, projects:read, projects:write."
    )
