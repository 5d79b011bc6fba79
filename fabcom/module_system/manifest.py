"""The manifest a module declares once, in ``modules/<slug>/__init__.py`` or in a
separate distribution's ``fabcom.modules`` entry point.

Discovery imports every installed module's manifest, so this file imports no database
code, and offers what a manifest needs (``Module``, ``Scope``, ``Permission``, ``N_``):
a manifest that imports them from here, rather than from ``fabcom.api`` (which loads the
ORM and the core's models), keeps ``fabcom check`` and the settings' validation light.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic_settings import BaseSettings

from fabcom.i18n import N_
from fabcom.module_system.access import ROLE_NAMES, SCOPES, Permission, Scope

__all__ = ["N_", "ManifestError", "Module", "Permission", "Scope"]

SLUG = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
SCOPE = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
# Names the core uses for its own routes, apps and tables.
# The core's scope domains too (``inventory``…): a module's scopes start with its slug, and
# must never be taken for the core's.
RESERVED_SLUGS = frozenset({"fabcom", "core", "api", "static", "admin", "graphql", "media", "m"}) | {
    code.split(":")[0] for code in SCOPES
}


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the module."""


@dataclass(frozen=True)
class Module:
    """A module's identity card.

    ``slug`` names everything the module owns: its Tortoise app and tables
    (``<slug>_…``), its routes (``/m/<slug>/``), its permissions (``<slug>.<verb>``), the
    API token scopes it adds (``<slug>:<verb>``) and its settings (``FABCOM_<SLUG>_…``). ``requires`` is a PEP 440 specifier on fabcom's
    version; ``depends`` lists the slugs of modules that must be enabled before it.
    """

    slug: str
    # Shown translated, like ``description``: mark it with ``N_`` to have it in the catalogues.
    name: str
    version: str
    description: str = ""
    requires: str = ""
    depends: tuple[str, ...] = ()
    graphql_prefix: str = ""
    # Other lowerCamel prefixes the module's root GraphQL fields may start with, beside
    # ``field_prefix`` (bookings: "booking", for ``bookingCreate``).
    graphql_field_prefixes: tuple[str, ...] = ()
    # The module's rights: ``Permission("<slug>.<verb>", roles=(...), scope=...)``, which
    # ``Principal.can`` checks; a bare code string only names one (nothing checks it).
    permissions: tuple[Permission | str, ...] = ()
    # API token scopes for the module's own data (``Scope("bookings:read", N_(name), N_(help))``),
    # offered with the core's wherever a token is created while the module is enabled.
    scopes: tuple[Scope, ...] = ()
    settings: type[BaseSettings] | None = None
    # True when each organization may switch the module on or off for itself.
    per_organization: bool = False
    # The import path of the package holding models.py, views.py, ... (set by discovery
    # for entry points that point at the manifest object rather than the package).
    package: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not SLUG.match(self.slug) or self.slug in RESERVED_SLUGS:
            raise ManifestError(
                f"module {self.slug!r}: slug must be 2-31 lowercase letters, digits or _ and not reserved"
            )
        try:
            Version(self.version)
        except InvalidVersion:
            raise ManifestError(f"module {self.slug!r}: version {self.version!r} is not a valid version") from None
        try:
            SpecifierSet(self.requires)
        except InvalidSpecifier:
            raise ManifestError(
                f"module {self.slug!r}: requires {self.requires!r} is not a version specifier"
            ) from None
        codes = [scope.code for scope in self.scopes]
        for code in codes:
            if not SCOPE.match(code) or not code.startswith(self.slug + ":"):
                raise ManifestError(f"module {self.slug!r}: scope {code!r} must be {self.slug}:<verb> (lowercase)")
        if len(set(codes)) != len(codes):
            raise ManifestError(f"module {self.slug!r}: a scope is declared twice")
        for permission in self.permissions:
            self._check_permission(permission, codes)
        if self.graphql_prefix and not re.match(r"^[A-Z][A-Za-z0-9]*$", self.graphql_prefix):
            raise ManifestError(f"module {self.slug!r}: graphql_prefix must be CamelCase")
        for prefix in self.graphql_field_prefixes:
            if not re.match(r"^[a-z][A-Za-z0-9]*$", prefix):
                raise ManifestError(f"module {self.slug!r}: graphql_field_prefixes must be lowerCamelCase")

    def _check_permission(self, permission: Permission | str, scopes: list[str]) -> None:
        code = permission if isinstance(permission, str) else permission.code
        if not code.startswith(self.slug + "."):
            raise ManifestError(f"module {self.slug!r}: permission {code!r} must start with {self.slug}.")
        if isinstance(permission, str):
            return
        unknown = [role for role in permission.roles if role not in ROLE_NAMES]
        if unknown or not permission.roles:
            raise ManifestError(
                f"module {self.slug!r}: permission {code!r}: roles must be among {', '.join(ROLE_NAMES)}"
                + (f" (not {unknown[0]!r})" if unknown else "")
            )
        if permission.scope not in scopes and permission.scope not in SCOPES:
            raise ManifestError(
                f"module {self.slug!r}: permission {code!r} asks the scope {permission.scope!r}, "
                "which neither the module nor the core declares"
            )

    @property
    def type_prefix(self) -> str:
        """Prefix of the module's GraphQL names (``RessourcerieIntake``)."""
        return self.graphql_prefix or "".join(part.capitalize() for part in self.slug.split("_"))

    @property
    def field_prefix(self) -> str:
        """Prefix of the module's top-level GraphQL fields (``ressourcerieIntakes``)."""
        prefix = self.type_prefix
        return prefix[0].lower() + prefix[1:]

    def owns_field(self, name: str) -> bool:
        """Whether a root GraphQL field name carries one of the module's prefixes."""
        return any(name.startswith(p) for p in (self.field_prefix, *self.graphql_field_prefixes))

    def accepts_core(self, core_version: str) -> bool:
        return SpecifierSet(self.requires).contains(Version(core_version), prereleases=True)
