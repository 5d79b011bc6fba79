"""The core's hooks. Each is documented in docs/modules.md (a test checks it)."""

from __future__ import annotations

from typing import Any

from fabcom.module_system.hooks import hookspec


@hookspec
def fabcom_load_demo_data(context: dict[str, Any]) -> Any:
    """Add the module's demo data after the core's (``fabcom demo``).

    ``context`` holds the demo organizations by slug (``context["organizations"]``) and
    users by e-mail (``context["users"]``). May be a coroutine.
    """
