"""Tortoise's built-in migrations, driven from fabcom's own config (core app + module apps)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.writer import MigrationWriter

from fabcom.db import tortoise_config
from fabcom.settings import Settings


async def apply_migrations(settings: Settings, progress: Callable[[str, str, str], object] | None = None) -> None:
    """Bring the database schema up to date (idempotent)."""
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        await tortoise_migrate(config=tortoise_config(settings), progress=progress)
    finally:
        await Tortoise.close_connections()


async def detect_model_changes(settings: Settings) -> list[MigrationWriter]:
    """Migrations that would have to be written for the migration files to match the models.
    Empty when they agree; a test asserts exactly that."""
    config = tortoise_config(settings)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        assert ctx.apps is not None
        return await MigrationAutodetector(ctx.apps, config["apps"]).changes()


def _ensure_migration_packages(settings: Settings) -> None:
    """A module's first ``makemigrations`` creates its ``migrations/`` package."""
    for app in tortoise_config(settings)["apps"].values():
        package = importlib.import_module(app["migrations"].rsplit(".", 1)[0])
        folder = Path(package.__file__ or "").parent / "migrations"
        if not (folder / "__init__.py").exists():
            folder.mkdir(exist_ok=True)
            (folder / "__init__.py").write_text("")
    importlib.invalidate_caches()


async def make_migrations(settings: Settings, name: str | None = None) -> list[Path]:
    """Write the migration files for model changes; returns their paths."""
    _ensure_migration_packages(settings)
    written = []
    for writer in await detect_model_changes(settings):
        if name:
            number = int(writer.name.split("_", 1)[0])
            writer.name = f"{number:04d}_{name}"
        written.append(Path(writer.write()))
    return written
