"""Upgrading an instance that holds data: every app at the migration before its newest,
representative rows written into that schema, then ``fabcom migrate``'s remaining
migrations and the rows read and changed through the models (``upgrade_scenario.py``,
in its own process). A migration that only works on empty tables — such as a NOT NULL
column added without a database default — fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fabcom.testing.services import POSTGRES_ENV, create_postgres_database, drop_postgres_database, require

SCENARIO = Path(__file__).with_name("upgrade_scenario.py")


def upgrade(var_dir: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCENARIO), str(var_dir), database_url],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_an_instance_with_data_upgrades_to_the_newest_migrations_and_keeps_its_rows(backend, tmp_path):
    url = await create_postgres_database(require(POSTGRES_ENV, "PostgreSQL")) if backend == "postgres" else ""
    try:
        done = upgrade(tmp_path / "var", url)
    finally:
        if url:
            await drop_postgres_database(url)

    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "upgraded: organization recyclerie, item 1, site settings, bookings rule 1"
