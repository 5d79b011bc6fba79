"""The module registry: discovery, dependency order, and every refusal with its message."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from fabcom.module_system.manifest import ManifestError, Module
from fabcom.module_system.registry import ModuleError, Registry, discover, resolve
from fabcom.permissions import Scope


def mod(slug: str, *depends: str, requires: str = "", version: str = "1.0") -> Module:
    return Module(slug=slug, name=slug.title(), version=version, depends=depends, requires=requires)


def test_dependencies_come_first():
    available = {m.slug: m for m in (mod("stats", "bookings", "shop"), mod("bookings"), mod("shop", "bookings"))}
    assert [m.slug for m in resolve(available, ["stats", "bookings", "shop"])] == ["bookings", "shop", "stats"]


@pytest.mark.parametrize(
    ("modules", "enabled", "message"),
    [
        ([mod("bookings")], ["booking"], "module 'booking': not installed (installed modules: bookings)"),
        ([mod("stats", "bookings")], ["stats"], "module 'stats': depends on 'bookings', which is not installed"),
        (
            [mod("stats", "bookings"), mod("bookings")],
            ["stats"],
            "module 'stats': depends on 'bookings', which is not enabled (add it to FABCOM_MODULES)",
        ),
        (
            [mod("aa", "bb"), mod("bb", "cc"), mod("cc", "aa")],
            ["aa", "bb", "cc"],
            "module 'aa': circular dependency (aa -> bb -> cc -> aa)",
        ),
        (
            [mod("shop", requires=">=2.0")],
            ["shop"],
            "module 'shop': version 1.0 requires fabcom >=2.0, this is fabcom 0.1.0.dev0",
        ),
    ],
)
def test_each_refusal_names_the_module(modules, enabled, message):
    with pytest.raises(ModuleError) as refused:
        resolve({m.slug: m for m in modules}, enabled, core_version="0.1.0.dev0")
    assert str(refused.value) == message


def test_a_matching_version_range_includes_development_versions():
    assert resolve({"shop": mod("shop", requires=">=0.1.0.dev0,<0.2")}, ["shop"], core_version="0.1.0.dev0")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slug": "Bad-Slug"}, "module 'Bad-Slug': slug must be 2-31 lowercase letters, digits or _ and not reserved"),
        ({"slug": "graphql"}, "module 'graphql': slug must be 2-31 lowercase letters, digits or _ and not reserved"),
        # a core scope's domain: its module could declare « inventory:read » as its own
        (
            {"slug": "inventory"},
            "module 'inventory': slug must be 2-31 lowercase letters, digits or _ and not reserved",
        ),
        ({"version": "one"}, "module 'shop': version 'one' is not a valid version"),
        ({"requires": "fabcom 1"}, "module 'shop': requires 'fabcom 1' is not a version specifier"),
        ({"permissions": ("book",)}, "module 'shop': permission 'book' must start with shop."),
        ({"graphql_prefix": "shop"}, "module 'shop': graphql_prefix must be CamelCase"),
        ({"graphql_field_prefixes": ("Shop",)}, "module 'shop': graphql_field_prefixes must be lowerCamelCase"),
        (
            {"scopes": (Scope("inventory:read", "R", "R"),)},
            "module 'shop': scope 'inventory:read' must be shop:<verb> (lowercase)",
        ),
        (
            {"scopes": (Scope("shop:Read", "R", "R"),)},
            "module 'shop': scope 'shop:Read' must be shop:<verb> (lowercase)",
        ),
        ({"scopes": (Scope("shop", "R", "R"),)}, "module 'shop': scope 'shop' must be shop:<verb> (lowercase)"),
        ({"scopes": (Scope("shop:read", "R", "R"),) * 2}, "module 'shop': a scope is declared twice"),
    ],
)
def test_bad_manifests_are_refused(fields, message):
    with pytest.raises(ManifestError) as refused:
        Module(**{"slug": "shop", "name": "Shop", "version": "1.0", **fields})
    assert str(refused.value) == message


def test_graphql_prefixes_derive_from_the_slug():
    manifest = Module(slug="demo_stats", name="Stats", version="1.0")
    assert (manifest.type_prefix, manifest.field_prefix) == ("DemoStats", "demoStats")


def test_the_registry_is_frozen_after_start_up():
    registry = Registry((mod("bookings"),)).freeze()
    with pytest.raises(ModuleError) as refused:
        registry.add(mod("intruder"))
    assert str(refused.value) == "module 'intruder': the registry is frozen after start-up"
    assert [m.slug for m in registry] == ["bookings"]


@pytest.fixture
def installed_distribution(tmp_path: Path):
    """A module shipped as its own distribution: a package plus dist-info with the entry point."""

    def install(slug: str, dist: str = "fabcom-extra") -> Path:
        package = tmp_path / f"{dist.replace('-', '_')}_{slug}"
        package.mkdir()
        (package / "__init__.py").write_text(
            textwrap.dedent(f"""
            from fabcom.module_system.manifest import Module
            module = Module(slug="{slug}", name="Extra", version="0.3.0", requires=">=0.1.0.dev0")
        """)
        )
        info = tmp_path / f"{dist}-0.3.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3.0\n")
        (info / "entry_points.txt").write_text(f"[fabcom.modules]\n{slug} = {package.name}\n")
        return package

    sys.path.insert(0, str(tmp_path))
    yield install
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith("fabcom_extra")]:
        del sys.modules[name]


def test_a_separately_installed_distribution_is_discovered(installed_distribution):
    package = installed_distribution("extra_reports")
    found = discover()
    assert found["extra_reports"].version == "0.3.0"
    assert found["extra_reports"].package == package.name


def test_a_distribution_installed_after_a_first_discovery_is_found(installed_distribution):
    # Discovery keeps the entry points it read while sys.path's folders are unchanged.
    before = discover()
    installed_distribution("extra_reports")

    assert "extra_reports" not in before
    assert discover()["extra_reports"].version == "0.3.0"


def test_two_modules_with_one_slug_are_refused(installed_distribution, tmp_path):
    installed_distribution("extra_reports")
    # a second distribution claiming the same slug
    package = tmp_path / "other_reports"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from fabcom.module_system.manifest import Module\nmodule = Module(slug='extra_reports', name='X', version='1.0')\n"
    )
    info = tmp_path / "other_reports-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other-reports\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[fabcom.modules]\nextra_reports = other_reports\n")
    with pytest.raises(ModuleError) as refused:
        discover()
    assert str(refused.value).startswith("module 'extra_reports': installed twice (")
