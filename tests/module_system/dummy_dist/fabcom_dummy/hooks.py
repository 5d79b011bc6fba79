"""The core hooks the dummy module implements."""

from typing import Any

from fabcom.api import N_, hookimpl


@hookimpl
def fabcom_menu_items(organization: Any, principal: Any) -> list[dict[str, str]]:
    """One menu entry."""
    return [{"label": N_("Dummy things"), "url": "/m/dummy/"}]


@hookimpl
async def fabcom_load_demo_data(context: dict[str, Any]) -> None:
    """Add one dummy thing to the demo."""
    from fabcom_dummy.models import DummyThing

    await DummyThing.create(name="demo")
