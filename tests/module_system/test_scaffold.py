"""``fabcom module new``: the generated module works, and its own tests pass at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


@pytest.fixture
def project_copy(project_root, tmp_path):
    """A copy of the project, so the generated module does not land in the checkout."""
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "migrations_test*")
    for name in ("fabcom", "modules"):
        shutil.copytree(project_root / name, copy / name, ignore=ignore)
    shutil.copy(project_root / "pyproject.toml", copy / "pyproject.toml")
    return copy


def fabcom(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "fabcom", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "LANG": "en_US.UTF-8"},
    )


def test_a_new_module_passes_its_generated_tests(project_copy):
    created = fabcom(["module", "new", "demo_stats"], project_copy)
    assert created.returncode == 0, created.stderr
    module = project_copy / "modules" / "demo_stats"
    assert sorted(p.name for p in module.iterdir() if p.name != "__pycache__") == [
        "README.md",
        "__init__.py",
        "hooks.py",
        "migrations",
        "models.py",
        "services.py",
        "static",
        "tests",
        "views.py",
    ]
    assert (module / "migrations" / "0001_initial.py").read_text().count("CreateModel") == 1
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "modules/demo_stats", "-q", "-p", "no:cacheprovider"],
        cwd=project_copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout.splitlines()[-1]
    assert "failed" not in tests.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bookings", "error: module 'bookings': already exists"),
        (
            "Demo-Stats",
            "error: module 'Demo-Stats': the name must be 2-31 lowercase letters, digits or _, starting with a letter",
        ),
        ("graphql", "error: module 'graphql': slug must be 2-31 lowercase letters, digits or _ and not reserved"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(project_copy, name, message):
    before = sorted(p.name for p in (project_copy / "modules").iterdir())
    result = fabcom(["module", "new", name], project_copy)
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert sorted(p.name for p in (project_copy / "modules").iterdir()) == before
