"""fabcom's organization actors against ActivityPub software not written here, on
loopback only and bounded in time:

- fediverse-pasture's ``verify_actor`` (PyPI ``fediverse-pasture``, in its own venv):
  its test actors fetch our actor (signed and unsigned) and post to its inbox;
- the npm package ``activitypub-testing``'s actor tests.

``.ci/interop-tools`` installs both under ``~/.cache/fabcom-interop`` (or
``FABCOM_INTEROP_CACHE``). When they cannot be installed the tests skip, saying why; with
``FABCOM_REQUIRE_SERVICES=1`` (CI, which reaches PyPI and npm) they fail instead, so the
interoperability check never disappears silently. A fabcom without actor documents (the
transport half not merged) makes them skip. ``FABCOM_INTEROP_FABCOM`` may name another
``fabcom`` executable to test (e.g. another worktree's). See docs/federation.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fabcom.testing.processes import free_port
from fabcom.testing.services import services_required

ROOT = Path(__file__).resolve().parent.parent.parent
TOOLS_SCRIPT = ROOT / ".ci" / "interop-tools"
SLUG = "recyclerie-du-canal"  # one of the demo organizations
ACTOR_TYPES = "application/activity+json, application/ld+json"


def _unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (FABCOM_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def tools() -> Path:
    """The cache folder holding the installed tools."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        _unavailable("node and npm are needed for activitypub-testing")
    try:
        done = subprocess.run(
            [shutil.which("bash") or "/bin/bash", str(TOOLS_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=1500,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _unavailable("installing the interoperability tools took more than 25 minutes")
    if done.returncode != 0:
        _unavailable(f"the interoperability tools could not be installed: {done.stderr.strip()[-500:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def fabcom_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``fabcom serve`` on a free loopback port, with the demo organizations; yields
    its base URL. Stopped by its PID."""
    port = free_port()
    var = tmp_path_factory.mktemp("interop-var")
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FABCOM_VAR_DIR": str(var),
        "FABCOM_DATABASE_URL": "",
        "FABCOM_REDIS_URL": "",
        "FABCOM_BASE_URL": base,
        "FABCOM_HOST": "127.0.0.1",
        "FABCOM_PORT": str(port),
        "FABCOM_SECRET_KEY": "interop-secret",
        "FABCOM_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "1",  # the pasture's actors live on loopback
    }
    command = os.environ.get("FABCOM_INTEROP_FABCOM")
    fabcom = [command] if command else [sys.executable, "-m", "fabcom"]
    log = var / "serve.log"
    for step in (["migrate"], ["demo", "--if-empty"]):
        subprocess.run([*fabcom, *step], env=env, check=True, capture_output=True, timeout=300)
    with log.open("wb") as out:
        process = subprocess.Popen([*fabcom, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("fabcom serve did not start:\n" + log.read_text(errors="replace")[-2000:])
        actor = httpx.get(f"{base}/ap/o/{SLUG}", headers={"Accept": ACTOR_TYPES}, timeout=10)
        if actor.status_code != 200:
            pytest.skip("this fabcom serves no actor document (the transport half of federation is not merged)")
        yield f"{base}/ap/o/{SLUG}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_fediverse_pasture_verify_actor_accepts_our_actor(tools: Path, fabcom_server: str):
    port = free_port()
    done = subprocess.run(
        [
            str(tools / "pasture-venv" / "bin" / "python"),
            str(tools / "pasture_verify_actor.py"),
            str(port),
            fabcom_server,
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tools,  # verify_actor writes its generated test actors' configuration here
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    result = report["result"]

    assert result["webfinger"] is True, report["messages"]
    # Alice posts unsigned: she must be refused. Bob and Claire sign (Claire fetches keys
    # with a signed request too): both must read the actor and be accepted by its inbox.
    assert result["alice"] == {"get_actor": True, "post_inbox": False}, report["messages"]
    assert result["bob"] == {"get_actor": True, "post_inbox": True}, report["messages"]
    assert result["claire"] == {"get_actor": True, "post_inbox": True}, report["messages"]


def test_activitypub_testing_actor_tests_pass(tools: Path, fabcom_server: str):
    cli = tools / "npm" / "node_modules" / ".bin" / "activitypub-testing"
    done = subprocess.run(
        [str(cli), "test", "actor", fabcom_server], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes: dict[str, str] = {}
    decoder = json.JSONDecoder()
    text, at = done.stdout.replace("\x1e", ""), 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        assertion, at = decoder.raw_decode(text, at)
        outcomes[assertion["test"]["slug"]] = assertion["result"]["outcome"]

    failed = sorted(slug for slug, outcome in outcomes.items() if outcome == "failed")
    assert failed == [], outcomes
    assert {
        "actor-must-serve-as2-object-to-get",
        "actor-objects-must-have-inbox-outbox-properties",
        "outbox-must-be-an-orderedcollection",
        "followers-collection-must-be-a-collection",
    } <= {slug for slug, outcome in outcomes.items() if outcome == "passed"}
