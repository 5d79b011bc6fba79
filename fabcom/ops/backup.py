"""Backups of a whole instance: the database (SQLite's online backup API, or
``pg_dump -Fc`` for PostgreSQL — never a raw copy of a live database file), the
uploads, and a manifest with a SHA-256 of every file, in one ``.tar.gz``.

``restore`` checks the manifest first and only writes into an empty instance."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from fabcom import __version__
from fabcom.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    parts = urlsplit(url)
    env = {**os.environ, "PGPASSWORD": parts.password or ""}
    args = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
        "-d",
        parts.path.lstrip("/"),
    ]
    return args, env


async def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {stderr.decode(errors='replace').strip()[:300]}")


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.effective_database_url.split("://", 1)[1])


async def backup(settings: Settings, target: Path) -> dict:
    """Write a backup archive to ``target``; returns its manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if settings.is_sqlite:
            source = _sqlite_path(settings)
            if not source.exists():
                raise BackupError(f"no database at {source}: nothing to back up")
            database = work / "database.sqlite3"

            def copy() -> None:
                with sqlite3.connect(source) as live, sqlite3.connect(database) as copy_:
                    live.backup(copy_)  # consistent even while fabcom writes

            await asyncio.to_thread(copy)
        else:
            database = work / "database.dump"
            args, env = _pg_env(settings.effective_database_url)
            await _run(["pg_dump", "-Fc", "--no-owner", "-f", str(database), *args], env)
        uploads = settings.uploads_dir
        files = {database.name: _sha256(database)}
        if uploads.is_dir():
            for path in sorted(p for p in uploads.rglob("*") if p.is_file()):
                files[f"uploads/{path.relative_to(uploads).as_posix()}"] = _sha256(path)
        manifest = {
            "format": FORMAT,
            "fabcom_version": __version__,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "database": "sqlite" if settings.is_sqlite else "postgresql",
            "modules": settings.modules,
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1))
        target.parent.mkdir(parents=True, exist_ok=True)

        def pack() -> None:
            with tarfile.open(target, "w:gz") as archive:
                archive.add(work / MANIFEST, MANIFEST)
                archive.add(database, database.name)
                if uploads.is_dir():
                    archive.add(uploads, "uploads")

        await asyncio.to_thread(pack)
    return manifest


async def _database_is_empty(settings: Settings) -> bool:
    if settings.is_sqlite:
        path = _sqlite_path(settings)
        if not path.exists():
            return True
        with sqlite3.connect(path) as db:
            tables = [
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'fabcom_%'")
            ]
            return all(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] == 0 for t in tables)  # noqa: S608
    import asyncpg

    conn = await asyncpg.connect("postgresql://" + settings.effective_database_url.split("://", 1)[1])
    try:
        return not await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'fabcom_%'"
        )
    finally:
        await conn.close()


async def restore(settings: Settings, source: Path) -> dict:
    """Restore an archive written by ``backup`` into this (empty) instance."""
    if not await asyncio.to_thread(source.is_file):
        raise BackupError(f"{source}: no such backup file")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(source, "r:gz") as archive:
                archive.extractall(work, filter="data")  # refuses absolute paths and ../
        except (tarfile.TarError, OSError) as exc:
            raise BackupError(f"{source}: not a fabcom backup ({exc})") from None
        try:
            manifest = json.loads((work / MANIFEST).read_text())
        except (OSError, ValueError):
            raise BackupError(f"{source}: not a fabcom backup (no manifest)") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{source}: backup format {manifest.get('format')} is not supported")
        for name, digest in manifest["files"].items():
            path = work / name
            if not path.is_file() or _sha256(path) != digest:
                raise BackupError(f"{source}: {name} is missing or damaged (checksum mismatch)")
        kind = "sqlite" if settings.is_sqlite else "postgresql"
        if manifest["database"] != kind:
            raise BackupError(f"{source}: a {manifest['database']} backup cannot be restored into {kind}")
        if not await _database_is_empty(settings):
            raise BackupError("this instance already has data: restore into an empty instance")
        if settings.is_sqlite:
            target = _sqlite_path(settings)

            def copy() -> None:
                target.parent.mkdir(parents=True, exist_ok=True)
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
                with sqlite3.connect(work / "database.sqlite3") as saved, sqlite3.connect(target) as db:
                    saved.backup(db)

            await asyncio.to_thread(copy)
        else:
            args, env = _pg_env(settings.effective_database_url)
            await _run(["pg_restore", "--no-owner", "--exit-on-error", *args, str(work / "database.dump")], env)
        if (work / "uploads").is_dir():
            settings.uploads_dir.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(shutil.copytree, work / "uploads", settings.uploads_dir, dirs_exist_ok=True)
    return manifest
