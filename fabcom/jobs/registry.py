"""The job registry: every job function and cron entry, declared once, keyed by name.

The core declares its jobs with ``@job`` and ``cron(...)`` in its ``jobs.py`` files; a
module does the same in its own ``jobs.py`` (the module system imports it before the
registry is frozen). Names are ``verb_noun`` (``deliver_webhook``); a job receives ids
and plain values, never objects, because its arguments are stored as JSON.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

JobFunction = Callable[..., Awaitable[Any]]
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")

# The core's job modules, imported by ``load_jobs``; modules append their own.
CORE_JOB_MODULES = [
    "fabcom.jobs.builtin",
    "fabcom.auth.jobs",
    "fabcom.notifications.jobs",
    "fabcom.webhooks.jobs",
    "fabcom.members.jobs",
    "fabcom.projects.jobs",
    "fabcom.federation.jobs",
]


class RegistryError(Exception):
    """A job or cron declaration the registry refuses (bad name, clash, frozen)."""


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Awaitable[Any]]
    description: str


@dataclass(frozen=True)
class CronSpec:
    """A periodic job. The fields are arq's ``cron`` options (None = every value), so the
    arq worker and the embedded runner compute the same schedule with ``arq.cron.next_cron``."""

    job_name: str
    month: int | set[int] | None = None
    day: int | set[int] | None = None
    weekday: int | set[int] | None = None
    hour: int | set[int] | None = None
    minute: int | set[int] | None = None
    second: int = 0

    def schedule(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "day": self.day,
            "weekday": self.weekday,
            "hour": self.hour,
            "minute": self.minute,
            "second": self.second,
            "microsecond": 0,
        }


@dataclass
class JobRegistry:
    jobs: dict[str, JobSpec] = field(default_factory=dict)
    crons: list[CronSpec] = field(default_factory=list)
    frozen: bool = False

    def job(self, name: str | None = None) -> Callable[[JobFunction], JobFunction]:
        """Declare a job function ``async def f(ctx: JobContext, **args)``."""

        def register(func: JobFunction) -> JobFunction:
            job_name = name or func.__name__
            self._check_open(job_name)
            if not NAME_PATTERN.match(job_name):
                raise RegistryError(f"job {job_name!r}: names are verb_noun in lower case, e.g. deliver_webhook")
            if job_name in self.jobs and self.jobs[job_name].func is not func:
                raise RegistryError(f"job {job_name!r} is declared twice ({func.__module__})")
            self.jobs[job_name] = JobSpec(job_name, func, (func.__doc__ or "").strip())
            return func

        return register

    def cron(self, job_name: str, **schedule: Any) -> CronSpec:
        """Run ``job_name`` periodically (arq cron fields: month, day, weekday, hour, minute, second)."""
        self._check_open(job_name)
        spec = CronSpec(job_name, **schedule)
        if any(c.job_name == job_name for c in self.crons):
            raise RegistryError(f"cron entry for {job_name!r} is declared twice")
        self.crons.append(spec)
        return spec

    def get(self, name: str) -> JobSpec:
        try:
            return self.jobs[name]
        except KeyError:
            raise RegistryError(f"unknown job {name!r}") from None

    def validate(self) -> None:
        for spec in self.crons:
            if spec.job_name not in self.jobs:
                raise RegistryError(f"cron entry names an unknown job {spec.job_name!r}")

    def freeze(self) -> None:
        self.validate()
        self.frozen = True

    def _check_open(self, name: str) -> None:
        if self.frozen:
            raise RegistryError(f"job {name!r}: the job registry is frozen once the instance has started")


registry = JobRegistry()
job = registry.job
cron = registry.cron


def load_jobs(extra_modules: list[str] | None = None, enabled: list[str] | None = None) -> JobRegistry:
    """Import the modules that declare jobs (idempotent): the core's, then the ``jobs.py``
    of each enabled module (``enabled``, else ``FABCOM_MODULES``); and check the cron
    entries. A module's job whose name is already taken stops start-up, naming the module."""
    from fabcom.module_system.registry import ModuleError, build_registry
    from fabcom.settings import load_settings

    for module in [*CORE_JOB_MODULES, *(extra_modules or [])]:
        importlib.import_module(module)
    modules = build_registry(load_settings().modules if enabled is None else enabled)
    for manifest in modules:
        try:
            modules.submodule(manifest, "jobs")
        except RegistryError as exc:
            raise ModuleError(f"module {manifest.slug!r}: {exc}") from None
    registry.validate()
    return registry
