"""``fabcom check``: one clear line per check (migrations, clock, Redis, SMTP, disk) and a
non-zero exit code when one fails."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fabcom.ops import checks
from fabcom.testing.processes import free_port
from fabcom.testing.services import REDIS_ENV, require
from fabcom.testing.smtp import SmtpSink

FABCOM = [sys.executable, "-m", "fabcom"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        FABCOM + args, env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False
    )


def lines_by_check(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


@pytest.fixture
def fresh(tmp_path: Path) -> dict[str, str]:
    """An instance whose database has not been migrated."""
    return {"FABCOM_VAR_DIR": str(tmp_path / "var"), "FABCOM_DATABASE_URL": "", "FABCOM_REDIS_URL": ""}


def test_an_unmigrated_instance_with_unreachable_services_fails_each_check_on_its_own_line(fresh):
    closed = free_port()
    result = run(
        ["check", "--min-free-mb", str(10**9)],
        {
            **fresh,
            "FABCOM_REDIS_URL": f"redis://127.0.0.1:{closed}/3",
            "FABCOM_SMTP_HOST": "127.0.0.1",
            "FABCOM_SMTP_PORT": str(closed),
        },
    )
    assert result.returncode == 1
    found = lines_by_check(result.stdout)
    assert list(found) == ["database", "migrations", "clock", "redis", "smtp", "disk"]
    assert found["database"] == "ok"
    assert found["migrations"].startswith("FAILED - ")
    # Modules' migrations interleave with the core's in dependency order; the core's first comes first.
    assert "pending (fabcom.0001_initial, " in found["migrations"]
    assert "fabcom.0002_jobs" in found["migrations"]
    assert found["migrations"].endswith("run `fabcom migrate`")
    assert found["redis"].startswith("FAILED - ConnectionError")
    assert found["smtp"].startswith("FAILED - SMTPConnectError")
    assert found["disk"].startswith("FAILED - only ")
    assert found["disk"].endswith(f"less than {10**9} MB")
    assert "configuration ok" not in result.stdout


def test_a_migrated_instance_with_its_services_up_passes(fresh):
    assert run(["migrate"], fresh).returncode == 0
    redis = require(REDIS_ENV, "Redis")
    with SmtpSink() as sink:
        result = run(
            ["check", "--min-free-mb", "1"],
            {
                **fresh,
                "FABCOM_REDIS_URL": redis,
                "FABCOM_SMTP_HOST": "127.0.0.1",
                "FABCOM_SMTP_PORT": str(sink.port),
                "FABCOM_SMTP_TLS": "none",
            },
        )
        assert sink.messages == []  # a hello, no mail
    assert result.returncode == 0, result.stdout + result.stderr
    found = lines_by_check(result.stdout)
    assert found["migrations"] == "ok (up to date)"
    assert found["redis"] == "ok"
    assert found["smtp"] == f"ok (127.0.0.1:{sink.port})"
    assert found["clock"].startswith("ok (database clock ")
    assert found["disk"].startswith("ok (")
    assert result.stdout.splitlines()[-1] == "configuration ok"


async def test_the_clock_check_fails_when_the_database_clock_is_off(db, monkeypatch):
    async def late(settings):
        return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=42)

    monkeypatch.setattr(checks, "database_now", late)
    result = await checks.check_clock(db)
    assert result["ok"] is False
    assert result["error"].startswith("database clock -42.0 s from this machine's (more than 5 s)")


async def test_the_clock_check_passes_on_the_real_database(db):
    result = await checks.check_clock(db)
    assert result["ok"] is True


async def test_migrations_are_up_to_date_on_the_test_database(db):
    assert await checks.check_migrations(db) == {"ok": True, "detail": "up to date"}


def test_the_disk_check_looks_at_the_nearest_existing_folder(tmp_path):
    from fabcom.settings import Settings

    settings = Settings(var_dir=tmp_path / "not" / "yet", secret_key="x")
    result = checks.check_disk(settings, min_free_mb=0)
    assert result["ok"] is True
    assert result["detail"].endswith(f"({tmp_path})")
