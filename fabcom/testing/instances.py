"""Real fabcom instances for end-to-end federation tests: each one a ``fabcom serve``
process on its own loopback port and SQLite database (optionally with a ``fabcom worker``
on Redis), bootstrapped with one organization, its owner and an API token.

``python -m fabcom.testing.instances bootstrap SLUG NAME`` (with the instance's
environment) creates the organization, the owner and prints the owner's token.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from fabcom.testing.cache import prepare_var_dir
from fabcom.testing.processes import free_port

FABCOM = [sys.executable, "-m", "fabcom"]
PASSWORD = "e2e-password-not-secret"  # noqa: S105 - a throw-away test instance


class InstanceError(AssertionError):
    pass


class Instance:
    """One fabcom server. ``start``/``stop`` may be repeated (same port, same database)."""

    def __init__(self, name: str, root: Path, *, redis_url: str = "", **env: str) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.var = root / name
        self.var.mkdir(parents=True, exist_ok=True)
        self.log = self.var / "serve.log"
        self.env = {
            **os.environ,
            "FABCOM_VAR_DIR": str(self.var),
            "FABCOM_DATABASE_URL": "",
            "FABCOM_REDIS_URL": redis_url,
            "FABCOM_SECRET_KEY": f"secret-{name}",
            "FABCOM_BASE_URL": self.base,
            "FABCOM_PORT": str(self.port),
            "FABCOM_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "1",
            "FABCOM_JOB_BACKOFF_BASE_S": "0.5",
            "FABCOM_JOB_BACKOFF_MAX_S": "2",
            "FABCOM_JOB_POLL_S": "0.05",
            "FABCOM_DEFAULT_LOCALE": "en",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.slug = ""

    def run(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own command line
            [*FABCOM, *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise InstanceError(f"{self.name}: fabcom {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def setup(self, slug: str, name: str) -> None:
        prepare_var_dir(self.var, self.env.get("FABCOM_MODULES", ""))  # as `fabcom migrate` leaves it
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "fabcom.testing.instances", "bootstrap", slug, name],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise InstanceError(f"{self.name}: bootstrap failed:\n{done.stdout}\n{done.stderr}")
        self.token = done.stdout.strip().splitlines()[-1]
        self.slug = slug

    @property
    def address(self) -> str:
        return f"{self.slug}@127.0.0.1:{self.port}"

    @property
    def actor(self) -> str:
        return f"{self.base}/ap/o/{self.slug}"

    def start(self, worker: bool = False) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603
                [*FABCOM, "serve", "--port", str(self.port)], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
            if worker and self.env.get("FABCOM_REDIS_URL"):
                self.worker = subprocess.Popen(  # noqa: S603
                    [*FABCOM, "worker"], env=self.env, stdout=out, stderr=subprocess.STDOUT
                )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise InstanceError(f"{self.name}: fabcom serve exited:\n{self.output()}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise InstanceError(f"{self.name}: no answer on /healthz within 30 s:\n{self.output()}")

    def stop(self) -> None:
        for process in (self.worker, self.process):
            if process is not None and process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        self.process = self.worker = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                f"{self.base}/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"authorization": f"Bearer {self.token}"},
            )
        body = response.json()
        if body.get("errors"):
            raise InstanceError(f"{self.name}: GraphQL errors {body['errors']}")
        return body["data"]

    async def web_session(self) -> httpx.AsyncClient:
        """A client signed in to the web UI as the owner (close it when done)."""
        http = httpx.AsyncClient(base_url=self.base, timeout=30)
        page = await http.get("/login")
        token = csrf_token(page.text)
        response = await http.post(
            "/login", data={"email": f"owner@{self.slug}.example", "password": PASSWORD, "csrf_token": token}
        )
        if response.status_code != 303:
            raise InstanceError(f"{self.name}: login failed ({response.status_code})")
        return http

    async def get(self, path: str, **headers: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as http:
            return await http.get(f"{self.base}{path}", headers=headers)


def csrf_token(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


async def eventually(check: Any, limit_s: float = 60, every_s: float = 0.2, what: str = "condition") -> Any:
    """Await ``check()`` until it returns something truthy (bounded in time)."""
    deadline = time.monotonic() + limit_s
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every_s)
    raise InstanceError(f"{what} never held within {limit_s} s (last: {last!r})")


async def _bootstrap(slug: str, name: str) -> str:
    from fabcom import clock
    from fabcom.auth.models import User
    from fabcom.auth.services import create_api_token, hash_password
    from fabcom.db import close_database, open_database
    from fabcom.inventory.services import seed_categories
    from fabcom.members.models import Membership, Role
    from fabcom.orgs.models import Organization
    from fabcom.permissions import known_scopes, system_principal
    from fabcom.settings import load_settings

    settings = load_settings()
    await open_database(settings)
    try:
        await seed_categories()
        org = await Organization.create(slug=slug, name=name, kind="ressourcerie")
        user = await User.create(
            email=f"owner@{slug}.example", display_name=f"Owner {name}", password_hash=hash_password(PASSWORD)
        )
        await Membership.create(user=user, organization=org, role=Role.OWNER, valid_from=clock.today())
        _token, secret = await create_api_token(
            system_principal(),
            user.id,
            {"name": "e2e", "scopes": [s.code for s in known_scopes()], "expires_in_days": 1},
        )
        return secret
    finally:
        await close_database()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "bootstrap":
        print(asyncio.run(_bootstrap(sys.argv[2], sys.argv[3])))
    else:
        sys.exit("usage: python -m fabcom.testing.instances bootstrap SLUG NAME")
