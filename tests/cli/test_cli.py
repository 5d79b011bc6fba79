"""The ``fabcom`` command as an operator uses it: real processes, exit codes, messages."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fabcom.testing.cache import prepare_var_dir

FABCOM = [sys.executable, "-m", "fabcom"]


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        FABCOM + args, env={**os.environ, **env}, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def instance(tmp_path: Path) -> dict[str, str]:
    """A fresh SQLite instance with migrations applied and one organization."""
    env = {
        "FABCOM_VAR_DIR": str(tmp_path / "var"),
        "FABCOM_DATABASE_URL": "",
        "FABCOM_REDIS_URL": "",
        "LANG": "en_US.UTF-8",
    }
    prepare_var_dir(tmp_path / "var", os.environ.get("FABCOM_MODULES", ""))  # as `fabcom migrate` leaves it
    db = sqlite3.connect(tmp_path / "var" / "fabcom.sqlite3")
    db.execute(
        "INSERT INTO fabcom_organization (slug, name, kind, description, address, postal_code, city, country,"
        " email, website, is_local, created_at, updated_at)"
        " VALUES ('atelier', 'Atelier', 'fablab', '', '', '', '', 'FR', '', '', 1, datetime('now'), datetime('now'))"
    )
    db.commit()
    db.close()
    return env


def count(env: dict[str, str], table: str) -> int:
    db = sqlite3.connect(Path(env["FABCOM_VAR_DIR"]) / "fabcom.sqlite3")
    try:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        db.close()


def test_check_with_a_nonsense_database_url_exits_2_with_one_clear_line(tmp_path):
    result = run(["check"], {"FABCOM_DATABASE_URL": "nonsense://x", "FABCOM_VAR_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: FABCOM_DATABASE_URL: must start with sqlite://, postgres:// or postgresql://"
    ]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "FABCOM_PORT",
            "eighty",
            "error: FABCOM_PORT: Input should be a valid integer, unable to parse string as an integer",
        ),
        ("FABCOM_REDIS_URL", "http://x", "error: FABCOM_REDIS_URL: must start with redis://, rediss:// or unix://"),
        (
            "FABCOM_BASE_URL",
            "fabcom.example.org",
            "error: FABCOM_BASE_URL: must be an absolute http(s) URL such as https://fabcom.example.org",
        ),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, variable, value, message):
    result = run(["check"], {variable: value, "FABCOM_VAR_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip() == message


def test_an_unknown_module_stops_start_up_with_one_line(tmp_path):
    result = run(["check"], {"FABCOM_MODULES": "teleportation", "FABCOM_VAR_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: module 'teleportation': not installed (installed modules: ")


def test_check_reports_an_unreachable_database(tmp_path):
    result = run(
        ["check"], {"FABCOM_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "FABCOM_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode == 1
    assert result.stdout.startswith("database: FAILED - ")


def test_check_passes_on_a_migrated_instance(instance):
    result = run(["check"], instance)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["database", "migrations", "clock", "disk", "configuration ok"]
    assert lines[:2] == ["database: ok", "migrations: ok (up to date)"]


def test_user_add_with_an_unknown_organization_creates_nothing(instance):
    result = run(
        ["user", "add", "lea@example.org", "--org", "nowhere", "--role", "staff", "--password-stdin"],
        instance,
        stdin="a long passphrase\n",
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: org: Unknown organization nowhere."
    assert count(instance, "fabcom_user") == 0


def test_user_add_with_a_bad_role_or_short_password_creates_nothing(instance):
    bad_role = run(["user", "add", "lea@example.org", "--org", "atelier", "--role", "boss"], instance)
    assert bad_role.returncode == 1
    assert bad_role.stderr.strip() == "error: role: Choose one of: owner, admin, staff, volunteer, member."
    short = run(["user", "add", "lea@example.org", "--org", "atelier", "--password-stdin"], instance, stdin="short\n")
    assert short.returncode == 1
    assert short.stderr.strip() == "error: password: At least 10 characters."
    assert count(instance, "fabcom_user") == 0
    assert count(instance, "fabcom_membership") == 0


def test_user_add_then_token_create_prints_the_token_once(instance):
    added = run(
        ["user", "add", "Lea@Example.org", "--org", "atelier", "--role", "staff", "--password-stdin"],
        instance,
        stdin="a long passphrase\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "created lea@example.org (staff of atelier)"
    assert count(instance, "fabcom_membership") == 1
    token = run(["token", "create", "lea@example.org", "--scope", "inventory:read", "--expires", "30"], instance)
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("fabcom_pat_")
    assert len(secret) > 40
    # only a hash is stored
    db = sqlite3.connect(Path(instance["FABCOM_VAR_DIR"]) / "fabcom.sqlite3")
    stored = db.execute("SELECT token_hash, prefix, scopes FROM fabcom_api_token").fetchall()
    db.close()
    assert len(stored) == 1
    assert secret not in stored[0][0]
    assert stored[0][1] == secret[len("fabcom_pat_") :][:8]
    assert stored[0][2] == '["inventory:read"]'


def test_an_admin_lists_and_revokes_a_partners_token(instance):
    run(["user", "add", "lea@example.org", "--org", "atelier"], instance)
    run(["user", "add", "max@example.org", "--org", "atelier"], instance)
    lea = run(["token", "create", "lea@example.org", "--scope", "inventory:read", "--name", "fablab sync"], instance)
    run(["token", "create", "max@example.org", "--scope", "members:read", "--expires", "0"], instance)
    listed = run(["token", "list"], instance)
    assert listed.returncode == 0, listed.stderr
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [(line[1], line[2], line[4], line[5][:7]) for line in lines] == [
        ("max@example.org", "cli", "members:read", "never e"),
        ("lea@example.org", "fablab sync", "inventory:read", "expires"),
    ]
    assert lines[1][3] == "fabcom_pat_" + lea.stdout.strip()[len("fabcom_pat_") :][:8] + "…"
    assert lines[1][6] == "never used"
    only_lea = run(["token", "list", "lea@example.org"], instance)
    assert len(only_lea.stdout.splitlines()) == 1
    revoked = run(["token", "revoke", lines[1][0]], instance)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"token {lines[1][0]} revoked"
    assert [line.split("\t")[1] for line in run(["token", "list"], instance).stdout.splitlines()] == ["max@example.org"]
    again = run(["token", "revoke", lines[1][0]], instance)
    assert again.returncode == 1
    assert again.stderr.startswith("error: ")
    unknown = run(["token", "list", "nobody@example.org"], instance)
    assert unknown.returncode == 1
    assert "Unknown account." in unknown.stderr


def test_token_create_refuses_an_unknown_scope(instance):
    run(["user", "add", "lea@example.org", "--org", "atelier"], instance)
    result = run(["token", "create", "lea@example.org", "--scope", "everything"], instance)
    assert result.returncode == 1
    assert result.stderr.startswith("error: scopes: Unknown scope everything. Known scopes: inventory:read")
    assert count(instance, "fabcom_api_token") == 0


def test_token_create_offers_the_enabled_modules_scopes(instance):
    run(["user", "add", "lea@example.org", "--org", "atelier"], instance)
    enabled = {**instance, "FABCOM_MODULES": "bookings"}
    token = run(["token", "create", "lea@example.org", "--scope", "bookings:write"], enabled)
    assert token.returncode == 0, token.stderr
    refused = run(
        ["token", "create", "lea@example.org", "--scope", "bookings:write"], {**instance, "FABCOM_MODULES": ""}
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: scopes: Unknown scope bookings:write. Known scopes: inventory:read, inventory:write, members:read, "
        "members:write, network:read, network:write, org:admin, projects:read, projects:write."
    )
    db = sqlite3.connect(Path(instance["FABCOM_VAR_DIR"]) / "fabcom.sqlite3")
    stored = db.execute("SELECT scopes FROM fabcom_api_token").fetchall()
    db.close()
    assert stored == [('["bookings:write"]',)]


def test_messages_follow_the_operators_language(instance):
    result = run(["user", "add", "lea@example.org", "--org", "nowhere"], {**instance, "LANG": "fr_FR.UTF-8"})
    assert result.stderr.strip() == "error: org: Organisation inconnue : nowhere."
