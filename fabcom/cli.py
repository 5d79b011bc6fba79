"""The ``fabcom`` command. Imports stay inside the commands so ``fabcom --help`` is fast."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from fabcom.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    help="fabcom: inventory, projects and members for social-economy structures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
module_app = typer.Typer(help="Develop modules.", no_args_is_help=True)
app.add_typer(module_app, name="module")
jobs_app = typer.Typer(help="Inspect and retry background jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
org_app = typer.Typer(help="Move an organization between instances.", no_args_is_help=True)
app.add_typer(org_app, name="org")

EXIT_FAILED = 1
EXIT_BAD_CONFIG = 2


def run_async(work: Awaitable[T]) -> T:
    """``asyncio.run``, imported on first use: ``fabcom --help`` never pays for asyncio."""
    import asyncio

    return asyncio.run(work)  # type: ignore[arg-type]


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    """The settings, with the enabled modules checked: a bad value exits 2 with one line."""
    from fabcom.module_system.registry import ModuleError, build_registry
    from fabcom.settings import ConfigError, load_settings

    try:
        settings = load_settings()
        build_registry(settings.modules)
    except (ConfigError, ModuleError) as exc:
        raise fail(str(exc), EXIT_BAD_CONFIG) from None
    return settings


def cli_locale() -> str:
    from fabcom.i18n import negotiate_locale

    return negotiate_locale(os.environ.get("LANG", "").split(".")[0].replace("_", "-"), None)


def run_with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Open the database, run ``work``, close; service refusals become a clear message."""
    from fabcom.db import close_database, open_database
    from fabcom.errors import ServiceError

    async def main() -> T:
        await open_database(settings)
        try:
            return await work()
        finally:
            await close_database()

    try:
        return run_async(main())
    except ServiceError as exc:
        raise fail(exc.text(cli_locale(), with_fields=True)) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (FABCOM_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (FABCOM_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Web processes.")] = 1,
) -> None:
    """Serve the web UI, the API and federation."""
    import uvicorn

    from fabcom.ops.logs import logging_config

    settings = settings_or_exit()
    if host:
        os.environ["FABCOM_HOST"] = host
    if port:
        os.environ["FABCOM_PORT"] = str(port)
    uvicorn.run(
        "fabcom.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
        log_config=logging_config(level=settings.log_level),  # JSON lines off a terminal, in every worker process
        access_log=False,  # fabcom.access logs each request with its id, route and duration
    )
    from fabcom.app import startup_failure

    if startup_failure:  # a module's GraphQL contribution was refused just after start-up
        raise fail(startup_failure[0], EXIT_BAD_CONFIG)


@app.command()
def migrate() -> None:
    """Apply the database migrations (safe to run again)."""
    from fabcom.migrations_api import apply_migrations

    settings = settings_or_exit()

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            typer.echo(f"applied {app_label}.{name}")

    run_async(apply_migrations(settings, progress))
    typer.echo("database is up to date")


@app.command()
def makemigrations(name: Annotated[str | None, typer.Option(help="Suffix of the migration file.")] = None) -> None:
    """Write migration files for model changes (for developers)."""
    from fabcom.migrations_api import make_migrations

    paths = run_async(make_migrations(settings_or_exit(), name))
    for path in paths:
        typer.echo(f"wrote {path}")
    if not paths:
        typer.echo("no changes")


@app.command()
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when organizations already exist.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed, for reproducible data.")] = 2026,
) -> None:
    """Load the demo: three organizations, members, items, movements and projects."""
    from fabcom.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo

    settings = settings_or_exit()
    loaded = run_with_db(settings, lambda: load_demo(seed=seed, if_empty=if_empty))
    if loaded:
        typer.echo(f"demo loaded: {loaded}")
    else:
        typer.echo("demo skipped: the database already has organizations")
    typer.echo(f"demo accounts (password: {DEMO_PASSWORD}):")
    for email, description in DEMO_ACCOUNTS:
        typer.echo(f"  {email:32} {description}")


@user_app.command("add")
def user_add(
    email: str,
    org: Annotated[str, typer.Option("--org", help="Slug of the organization to join.")],
    role: Annotated[str, typer.Option("--role", help="owner, admin, staff, volunteer or member.")] = "member",
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: the e-mail's local part).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    locale: Annotated[str, typer.Option(help="fr or en.")] = "fr",
) -> None:
    """Create an account with a role in an organization."""
    from fabcom.accounts import add_user_to_org

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    settings = settings_or_exit()
    user = run_with_db(settings, lambda: add_user_to_org(email, org, role, name, password, locale))
    typer.echo(f"created {user.email} ({role} of {org})")


@user_app.command("export")
def user_export(
    email: str,
    output: Annotated[str, typer.Option("--output", "-o", help="File to write; - for standard output.")] = "-",
) -> None:
    """Write everything stored about a person (JSON), as they get it from their account page."""
    import json
    from pathlib import Path

    from fabcom.permissions import system_principal
    from fabcom.privacy.services import member_data

    settings = settings_or_exit()

    async def work() -> dict[str, Any]:
        return await member_data(system_principal(), await _user_id(email))

    text = json.dumps(run_with_db(settings, work), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if output == "-":
        typer.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


@user_app.command("erase")
def user_erase(
    email: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a person's personal data everywhere (the account becomes anonymous; see docs/privacy.md)."""
    from fabcom.permissions import system_principal
    from fabcom.privacy.services import erase_member

    settings = settings_or_exit()
    if not yes and not typer.confirm(f"Erase {email} for good?"):
        raise fail("nothing erased")

    async def work() -> int:
        user_id = await _user_id(email)
        await erase_member(system_principal(), user_id, settings.uploads_dir)
        return user_id

    user_id = run_with_db(settings, work)
    typer.echo(f"erased account {user_id}")


async def _user_id(email: str) -> int:
    from fabcom.auth.models import User
    from fabcom.errors import ErrorCode, ValidationFailed
    from fabcom.i18n import N_

    user = await User.get_or_none(email=email.strip().lower())
    if user is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown account."), "email")
    return user.id


@token_app.command("create")
def token_create(
    email: str,
    scope: Annotated[list[str], typer.Option("--scope", help="Repeat for each scope, e.g. inventory:read.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    expires: Annotated[int | None, typer.Option(help="Days until it expires (default 90; 0 = never).")] = 90,
) -> None:
    """Create an API token for a user and print it once."""
    from fabcom.accounts import create_token_for

    settings = settings_or_exit()
    secret = run_with_db(settings, lambda: create_token_for(email, name, scope, None if expires == 0 else expires))
    typer.echo(secret)


@token_app.command("list")
def token_list(
    email: Annotated[str | None, typer.Argument(help="Only this account's tokens.")] = None,
) -> None:
    """List the tokens not revoked, newest first: id, account, name, first characters,
    scopes, expiry and last use (what an admin needs to find a partner's token)."""
    from fabcom import clock
    from fabcom.accounts import unrevoked_tokens

    settings = settings_or_exit()
    tokens = run_with_db(settings, lambda: unrevoked_tokens(email))
    now = clock.now()
    for token in tokens:
        if token.expires_at is None:
            expiry = "never expires"
        else:
            expiry = f"{'expired' if token.expires_at <= now else 'expires'} {token.expires_at:%Y-%m-%d}"
        used = f"used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
        scopes = ",".join(token.scopes)
        typer.echo(
            f"{token.id}\t{token.user.email}\t{token.name}\tfabcom_pat_{token.prefix}…\t{scopes}\t{expiry}\t{used}"
        )
    if not tokens:
        typer.echo("no tokens")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The id shown by `fabcom token list`.")]) -> None:
    """Revoke a token now: the next request made with it gets 401."""
    from fabcom.auth.services import revoke_api_token
    from fabcom.permissions import system_principal

    settings = settings_or_exit()
    run_with_db(settings, lambda: revoke_api_token(system_principal(), token_id))
    typer.echo(f"token {token_id} revoked")


@module_app.command("new")
def module_new(
    name: Annotated[str, typer.Argument(help="The module's slug, e.g. demo_stats.")],
    directory: Annotated[str, typer.Option("--dir", help="Where first-party modules live.")] = "modules",
) -> None:
    """Create a working module (model, service, route, hook, migration, tests) to start from."""
    from pathlib import Path

    from fabcom.module_system.manifest import ManifestError
    from fabcom.module_system.scaffold import create_module

    try:
        written = create_module(name, Path(directory))
    except ManifestError as exc:
        raise fail(str(exc), EXIT_BAD_CONFIG) from None
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"next: FABCOM_MODULES={name} fabcom migrate, then make test")


@app.command("backup")
def backup_command(
    path: Annotated[str, typer.Argument(help="Archive to write, e.g. fabcom-2026-11-23.tar.gz")],
) -> None:
    """Back up the database and the uploads into one archive, with checksums."""
    from pathlib import Path

    from fabcom.ops.backup import BackupError, backup

    settings = settings_or_exit()
    try:
        manifest = run_async(backup(settings, Path(path)))
    except BackupError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {path}: {manifest['database']} database and {len(manifest['files']) - 1} uploads")


@app.command("restore")
def restore_command(path: Annotated[str, typer.Argument(help="An archive written by `fabcom backup`.")]) -> None:
    """Restore a backup into this instance, which must be empty."""
    from pathlib import Path

    from fabcom.ops.backup import BackupError, restore

    settings = settings_or_exit()
    try:
        manifest = run_async(restore(settings, Path(path)))
    except BackupError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"restored the backup of {manifest['created_at']} (fabcom {manifest['fabcom_version']})")


@org_app.command("export")
def org_export(
    slug: str,
    output: Annotated[str, typer.Option("--output", "-o", help="Archive to write, e.g. recyclerie.zip")],
) -> None:
    """Write one organization's data (JSON-LD documents and attachments) into a zip archive."""
    from pathlib import Path

    from fabcom.ops.orgarchive import ArchiveError, export_organization
    from fabcom.permissions import system_principal

    settings = settings_or_exit()
    try:
        data = run_with_db(settings, lambda: export_organization(system_principal(), slug, settings.uploads_dir))
    except ArchiveError as exc:
        raise fail(str(exc)) from None
    Path(output).write_bytes(data)
    typer.echo(f"wrote {output} ({len(data)} bytes)")


@org_app.command("import")
def org_import(
    path: Annotated[str, typer.Argument(help="An archive written by `fabcom org export`.")],
    slug: Annotated[str | None, typer.Option("--slug", help="Slug here (default: the archive's).")] = None,
) -> None:
    """Load an organization's archive into this instance, as a new local organization."""
    from pathlib import Path

    from fabcom.ops.orgarchive import ArchiveError, import_organization

    settings = settings_or_exit()
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    try:
        ctx = run_with_db(settings, lambda: import_organization(data, settings.uploads_dir, slug))
    except ArchiveError as exc:
        raise fail(f"{path}: {exc}; nothing was imported") from None
    counts = ", ".join(f"{len(ids)} {table}" for table, ids in ctx.ids.items() if ids)
    typer.echo(f"imported {ctx.organization.slug}: {len(ctx.users)} members, {counts}")
    for name in ctx.skipped:
        typer.echo(f"skipped {name} (its module is not enabled here)")


@app.command()
def check(
    min_free_mb: Annotated[
        int, typer.Option("--min-free-mb", min=0, help="Least free disk space for uploads, in MB.")
    ] = 1024,
) -> None:
    """Check the configuration, the database and its migrations, Redis and SMTP (when
    configured), free disk space for uploads and the clocks; exit 1 when one fails."""
    from fabcom.db import close_database, open_database
    from fabcom.ops.checks import check_disk, run_checks

    settings = settings_or_exit()

    async def main() -> dict[str, Any]:
        try:
            await open_database(settings)
        except Exception as exc:
            return {
                "database": {"ok": False, "error": f"{type(exc).__name__}: {exc}"},
                "disk": check_disk(settings, min_free_mb),
            }
        try:
            return await run_checks(settings, min_free_mb)
        finally:
            await close_database()

    checks = run_async(main())
    for name, result in checks.items():
        if result["ok"]:
            typer.echo(f"{name}: ok" + (f" ({result['detail']})" if result.get("detail") else ""))
        else:
            typer.echo(f"{name}: FAILED - {result['error']}")
    if not all(r["ok"] for r in checks.values()):
        raise typer.Exit(EXIT_FAILED)
    typer.echo("configuration ok")


@app.command()
def worker() -> None:
    """Run background jobs from the outbox with arq (needs FABCOM_REDIS_URL)."""

    from fabcom.jobs.worker import serve_worker

    settings = settings_or_exit()
    if not settings.redis_url:
        raise fail("FABCOM_REDIS_URL is not set: without Redis, `fabcom serve` runs the jobs itself", EXIT_BAD_CONFIG)
    from fabcom.ops.logs import configure_logging

    configure_logging(level=settings.log_level)
    run_async(serve_worker(settings))


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="pending, running, done, failed or dead.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
) -> None:
    """List jobs, newest first: id, status, attempts, name, next try and last error."""
    from fabcom.jobs.models import JobStatus
    from fabcom.jobs.outbox import list_jobs
    from fabcom.permissions import system_principal

    if status is not None and status not in JobStatus.__members__.values():
        raise fail(f"--status must be one of: {', '.join(JobStatus)}", EXIT_BAD_CONFIG)
    settings = settings_or_exit()
    wanted = JobStatus(status) if status else None
    jobs = run_with_db(settings, lambda: list_jobs(system_principal(), wanted, limit))
    for job in jobs:
        error = job.last_error.splitlines()[0][:100] if job.last_error else ""
        typer.echo(
            f"{job.id}\t{job.status.value}\t{job.attempts}\t{job.name}\t{job.next_try_at:%Y-%m-%d %H:%M:%S}\t{error}"
        )
    if not jobs:
        typer.echo("no jobs")


@jobs_app.command("retry")
def jobs_retry(job_id: int) -> None:
    """Run a dead or failed job again now."""
    from fabcom.jobs.outbox import retry_job
    from fabcom.permissions import system_principal

    settings = settings_or_exit()
    job = run_with_db(settings, lambda: retry_job(system_principal(), job_id))
    typer.echo(f"job {job.id} ({job.name}) will run again")


@app.command("export-schema")
def export_schema_command(
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Where to write (default graphql/schema.graphql).")
    ] = None,
) -> None:
    """Write the GraphQL schema (SDL) to graphql/schema.graphql, or print it with -o -."""
    from pathlib import Path

    from fabcom.gql.schema import SDL_PATH, export_schema, sdl

    if output == "-":
        typer.echo(sdl(), nl=False)
        return
    path = export_schema(Path(output) if output else SDL_PATH)
    typer.echo(f"wrote {path}")


def main() -> None:
    app()
