"""What to do with an activity received from another server, by activity type.

The inbox verifies a message, stores it and hands it to a job; the job calls
``dispatch``. Catching up from a partner's outbox applies a whole page as
``dispatch_batch`` does, so a type with a batch handler is written with one statement per
page, not per activity; a batch handler with a ``prepare`` step has the next page checked
while the previous one is written. Each concern registers its handlers in its own module, listed in
``HANDLER_MODULES``; an activity no handler takes is ignored (and logged by the caller).

Modules register theirs in their ``federation.py`` (imported at start-up by the module
system, see ``use_module_handlers``): they run after the core's, only while the module is
enabled, and a module may not take a batch type the core or another module already has.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Activity = dict[str, Any]


@dataclass(frozen=True)
class Sender:
    """The verified author of an activity: its actor id and the local mirror of its organization."""

    actor_uri: str
    organization_id: int


# A handler answers True when the activity was for it (an ``Accept`` may be of a Follow
# or of an Agreement: each handler looks at the object and declines what is not its own).
Handler = Callable[[Activity, Sender], Awaitable[bool]]
BatchHandler = Callable[[list[Activity], Sender], Awaitable[None]]
# A batch handler's optional first step: pure work on a run (checks, building rows; no
# database, no await) that returns what applies the run. The catch-up prepares a page
# while the previous one is still being written, then applies it after, in order.
PrepareBatch = Callable[[list[Activity], Sender], Callable[[], Awaitable[None]]]

HANDLER_MODULES: list[str] = [
    "fabcom.federation.partnerships",
    "fabcom.federation.mirror",
    "fabcom.federation.exchanges",
]

_handlers: dict[str, list[Handler]] = {}
_batch_handlers: dict[str, BatchHandler] = {}
_loaded = False
# Every batch handler registered for a type (a second one is a clash: see ``batch_clashes``).
_batch_claims: dict[str, list[BatchHandler]] = {}
# The packages of the modules whose ``federation.py`` was ever loaded, and of those enabled now.
_module_packages: set[str] = set()
_enabled_packages: set[str] = set()


class HandlerClash(Exception):
    """A module's batch handler for a type that already has one; the message names both."""


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for activity_type in types:
            found = _handlers.setdefault(activity_type, [])
            found[:] = [h for h in found if not _same(h, func)]  # a module imported again replaces its own
            found.append(func)
        return func

    return register


def handles_batch(*types: str, prepare: PrepareBatch | None = None) -> Callable[[BatchHandler], BatchHandler]:
    def register(func: BatchHandler) -> BatchHandler:
        func.prepare = prepare  # type: ignore[attr-defined]
        for activity_type in types:
            claims = _batch_claims.setdefault(activity_type, [])
            claims[:] = [f for f in claims if not _same(f, func)]
            claims.append(func)
            current = _batch_handlers.get(activity_type)
            if current is None or _same(current, func) or _module_of(current) is not None:
                _batch_handlers[activity_type] = func
        return func

    return register


def _same(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    return (getattr(a, "__module__", None), getattr(a, "__qualname__", None)) == (
        getattr(b, "__module__", None),
        getattr(b, "__qualname__", None),
    )


def _module_of(func: Callable[..., Any]) -> str | None:
    """The package of the module that registered ``func``; None for the core's (and tests')."""
    name = getattr(func, "__module__", "") or ""
    for package in _module_packages:
        if name == package or name.startswith(package + "."):
            return package
    return None


def _active(func: Callable[..., Any]) -> bool:
    package = _module_of(func)
    return package is None or package in _enabled_packages


def use_module_handlers(loaded: list[str], enabled: set[str]) -> None:
    """Called by the module system at start-up: ``loaded`` are the packages whose
    ``federation.py`` it imported, ``enabled`` those of the enabled modules (a disabled
    module's handlers stay registered but never run)."""
    _module_packages.update(loaded)
    _enabled_packages.clear()
    _enabled_packages.update(enabled)
    for activity_type, claims in _batch_claims.items():
        current = _batch_handlers.get(activity_type)
        if current is not None and not _active(current):
            replacement = [f for f in claims if _active(f)]
            if replacement:
                _batch_handlers[activity_type] = replacement[0]


def batch_clashes(package: str) -> list[str]:
    """One line per activity type for which the module ``package`` registered a batch
    handler that the core or another enabled module already registered."""
    lines = []
    for activity_type, claims in sorted(_batch_claims.items()):
        mine = [i for i, f in enumerate(claims) if _module_of(f) == package]
        others = [f for f in claims[: mine[0]] if _active(f)] if mine else []
        if others:
            lines.append(
                f"the federation batch handler for {activity_type!r} is already registered by {others[0].__module__}"
            )
    return lines


def load_handlers() -> None:
    global _loaded
    if not _loaded:
        for name in HANDLER_MODULES:
            importlib.import_module(name)
        _loaded = True


async def dispatch(activity: Activity, sender: Sender) -> bool:
    """Run the first handler that takes ``activity``; False when none did."""
    load_handlers()
    found = _handlers.get(str(activity.get("type")), [])
    # The core's handlers first, then the enabled modules' (each declines what is not its own).
    for handler in [h for h in found if _module_of(h) is None] + [h for h in found if _module_of(h) is not None]:
        if not _active(handler):
            continue
        if await handler(activity, sender):
            return True
    return False


async def dispatch_batch(activities: list[Activity], sender: Sender) -> None:
    """Apply a page of activities in order: runs of one type that has a batch handler go
    to it together, the others one by one."""
    await apply_batch(prepare_batch(activities, sender))


@dataclass
class Run:
    """Consecutive activities of one type, and what applies them."""

    activities: list[Activity]
    apply: Callable[[], Awaitable[None]]


def prepare_batch(activities: list[Activity], sender: Sender) -> list[Run]:
    """A page as runs of one type, in order, each with its batch handler's ``prepare`` step
    already done (pure work, see ``PrepareBatch``); nothing is written yet."""
    load_handlers()
    groups: list[list[Activity]] = []
    for activity in activities:
        if groups and activity.get("type") == groups[-1][0].get("type"):
            groups[-1].append(activity)
        else:
            groups.append([activity])
    return [Run(group, _applier(group, sender)) for group in groups]


def _applier(run: list[Activity], sender: Sender) -> Callable[[], Awaitable[None]]:
    batch = _batch_handlers.get(str(run[0].get("type")))
    if batch is not None and _active(batch):
        prepare: PrepareBatch | None = getattr(batch, "prepare", None)
        if prepare is not None:
            return prepare(run, sender)
        return lambda: batch(run, sender)

    async def one_by_one() -> None:
        for activity in run:
            await dispatch(activity, sender)

    return one_by_one


async def apply_batch(runs: list[Run]) -> None:
    """Write the runs ``prepare_batch`` made, in order."""
    for run in runs:
        await run.apply()
