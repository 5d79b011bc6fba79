"""The lock files pin every dependency of pyproject.toml within its range, and the
Makefile and the Dockerfile install from them (offline: nothing is downloaded)."""

from __future__ import annotations

import re
import tomllib

import dockerfile
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==([^\s;]+)", line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def test_every_dependency_is_pinned_within_its_range(project_root):
    project = tomllib.loads((project_root / "pyproject.toml").read_text())["project"]
    runtime = pins(project_root / "requirements.lock")
    dev = pins(project_root / "requirements-dev.lock")
    problems = []
    for lock, requirements in (
        (runtime, project["dependencies"]),
        (dev, project["dependencies"] + project["optional-dependencies"]["dev"]),
    ):
        for text in requirements:
            requirement = Requirement(text)
            version = lock.get(canonicalize_name(requirement.name))
            if version is None:
                problems.append(f"{requirement.name} is not in the lock: run `make lock`")
            elif not requirement.specifier.contains(version, prereleases=True):
                problems.append(f"{requirement.name}=={version} is outside {requirement.specifier}: run `make lock`")
    assert problems == []
    assert set(runtime) <= set(dev)
    assert all(dev[name] == version for name, version in runtime.items())


def test_the_makefile_and_the_dockerfile_install_from_the_lock(project_root):
    makefile = (project_root / "Makefile").read_text()
    assert "pip install --quiet -r requirements.lock" in makefile
    assert "pip install --quiet -r requirements-dev.lock" in makefile
    assert "pip-audit --strict" in makefile
    runs = [
        " ".join(c.value) for c in dockerfile.parse_file(str(project_root / "deploy" / "Dockerfile")) if c.cmd == "RUN"
    ]
    assert any("-r requirements.lock" in run for run in runs)
    assert any("--no-deps ." in run for run in runs)
