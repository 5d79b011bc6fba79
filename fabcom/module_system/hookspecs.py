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


@hookspec
def fabcom_menu_items(organization: Any, principal: Any) -> Any:
    """Entries the module adds to an organization's menu in the web UI.

    Return a list of ``{"label": N_("Bookings"), "url": "/m/bookings/o/<slug>/"}``
    for what ``principal`` may use in ``organization`` (an empty list otherwise).
    Labels are English message ids, translated when the menu is shown. May be a coroutine.
    """
