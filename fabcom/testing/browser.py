"""Browser tests' shared pieces: Debian's chromium, and a real ``fabcom serve`` on a
migrated SQLite database with the demo data, for Playwright to drive."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from fabcom.demo import DEMO_PASSWORD
from fabcom.testing.cache import FABCOM, fabcom_env, prepare_var_dir
from fabcom.testing.processes import free_port
from fabcom.testing.services import services_required

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip (or fail, where services are required) without chromium."""
    if not Path(CHROMIUM).exists():
        if services_required():
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")


@contextmanager
def demo_server(
    var_dir: Path,
    modules: str = "",
    setup: Sequence[tuple[list[str], str | None]] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """A copy of the run's demo instance for ``modules`` in ``var_dir`` (as ``fabcom
    migrate`` then ``fabcom demo`` leave it), then each ``(arguments, standard input)`` of
    ``setup``, then ``fabcom serve`` on a free port, with ``env`` added to its
    environment, until the block ends; yields its URL."""
    prepare_var_dir(var_dir, modules, demo=True)
    server_env = {**fabcom_env(var_dir, modules), **(env or {})}
    for args, given in setup:
        done = subprocess.run(  # noqa: S603 - our own command line
            FABCOM + args, env=server_env, input=given, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_env["FABCOM_BASE_URL"] = base
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [*FABCOM, "serve", "--port", str(port)], env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, "fabcom serve exited early"
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("fabcom serve did not answer /healthz within 60 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def demo_login(pw, server: str, viewport: dict[str, int], email: str = "lucas@recyclerie-du-canal.example"):
    """A French chromium logged in to the demo as ``email`` (staff of the Recyclerie by
    default), on its organization's dashboard: (the browser, to close; the page)."""
    from playwright.sync_api import expect

    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    page = browser.new_context(locale="fr-FR", viewport=viewport).new_page()
    page.goto(server + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")
    return browser, page


def wait_until_true(page, expression: str, limit_s: float = 15) -> None:
    """Wait until a script expression is true in the page.

    Playwright's ``page.wait_for_function`` polls by calling ``eval`` inside the page,
    which fabcom's Content-Security-Policy (no ``'unsafe-eval'``) refuses as soon as the
    first check is false; ``page.evaluate`` goes through the devtools protocol, which
    the policy does not govern."""
    deadline = time.monotonic() + limit_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            pytest.fail(f"still false after {limit_s} s: {expression}")
        page.wait_for_timeout(50)
