"""The registry activated at start-up serves module settings without discovering the
modules again (module settings are read on every weighing and every reminder run)."""

from __future__ import annotations

from fabcom import api
from fabcom.module_system import registry as registry_module


def refuse_discovery():
    raise AssertionError("the modules were discovered again")


async def test_module_settings_come_from_the_active_registry(db, monkeypatch):
    monkeypatch.setattr(registry_module, "discover", refuse_discovery)

    settings = api.module_settings("bookings")

    assert settings is registry_module.active_registry().settings_for("bookings")
    assert api.module_settings("bookings") is settings


async def test_a_changed_variable_is_read_only_when_the_settings_are_refreshed(db, module_env, monkeypatch):
    # module_env first: its final refresh runs after monkeypatch has restored the environment.
    before = api.module_settings("bookings").reminder_hours_before
    monkeypatch.setenv("FABCOM_BOOKINGS_REMINDER_HOURS_BEFORE", str(before + 5))
    assert api.module_settings("bookings").reminder_hours_before == before

    module_env("FABCOM_BOOKINGS_REMINDER_HOURS_BEFORE", str(before + 7))

    assert api.module_settings("bookings").reminder_hours_before == before + 7


async def test_the_active_registry_is_frozen(db):
    assert registry_module.active_registry().frozen
