"""A module's ``federation.py`` registers handlers of received activities: they run only
while the module is enabled, and a batch handler for a type the core already handles
stops start-up with one line naming the module."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from fabcom.federation import handlers
from fabcom.federation.handlers import Sender, dispatch, dispatch_batch
from fabcom.module_system.contributions import register_federation_handlers
from fabcom.module_system.registry import ModuleError, build_registry

SENDER = Sender(actor_uri="https://b.example/ap/o/b", organization_id=3)


@pytest.fixture
def module_with_handlers(tmp_path: Path, monkeypatch):
    """A distribution on ``sys.path`` exposing module ``extra_fed`` whose federation.py is given;
    the handler tables are restored after."""
    handlers.load_handlers()
    for name in ("_handlers", "_batch_handlers", "_batch_claims"):
        table = getattr(handlers, name)
        monkeypatch.setattr(handlers, name, {k: list(v) if isinstance(v, list) else v for k, v in table.items()})
    monkeypatch.setattr(handlers, "_module_packages", set(handlers._module_packages))
    monkeypatch.setattr(handlers, "_enabled_packages", set(handlers._enabled_packages))

    def install(source: str) -> None:
        package = tmp_path / "fabcom_extra_fed"
        package.mkdir()
        (package / "__init__.py").write_text(
            "from fabcom.api import Module\n"
            "module = Module(slug='extra_fed', name='Extra', version='1.0', requires='>=0.1.0.dev0')\n"
        )
        (package / "federation.py").write_text(textwrap.dedent(source))
        info = tmp_path / "fabcom_extra_fed-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fabcom-extra-fed\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[fabcom.modules]\nextra_fed = fabcom_extra_fed\n")

    sys.path.insert(0, str(tmp_path))
    yield install
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith("fabcom_extra_fed")]:
        del sys.modules[name]


HANDLERS = """
    from fabcom.api import handles, handles_batch

    seen = []

    @handles("Listen")
    async def on_listen(activity, sender):
        seen.append(("one", activity["n"]))
        return True

    @handles_batch("Arrive")
    async def on_arrivals(activities, sender):
        seen.append(("batch", [a["n"] for a in activities]))
"""


async def test_an_enabled_modules_handlers_take_their_activities(module_with_handlers):
    module_with_handlers(HANDLERS)
    register_federation_handlers(build_registry(["extra_fed"]))
    seen = sys.modules["fabcom_extra_fed.federation"].seen

    assert await dispatch({"type": "Listen", "n": 1}, SENDER)
    await dispatch_batch([{"type": "Arrive", "n": 2}, {"type": "Arrive", "n": 3}], SENDER)
    assert seen == [("one", 1), ("batch", [2, 3])]


async def test_a_disabled_modules_handlers_never_run(module_with_handlers):
    module_with_handlers(HANDLERS)
    register_federation_handlers(build_registry(["extra_fed"]))
    register_federation_handlers(build_registry([]))  # the instance restarts without the module
    seen = sys.modules["fabcom_extra_fed.federation"].seen

    assert not await dispatch({"type": "Listen", "n": 1}, SENDER)
    await dispatch_batch([{"type": "Arrive", "n": 2}], SENDER)
    assert seen == []


async def test_the_cores_handlers_run_before_a_modules(module_with_handlers, db, make_org):
    module_with_handlers("""
        from fabcom.api import handles

        seen = []

        @handles("Delete")
        async def on_delete(activity, sender):
            seen.append(activity["object"])
            return True
    """)
    register_federation_handlers(build_registry(["extra_fed"]))
    seen = sys.modules["fabcom_extra_fed.federation"].seen
    # the core's purge declines what is not in its mirror: the module's handler gets it
    partner = await make_org("b-remote", is_local=False, remote_uri=SENDER.actor_uri)
    sender = Sender(actor_uri=SENDER.actor_uri, organization_id=partner.id)
    assert await dispatch({"type": "Delete", "actor": sender.actor_uri, "object": "https://b.example/x/1"}, sender)
    assert seen == ["https://b.example/x/1"]


def test_a_batch_handler_for_a_type_the_core_handles_is_refused_naming_the_module(module_with_handlers):
    module_with_handlers("""
        from fabcom.api import handles_batch

        @handles_batch("Create")
        async def mine(activities, sender):
            pass
    """)
    with pytest.raises(ModuleError) as refused:
        register_federation_handlers(build_registry(["extra_fed"]))
    assert str(refused.value) == (
        "module 'extra_fed': the federation batch handler for 'Create' is already registered by fabcom.federation.mirror"
    )
    # and the core keeps its own
    assert handlers._batch_handlers["Create"].__module__ == "fabcom.federation.mirror"
