"""Every hook is documented in docs/modules.md (a missing one fails here)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import modules
from fabcom.module_system import hookspecs as core_hookspecs
from fabcom.module_system.hooks import PROJECT


def hooks() -> dict[str, object]:
    """Every hook specification, the core's and each first-party module's, by name."""
    sources = [core_hookspecs]
    for info in pkgutil.iter_modules(modules.__path__):
        try:
            sources.append(importlib.import_module(f"modules.{info.name}.hookspecs"))
        except ModuleNotFoundError:
            continue
    return {
        name: fn
        for source in sources
        for name, fn in inspect.getmembers(source, inspect.isfunction)
        if hasattr(fn, f"{PROJECT}_spec")
    }


def hook_names() -> list[str]:
    return sorted(hooks())


def test_every_hook_is_documented(project_root):
    guide = (project_root / "docs" / "modules.md").read_text()
    names = hook_names()
    assert "fabcom_load_demo_data" in names
    assert "bookings_check_booking" in names
    assert "ressourcerie_scale_scripts" in names
    assert [name for name in names if f"### `{name}(" not in guide] == []


def test_every_hook_has_a_docstring():
    assert [name for name, fn in hooks().items() if not inspect.getdoc(fn)] == []
