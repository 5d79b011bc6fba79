"""A module's ``jobs.py`` is imported by ``load_jobs``; a job name already taken stops
start-up with one line naming the module."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from fabcom.jobs.registry import load_jobs, registry
from fabcom.module_system.registry import ModuleError


@pytest.fixture
def module_with_jobs(tmp_path: Path):
    """A distribution on ``sys.path`` exposing module ``extra_jobs`` whose jobs.py is given."""
    load_jobs(enabled=[])  # the core's jobs first, so that they are kept at the end
    before_jobs, before_crons = dict(registry.jobs), list(registry.crons)

    def install(jobs_source: str) -> None:
        package = tmp_path / "fabcom_extra_jobs"
        package.mkdir()
        (package / "__init__.py").write_text(
            "from fabcom.api import Module\n"
            "module = Module(slug='extra_jobs', name='Extra', version='1.0', requires='>=0.1.0.dev0')\n"
        )
        (package / "jobs.py").write_text(textwrap.dedent(jobs_source))
        info = tmp_path / "fabcom_extra_jobs-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fabcom-extra-jobs\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[fabcom.modules]\nextra_jobs = fabcom_extra_jobs\n")

    sys.path.insert(0, str(tmp_path))
    yield install
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith("fabcom_extra_jobs")]:
        del sys.modules[name]
    registry.jobs.clear()
    registry.jobs.update(before_jobs)
    registry.crons[:] = before_crons


def test_an_enabled_modules_jobs_and_crons_are_loaded(module_with_jobs):
    module_with_jobs("""
        from fabcom.api import cron, job

        @job()
        async def count_extras(ctx):
            \"\"\"Count.\"\"\"

        cron("count_extras", hour=3, minute=0)
    """)
    loaded = load_jobs(enabled=["extra_jobs"])
    assert loaded.jobs["count_extras"].description == "Count."
    assert [c.job_name for c in loaded.crons if c.job_name == "count_extras"] == ["count_extras"]


def test_a_disabled_modules_jobs_are_not_loaded(module_with_jobs):
    module_with_jobs("""
        from fabcom.api import job

        @job()
        async def count_extras(ctx):
            \"\"\"Count.\"\"\"
    """)
    assert "count_extras" not in load_jobs(enabled=[]).jobs


def test_a_clash_of_job_names_is_refused_naming_the_module(module_with_jobs):
    module_with_jobs("""
        from fabcom.api import job

        @job("remind_memberships")
        async def remind(ctx):
            \"\"\"Clash.\"\"\"
    """)
    with pytest.raises(ModuleError) as refused:
        load_jobs(enabled=["extra_jobs"])
    assert str(refused.value) == (
        "module 'extra_jobs': job 'remind_memberships' is declared twice (fabcom_extra_jobs.jobs)"
    )
