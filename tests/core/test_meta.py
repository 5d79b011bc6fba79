"""Project-level guarantees: layout, migrations in step with models, complete catalogues."""

from __future__ import annotations

import json
import tomllib

from babel.messages.pofile import read_po

from fabcom.migrations_api import detect_model_changes
from fabcom.settings import Settings


def test_required_top_level_layout(project_root):
    for name in [
        "pyproject.toml",
        "fabcom",
        "modules",
        "graphql",
        "templates",
        "tests",
        "deploy",
        "README.md",
        "Makefile",
        "docs",
        "bench",
        "CHANGELOG.md",
        ".ci/run",
    ]:
        assert (project_root / name).exists(), name
    # graphql-core owns the import name `graphql`: the folder must never become a package
    assert not list((project_root / "graphql").rglob("*.py"))


def test_packaging_declares_the_command_and_the_module_entry_point_group(project_root):
    project = tomllib.loads((project_root / "pyproject.toml").read_text())
    assert project["project"]["scripts"] == {"fabcom": "fabcom.cli:main"}
    assert "fabcom.modules" in project["project"]["entry-points"]
    assert project["project"]["requires-python"] == ">=3.11"
    dependencies = " ".join(project["project"]["dependencies"])
    assert "strawberry-graphql>=0.323.2" in dependencies
    assert "starlette>=0.49.1" in dependencies


async def test_migrations_match_the_models(tmp_path):
    pending = await detect_model_changes(Settings(var_dir=tmp_path, database_url=f"sqlite://{tmp_path}/x.sqlite3"))
    assert [f"{w.app_label}.{w.name}" for w in pending] == []


def test_every_message_has_a_french_translation(project_root):
    with (project_root / "fabcom/locale/messages.pot").open("rb") as fh:
        template = read_po(fh)
    with (project_root / "fabcom/locale/fr/LC_MESSAGES/messages.po").open("rb") as fh:
        french = read_po(fh, locale="fr")
    # A message with a context (pgettext) is a message of its own: looked up with it.
    untranslated = sorted(
        m.id for m in template if m.id and not (french.get(m.id, m.context) and french.get(m.id, m.context).string)
    )
    assert untranslated == []


def test_taxonomy_keeps_ademe_attribution_and_rep_channels(project_root):
    data = json.loads((project_root / "fabcom/inventory/data/taxonomy.json").read_text())
    assert "ADEME" in data["attribution"]
    assert "MIT" in data["attribution"]
    codes = {c["code"]: c for c in data["categories"]}
    assert len([c for c in codes if c.startswith("C_")]) == 28
    assert codes["C_15"]["rep_channel"] == "DEA"
    assert codes["C_22"]["rep_channel"] == "TLC"
    assert codes["C_11"]["rep_channel"] is None
    assert all(c["label_fr"] and c["label_en"] for c in data["categories"])
    assert {c["rep_channel"] for c in data["categories"]} - {None} <= set(data["rep_channels"])


def test_browser_tests_never_wait_with_wait_for_function(project_root):
    """Playwright's wait_for_function polls with ``eval`` inside the page, which our
    Content-Security-Policy refuses whenever its first check is false: a test that
    passes or fails with the machine's speed. ``fabcom.testing.browser.wait_until_true``
    waits without it."""
    needle = "page.wait_for_" + "function("
    tests = [*(project_root / "tests").rglob("*.py"), *(project_root / "modules").rglob("tests/*.py")]
    assert [str(p.relative_to(project_root)) for p in tests if needle in p.read_text()] == []
