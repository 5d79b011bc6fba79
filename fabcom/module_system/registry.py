"""Finding modules, checking them, ordering them by dependency, and freezing the result.

The registry refuses to start — with one line naming the module — on an unknown
module, a missing or circular dependency, a version mismatch, or two modules with
the same slug. Once frozen at start-up nothing can be added to it.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from fabcom import __version__
from fabcom.module_system.manifest import ManifestError, Module

ENTRY_POINT_GROUP = "fabcom.modules"
FIRST_PARTY_PACKAGE = "modules"


class ModuleError(Exception):
    """The enabled modules cannot run together; the message names the module."""


def _manifest_of(obj: object, where: str) -> Module:
    if isinstance(obj, Module):
        return obj
    manifest = getattr(obj, "module", None)
    if isinstance(manifest, Module):
        return manifest
    raise ModuleError(f"{where}: no fabcom Module manifest found (define `module = Module(...)`)")


def _with_package(manifest: Module, package: str) -> Module:
    if manifest.package:
        return manifest
    object.__setattr__(manifest, "package", package)  # frozen dataclass: set once, at discovery
    return manifest


# The ``fabcom.modules`` entry points last read, and the state of ``sys.path`` they were read in.
_entry_points_cache: tuple[tuple[tuple[str, int], ...], tuple[EntryPoint, ...]] | None = None


def _path_state() -> tuple[tuple[str, int], ...]:
    """Each ``sys.path`` folder with its modification time: installing or removing a
    distribution adds or removes a ``*.dist-info`` folder there, which changes it."""
    state = []
    for folder in sys.path:
        try:
            state.append((folder, os.stat(folder or ".").st_mtime_ns))
        except OSError:
            state.append((folder, -1))
    return tuple(state)


def _module_entry_points() -> tuple[EntryPoint, ...]:
    """The ``fabcom.modules`` entry points of the installed distributions. Reading them
    opens the metadata of every installed distribution (~10-20 ms), and ``fabcom serve``
    builds the registry five times while it starts (the command's check, the routes, the
    database, the jobs, the GraphQL schema): the answer is kept while ``sys.path`` and
    its folders are unchanged."""
    global _entry_points_cache
    state = _path_state()
    if _entry_points_cache is None or _entry_points_cache[0] != state:
        _entry_points_cache = (state, tuple(entry_points(group=ENTRY_POINT_GROUP)))
    return _entry_points_cache[1]


def discover() -> dict[str, Module]:
    """Every installed module: the first-party ones under ``modules/`` and those that
    other distributions expose in the ``fabcom.modules`` entry-point group."""
    found: dict[str, Module] = {}

    def add(manifest: Module, where: str) -> None:
        if manifest.slug in found:
            raise ModuleError(f"module {manifest.slug!r}: installed twice ({found[manifest.slug].package} and {where})")
        found[manifest.slug] = manifest

    first_party = importlib.import_module(FIRST_PARTY_PACKAGE)
    for info in pkgutil.iter_modules(first_party.__path__):
        if not info.ispkg:
            continue
        package = f"{FIRST_PARTY_PACKAGE}.{info.name}"
        try:
            add(_with_package(_manifest_of(importlib.import_module(package), package), package), package)
        except ManifestError as exc:
            raise ModuleError(str(exc)) from None
    for entry_point in _module_entry_points():
        try:
            loaded = entry_point.load()
        except ManifestError as exc:
            raise ModuleError(str(exc)) from None
        except Exception as exc:
            raise ModuleError(
                f"module {entry_point.name!r}: cannot be imported ({type(exc).__name__}: {exc})"
            ) from None
        package = loaded.__name__ if isinstance(loaded, ModuleType) else entry_point.value.split(":")[0]
        add(_with_package(_manifest_of(loaded, entry_point.value), package), entry_point.value)
    return found


def resolve(available: dict[str, Module], enabled: Iterable[str], core_version: str = __version__) -> list[Module]:
    """The enabled modules in dependency order (dependencies first), or ModuleError."""
    wanted = list(dict.fromkeys(enabled))
    for slug in wanted:
        if slug not in available:
            known = ", ".join(sorted(available)) or "none"
            raise ModuleError(f"module {slug!r}: not installed (installed modules: {known})")
    for slug in wanted:
        manifest = available[slug]
        if not manifest.accepts_core(core_version):
            raise ModuleError(
                f"module {slug!r}: version {manifest.version} requires fabcom {manifest.requires}, this is fabcom {core_version}"
            )
        for dependency in manifest.depends:
            if dependency not in available:
                raise ModuleError(f"module {slug!r}: depends on {dependency!r}, which is not installed")
            if dependency not in wanted:
                raise ModuleError(
                    f"module {slug!r}: depends on {dependency!r}, which is not enabled (add it to FABCOM_MODULES)"
                )

    ordered: list[Module] = []
    state: dict[str, str] = {}  # slug -> "visiting" | "done"

    def visit(slug: str, path: list[str]) -> None:
        if state.get(slug) == "done":
            return
        if state.get(slug) == "visiting":
            cycle = " -> ".join([*path[path.index(slug) :], slug])
            raise ModuleError(f"module {slug!r}: circular dependency ({cycle})")
        state[slug] = "visiting"
        for dependency in available[slug].depends:
            visit(dependency, [*path, slug])
        state[slug] = "done"
        ordered.append(available[slug])

    for slug in wanted:
        visit(slug, [])
    return ordered


@dataclass
class Registry:
    """The enabled modules, in dependency order. Frozen after start-up."""

    modules: tuple[Module, ...] = ()
    frozen: bool = False

    def __post_init__(self) -> None:
        self._by_slug = {m.slug: m for m in self.modules}
        self._settings: dict[str, BaseSettings] = {}

    def settings_for(self, slug: str) -> BaseSettings:
        """The module's settings, read from ``FABCOM_<SLUG>_*`` (defaults otherwise)."""
        if slug not in self._settings:
            manifest = self._by_slug[slug]
            if manifest.settings is None:
                raise ModuleError(f"module {slug!r}: declares no settings")
            prefix = f"FABCOM_{slug.upper()}_"
            try:
                self._settings[slug] = manifest.settings(_env_prefix=prefix)
            except ValidationError as exc:
                first = exc.errors()[0]
                name = prefix + str(first["loc"][0]).upper() if first["loc"] else prefix + "*"
                raise ModuleError(f"module {slug!r}: {name}: {first['msg']}") from None
        return self._settings[slug]

    def refresh_settings(self) -> None:
        """Read every module's settings again from the environment (tests that change a
        ``FABCOM_<SLUG>_*`` variable at run time; a running instance reads them once)."""
        self._settings.clear()
        for manifest in self.modules:
            if manifest.settings is not None:
                self.settings_for(manifest.slug)

    def add(self, manifest: Module) -> None:
        if self.frozen:
            raise ModuleError(f"module {manifest.slug!r}: the registry is frozen after start-up")
        self.modules = (*self.modules, manifest)
        self._by_slug[manifest.slug] = manifest

    def freeze(self) -> Registry:
        self.frozen = True
        return self

    def get(self, slug: str) -> Module | None:
        return self._by_slug.get(slug)

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def __iter__(self):
        return iter(self.modules)

    def submodule(self, manifest: Module, name: str) -> ModuleType | None:
        """Import ``<package>.<name>`` (models, views, schema, jobs, hooks) if the module has one."""
        target = f"{manifest.package}.{name}"
        try:
            return importlib.import_module(target)
        except ModuleNotFoundError as exc:
            if exc.name == target:
                return None
            raise


def build_registry(enabled: Iterable[str]) -> Registry:
    """Discover, check and order the enabled modules, and read their settings (a bad
    value stops start-up, naming the module and the variable)."""
    registry = Registry(tuple(resolve(discover(), enabled)))
    for manifest in registry:
        if manifest.settings is not None:
            registry.settings_for(manifest.slug)
    return registry


# The registry of the running instance: built, frozen and activated once at start-up
# (``open_database``), then read on hot paths (module settings, per-organization switches)
# without discovering the modules again.
_active: Registry | None = None


def activate(registry: Registry) -> Registry:
    """Freeze ``registry`` and make it the instance's active one."""
    global _active
    _active = registry.freeze()
    return _active


def active_registry() -> Registry | None:
    """The registry activated at start-up, or None before start-up."""
    return _active
