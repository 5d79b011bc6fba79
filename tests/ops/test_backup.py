"""Back up a demo instance, restore it into a fresh one: every table and upload identical."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

from fabcom.testing.cache import prepare_var_dir
from fabcom.testing.services import POSTGRES_ENV, create_postgres_database, drop_postgres_database, require


def fabcom(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fabcom", *args],
        env={**os.environ, "LANG": "en_US.UTF-8", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def instance(tmp_path: Path, name: str, database_url: str = "") -> dict[str, str]:
    return {"FABCOM_VAR_DIR": str(tmp_path / name), "FABCOM_DATABASE_URL": database_url, "FABCOM_MODULES": ""}


def demo_with_uploads(env: dict[str, str]) -> None:
    if env["FABCOM_DATABASE_URL"]:
        assert fabcom(["migrate"], env).returncode == 0
        assert fabcom(["demo"], env).returncode == 0
    else:
        prepare_var_dir(Path(env["FABCOM_VAR_DIR"]), env["FABCOM_MODULES"], demo=True)
    uploads = Path(env["FABCOM_VAR_DIR"]) / "uploads"
    (uploads / "2026").mkdir(parents=True)
    (uploads / "a1b2.png").write_bytes(b"\x89PNG fake photo one")
    (uploads / "2026" / "c3d4.jpg").write_bytes(os.urandom(5000))


def sqlite_checksums(env: dict[str, str]) -> dict[str, str]:
    with sqlite3.connect(Path(env["FABCOM_VAR_DIR"]) / "fabcom.sqlite3") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {
            t: hashlib.sha256(repr(db.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall()).encode()).hexdigest()
            for t in tables
        }


def upload_checksums(env: dict[str, str]) -> dict[str, str]:
    uploads = Path(env["FABCOM_VAR_DIR"]) / "uploads"
    return {
        p.relative_to(uploads).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(uploads.rglob("*"))
        if p.is_file()
    }


def test_backup_then_restore_on_sqlite_gives_an_identical_instance(tmp_path):
    source, fresh = instance(tmp_path, "source"), instance(tmp_path, "fresh")
    demo_with_uploads(source)
    archive = tmp_path / "backup.tar.gz"
    done = fabcom(["backup", str(archive)], source)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {archive}: sqlite database and 2 uploads"
    restored = fabcom(["restore", str(archive)], fresh)
    assert restored.returncode == 0, restored.stderr
    before, after = sqlite_checksums(source), sqlite_checksums(fresh)
    assert "fabcom_item" in before
    assert after == before
    assert upload_checksums(fresh) == upload_checksums(source)
    assert fabcom(["check"], fresh).returncode == 0
    # the restored instance is not empty any more: a second restore is refused
    again = fabcom(["restore", str(archive)], fresh)
    assert again.returncode == 1
    assert again.stderr.strip() == "error: this instance already has data: restore into an empty instance"
    assert sqlite_checksums(fresh) == before


def test_a_damaged_or_foreign_archive_is_refused_and_changes_nothing(tmp_path):
    source, fresh = instance(tmp_path, "source"), instance(tmp_path, "fresh")
    demo_with_uploads(source)
    archive = tmp_path / "backup.tar.gz"
    assert fabcom(["backup", str(archive)], source).returncode == 0
    # one upload altered inside the archive
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive, "r:gz") as original, tarfile.open(damaged, "w:gz") as copy:
        for member in original.getmembers():
            data = original.extractfile(member).read() if member.isfile() else None
            if member.name == "uploads/a1b2.png":
                data = b"tampered"
                member.size = len(data)
            copy.addfile(member, io.BytesIO(data) if data is not None else None)
    result = fabcom(["restore", str(damaged)], fresh)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {damaged}: uploads/a1b2.png is missing or damaged (checksum mismatch)"
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    assert "not a fabcom backup" in fabcom(["restore", str(not_a_backup)], fresh).stderr
    assert not (Path(fresh["FABCOM_VAR_DIR"]) / "fabcom.sqlite3").exists()


def test_backup_then_restore_on_postgresql(tmp_path):
    server = require(POSTGRES_ENV, "PostgreSQL")
    source_url = asyncio.run(create_postgres_database(server, "fabcom_bk"))
    fresh_url = asyncio.run(create_postgres_database(server, "fabcom_rs"))
    try:
        source, fresh = instance(tmp_path, "source", source_url), instance(tmp_path, "fresh", fresh_url)
        demo_with_uploads(source)
        archive = tmp_path / "backup.tar.gz"
        done = fabcom(["backup", str(archive)], source)
        assert done.returncode == 0, done.stderr
        assert "postgresql database and 2 uploads" in done.stdout
        restored = fabcom(["restore", str(archive)], fresh)
        assert restored.returncode == 0, restored.stderr
        assert asyncio.run(pg_checksums(fresh_url)) == asyncio.run(pg_checksums(source_url))
        assert upload_checksums(fresh) == upload_checksums(source)
    finally:
        for url in (source_url, fresh_url):
            asyncio.run(drop_postgres_database(url))


async def pg_checksums(url: str) -> dict[str, str]:
    import asyncpg

    conn = await asyncpg.connect("postgresql://" + url.split("://", 1)[1])
    try:
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
            )
        ]
        return {
            t: hashlib.sha256(
                repr([tuple(r) for r in await conn.fetch(f'SELECT * FROM "{t}" ORDER BY 1')]).encode()
            ).hexdigest()
            for t in tables
        }
    finally:
        await conn.close()
