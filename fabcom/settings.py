"""Instance configuration, read once from ``FABCOM_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_DB_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")


class ConfigError(Exception):
    """A setting has a value fabcom cannot run with; the message names the variable."""


class Settings(BaseSettings):
    """Every knob of an instance. Bad values fail at start-up, never mid-request."""

    model_config = SettingsConfigDict(env_prefix="FABCOM_", extra="ignore")

    var_dir: Path = Field(
        default=Path("var"), description="Where the SQLite file, uploads and the generated secret live."
    )
    database_url: str = Field(
        default="", description="sqlite:///path or postgres://user@host/db; empty = SQLite file in var/."
    )
    redis_url: str = Field(default="", description="redis://host:port/db; empty = embedded job runner.")
    secret_key: str = Field(default="", description="Signs sessions and tokens; generated into var/ when empty.")
    base_url: str = Field(default="", description="Public URL of the instance, e.g. https://fabcom.example.org.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # NoDecode: read "bookings,ressourcerie" as written, not as JSON.
    modules: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Enabled modules, comma-separated."
    )
    default_locale: str = "fr"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Least severe log lines written by fabcom serve and fabcom worker."
    )
    max_upload_mb: int = Field(default=10, ge=1, le=1024)
    # Background jobs (see docs/operations.md).
    job_backoff_base_s: float = Field(default=30, ge=0, description="First retry delay; doubles each time.")
    job_backoff_max_s: float = Field(default=6 * 3600, ge=0, description="Longest delay between two tries.")
    job_retry_window_h: float = Field(default=48, ge=0, description="How long transient failures are retried.")
    job_timeout_s: int = Field(default=300, ge=1, description="Longest run of one job.")
    job_http_timeout_s: float = Field(default=15, gt=0, description="Timeout of a job's outgoing HTTP request.")
    job_poll_s: float = Field(default=0.2, gt=0, description="How often the dispatcher and runner look for work.")
    job_reconcile_s: float = Field(default=30, gt=0, le=60, description="How often lost Redis entries are found.")
    job_keep_done_days: int = Field(default=14, ge=1, description="Finished jobs are deleted after this.")
    worker_max_jobs: int = Field(default=20, ge=1, description="Jobs one worker process runs at once.")
    # E-mail (notifications); empty smtp_host = in-app notifications only.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_tls: str = Field(default="starttls", description="starttls, tls or none.")
    email_from: str = "fabcom <noreply@localhost>"
    # Webhooks to private, loopback or link-local addresses (tests, closed networks).
    webhooks_allow_private: bool = False
    # Federation: fetches and deliveries to loopback, private or link-local addresses
    # (tests, closed networks); refused by default.
    federation_allow_private_addresses: bool = False
    api_rate_limit: int = Field(default=5000, ge=1, description="GraphQL cost points per hour per token or user.")
    api_rate_limit_anonymous: int = Field(default=1000, ge=1, description="GraphQL points per hour per address.")
    metrics_token: str = Field(
        default="", description="Bearer token that may read /metrics; empty = loopback clients only."
    )
    api_max_concurrency: int = Field(default=8, ge=1, le=1000, description="GraphQL executions at once per process.")

    @field_validator("modules", mode="before")
    @classmethod
    def _split_modules(cls, value: object) -> object:
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in SUPPORTED_DB_SCHEMES:
            raise ValueError("must start with sqlite://, postgres:// or postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("must be an absolute http(s) URL such as https://fabcom.example.org")
        return value.rstrip("/")

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        if value not in ("fr", "en"):
            raise ValueError("must be fr or en")
        return value

    @field_validator("smtp_tls")
    @classmethod
    def _check_smtp_tls(cls, value: str) -> str:
        if value not in ("starttls", "tls", "none"):
            raise ValueError("must be starttls, tls or none")
        return value

    @cached_property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under ``var_dir``."""
        return self.database_url or f"sqlite://{(self.var_dir / 'fabcom.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @cached_property
    def public_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"

    @property
    def uploads_dir(self) -> Path:
        return self.var_dir / "uploads"

    def ensure_secret_key(self) -> str:
        """Return the secret key, generating and storing one in var/ on first run.

        The secret is never a constant in the code: an instance without
        FABCOM_SECRET_KEY gets its own random key, kept across restarts.
        """
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            self.secret_key = path.read_text().strip()
        else:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(key)
            self.secret_key = key
        return self.secret_key


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "FABCOM_" + str(first["loc"][0]).upper() if first["loc"] else "FABCOM_*"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None
