"""The hooks: the few named seams where modules plug into the core and into each other.

Built on pluggy. A module implements a hook with ``@hookimpl`` in its ``hooks.py``; a
module may also declare hooks of its own (``@hookspec`` in its ``hookspecs.py``) for
other modules to implement, as bookings does for booking rules. Hook implementations
may be coroutines: ``call_async`` awaits what they return.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "fabcom"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


def new_plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(PROJECT)
    from fabcom.module_system import hookspecs

    manager.add_hookspecs(hookspecs)
    return manager


_manager: pluggy.PluginManager | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The instance's plugin manager (filled from the enabled modules at start-up)."""
    return _manager or reset_plugin_manager()


def reset_plugin_manager() -> pluggy.PluginManager:
    """A fresh manager: used when the set of enabled modules changes (tests, start-up)."""
    global _manager
    _manager = new_plugin_manager()
    return _manager


async def call_async(hook: Callable[..., list[Any]], **kwargs: Any) -> list[Any]:
    """Call a hook and await the implementations that returned awaitables."""
    called = hook(**kwargs)  # pluggy calls every implementation first: the async ones give coroutines
    results: list[Any] = []
    try:
        for result in called:
            results.append(await result if inspect.isawaitable(result) else result)
    finally:
        # One that raised (an archive refused) leaves those after it unrun: closed, not
        # left for the garbage collector to warn about.
        for result in called[len(results) :]:
            if inspect.iscoroutine(result):
                result.close()
    return results


async def call_async_except(hook: Any, skip: set[str], **kwargs: Any) -> list[Any]:
    """``call_async``, leaving out the implementations of the modules in ``skip`` (those
    an organization switched off). Called in pluggy's order (last registered first)."""
    results = []
    for implementation in reversed(hook.get_hookimpls()):
        if implementation.plugin_name in skip:
            continue
        result = implementation.function(**{name: kwargs[name] for name in implementation.argnames})
        result = await result if inspect.isawaitable(result) else result
        if result is not None:
            results.append(result)
    return results
