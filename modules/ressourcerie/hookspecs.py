"""Hooks that the ressourcerie module offers to other modules."""

from __future__ import annotations

from typing import Any

from fabcom.api import hookspec


@hookspec
def ressourcerie_scale_scripts(organization: Any) -> Any:
    """Connect a scale to the weighing station. Return the URLs of scripts (usually
    ``static_url("<your module>", "<file>.js")``) that the weighing page loads for
    ``organization``, or ``None``. The script reads the scale (WebSerial, WebHID, a local
    bridge…) and reports each stable reading with
    ``document.dispatchEvent(new CustomEvent("ressourcerie:scale-reading", {detail: {kg: 12.5}}))``:
    the gross weight field takes it, the volunteer checks it and presses Enter. May be a
    coroutine.
    """
