"""``fabcom module new NAME``: a working module whose tests pass at once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from string import Template

from fabcom import __version__
from fabcom.module_system.manifest import SLUG, ManifestError, Module
from fabcom.module_system.registry import discover

TEMPLATES = Path(__file__).parent / "scaffold"
FILES = {
    "__init__.py.tmpl": "__init__.py",
    "models.py.tmpl": "models.py",
    "services.py.tmpl": "services.py",
    "views.py.tmpl": "views.py",
    "hooks.py.tmpl": "hooks.py",
    "README.md.tmpl": "README.md",
    "test_module.py.tmpl": "tests/test_{slug}.py",
    "static.css.tmpl": "static/{slug}/{slug}.css",
}


def create_module(slug: str, modules_dir: Path) -> list[Path]:
    """Write ``modules/<slug>/`` from the templates, then its first migration."""
    if not SLUG.match(slug):
        raise ManifestError(
            f"module {slug!r}: the name must be 2-31 lowercase letters, digits or _, starting with a letter"
        )
    Module(slug=slug, name=slug, version="0.1.0")  # refuses reserved names with the same message as at start-up
    target = modules_dir / slug
    if target.exists() or slug in discover():
        raise ManifestError(f"module {slug!r}: already exists")
    words = slug.split("_")
    values = {
        "slug": slug,
        "title": " ".join(words).capitalize(),
        "model": "".join(w.capitalize() for w in words) + "Entry",
        "core_version": __version__,
    }
    written = []
    for template, name in FILES.items():
        path = target / name.format(slug=slug)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template((TEMPLATES / template).read_text()).substitute(values))
        written.append(path)
    (target / "tests" / "__init__.py").write_text("")
    written += _first_migration(slug)
    return written


def _first_migration(slug: str) -> list[Path]:
    import importlib

    from fabcom.migrations_api import make_migrations
    from fabcom.settings import load_settings

    importlib.invalidate_caches()
    settings = load_settings(modules=[slug], database_url="sqlite://:memory:")
    return asyncio.run(make_migrations(settings, "initial"))
