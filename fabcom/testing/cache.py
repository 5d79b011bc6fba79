"""Work done once per test run and shared by all its pytest-xdist workers: a migrated
instance (a SQLite var directory, or a PostgreSQL template database) and a demo instance,
one of each per set of modules. Tests copy them instead of migrating again (~7 s of CPU
each time) or building the demo again (~30 s).

The plugin creates the run's cache folder in pytest's first process (before xdist starts
its workers, which inherit ``FABCOM_TEST_CACHE_DIR``) and removes it, with the template
databases, when that process ends. Outside such a run every call does the work itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from fabcom.testing.services import create_postgres_database, drop_postgres_database

CACHE_ENV = "FABCOM_TEST_CACHE_DIR"
FABCOM = [sys.executable, "-m", "fabcom"]


def start_run() -> bool:
    """Create the run's cache folder unless a parent process did; True for its owner."""
    if os.environ.get(CACHE_ENV):
        return False
    os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="fabcom-tests-")
    return True


def end_run() -> None:
    """Drop the run's template databases and remove its cache folder (owner only)."""
    root = Path(os.environ.pop(CACHE_ENV))
    for record in root.glob("postgres-*.url"):
        asyncio.run(drop_postgres_database(record.read_text()))
    shutil.rmtree(root, ignore_errors=True)


def fabcom_env(var_dir: Path, modules: str, database_url: str = "") -> dict[str, str]:
    """The environment of a ``fabcom`` command on an instance of its own (no Redis)."""
    return {
        **os.environ,
        "FABCOM_VAR_DIR": str(var_dir),
        "FABCOM_DATABASE_URL": database_url,
        "FABCOM_REDIS_URL": "",
        "FABCOM_MODULES": modules,
    }


def run_fabcom(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(  # noqa: S603 - our own command line
        [*FABCOM, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"fabcom {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def prepare_var_dir(var_dir: Path, modules: str, *, demo: bool = False) -> None:
    """Leave in ``var_dir`` a SQLite instance of ``modules`` (comma-separated) as
    ``fabcom migrate`` — then ``fabcom demo`` if ``demo`` — would leave it."""

    def build(folder: Path) -> None:
        env = fabcom_env(folder, modules)
        run_fabcom(env, "migrate")
        if demo:
            run_fabcom(env, "demo")

    root = os.environ.get(CACHE_ENV)
    if not root:
        build(var_dir)
        return
    kind = "demo" if demo else "migrated"
    source = _made_once(Path(root), f"{kind}-{modules or 'core'}", build)
    shutil.copytree(source, var_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".done"))


def _made_once(root: Path, name: str, build: Callable[[Path], None]) -> Path:
    """The cache folder ``name``, made by ``build`` in the first process that asks."""
    folder = root / name
    with FileLock(root / f"{name}.lock"):
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (folder / ".done").touch()
    return folder


async def migrated_postgres_database(server_url: str, modules: str) -> str:
    """A new database on ``server_url``'s server, migrated for ``modules``: a copy
    (``CREATE DATABASE … TEMPLATE``) of a template migrated once per run."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        url = await create_postgres_database(server_url)
        await asyncio.to_thread(run_fabcom, fabcom_env(Path(tempfile.mkdtemp()), modules, url), "migrate")
        return url
    lock = FileLock(Path(root) / "postgres.lock")
    await asyncio.to_thread(lock.acquire)
    try:
        record = Path(root) / f"postgres-{modules or 'core'}.url"
        if not record.exists():
            template = await create_postgres_database(server_url, "fabcom_tpl")
            var_dir = Path(root) / f"postgres-{modules or 'core'}-var"
            try:
                await asyncio.to_thread(run_fabcom, fabcom_env(var_dir, modules, template), "migrate")
            except BaseException:
                await drop_postgres_database(template)
                raise
            record.write_text(template)
        return await create_postgres_database(server_url, template=record.read_text())
    finally:
        lock.release()
