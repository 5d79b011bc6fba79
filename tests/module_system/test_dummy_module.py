"""The dummy module (``dummy_dist/``, a separate distribution found through its entry
point) uses every contribution point: enabled, its route, template, menu entry, GraphQL
type and fields, API token scope, job, cron entry, federation handler, settings, demo hook,
translations and table appear; disabled, none of them does."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fabcom.app import create_app
from fabcom.federation.handlers import Sender, dispatch
from fabcom.gql.schema import build_schema
from fabcom.gql.scopes import declared_scopes
from fabcom.i18n import gettext
from fabcom.jobs.registry import load_jobs, registry
from fabcom.module_system.contributions import register_hooks, tortoise_apps
from fabcom.module_system.hooks import plugin_manager
from fabcom.module_system.registry import build_registry, discover

DUMMY_DIST = Path(__file__).resolve().parent / "dummy_dist"
ANNOUNCE = {"type": "Announce", "actor": "https://b.example/ap/o/b", "object": {"type": "DummyThing", "name": "two"}}


@pytest.fixture
def dummy_installed(db):
    """The dummy distribution on ``sys.path``; everything it registered is undone after."""
    load_jobs(enabled=[])
    jobs, crons = dict(registry.jobs), list(registry.crons)
    sys.path.insert(0, str(DUMMY_DIST))
    yield
    sys.path.remove(str(DUMMY_DIST))
    for name in [n for n in sys.modules if n.startswith("fabcom_dummy")]:
        del sys.modules[name]
    registry.jobs.clear()
    registry.jobs.update(jobs)
    registry.crons[:] = crons
    register_hooks(build_registry(db.modules))


def migrate(tmp_path: Path, modules: str) -> set[str]:
    """Run ``fabcom migrate`` on a fresh SQLite file with ``modules`` enabled; its tables."""
    database = tmp_path / f"db-{modules or 'none'}.sqlite3"
    env = {
        **os.environ,
        "PYTHONPATH": str(DUMMY_DIST),
        "FABCOM_MODULES": modules,
        "FABCOM_DATABASE_URL": f"sqlite://{database}",
        "FABCOM_VAR_DIR": str(tmp_path),
        "FABCOM_SECRET_KEY": "test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "fabcom", "migrate"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def test_the_enabled_dummy_module_contributes_everywhere(dummy_installed, db, tmp_path, monkeypatch):
    # given the dummy module, installed and enabled
    assert discover()["dummy"].package == "fabcom_dummy"
    modules = build_registry(["dummy"])
    register_hooks(modules)
    monkeypatch.setenv("FABCOM_DUMMY_GREETING", "bonjour")
    app = create_app(db.model_copy(update={"modules": ["dummy"]}))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        # its page, from its template, with its settings
        page = await client.get("/m/dummy/")
        css_hash = hashlib.sha256((DUMMY_DIST / "fabcom_dummy/static/dummy/dummy.css").read_bytes()).hexdigest()[:12]
        assert (page.status_code, page.text.strip()) == (
            200,
            f'<link rel="stylesheet" href="/static/m/dummy/dummy.css?v={css_hash}">\n'
            '<p class="dummy">bonjour from the dummy module</p>',
        )
        assert app.url_path_for("dummy:hello") == "/m/dummy/"
        # its static files, cached for a year at the versioned URL the template uses
        css = await client.get(f"/static/m/dummy/dummy.css?v={css_hash}")
        assert (css.status_code, css.headers["content-type"]) == (200, "text/css; charset=utf-8")
        assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert css.text == ".dummy { color: #1a5e20; }\n"
        # its GraphQL query field and its field on Item
        answer = await client.post("/graphql", json={"query": "{ dummyThings { name } }"})
        assert answer.json()["data"] == {"dummyThings": [{"name": "one"}]}
    built = build_schema(modules)._schema
    assert "DummyThing" in built.type_map
    assert "dummyScore" in built.type_map["Item"].fields
    assert declared_scopes(built.query_type.fields["dummyThings"]) == ("dummy:read",)  # its manifest declares it
    assert [scope.code for scope in modules.get("dummy").scopes] == ["dummy:read"]

    # its menu entry, demo hook and translations
    assert [{"label": "Dummy things", "url": "/m/dummy/"}] in plugin_manager().hook.fabcom_menu_items(
        organization=None, principal=None
    )
    assert "dummy" in [i.plugin_name for i in plugin_manager().hook.fabcom_load_demo_data.get_hookimpls()]
    assert gettext("fr", "Dummy things") == "Trucs factices"

    # its federation handler takes the activities it knows, after the core's
    import fabcom_dummy.federation

    assert await dispatch(ANNOUNCE, Sender(actor_uri="https://b.example/ap/o/b", organization_id=7))
    assert fabcom_dummy.federation.received == [("two", 7)]
    assert not await dispatch({**ANNOUNCE, "object": {"type": "Note"}}, Sender("https://b.example/ap/o/b", 7))

    # its job and cron entry
    loaded = load_jobs(enabled=["dummy"])
    assert loaded.jobs["count_dummies"].description == "Count the dummy things."
    assert "count_dummies" in {c.job_name for c in loaded.crons}

    # its Tortoise app and table, created by its migration
    assert tortoise_apps(modules)["dummy"]["models"] == ["fabcom_dummy.models"]
    assert "dummy_thing" in migrate(tmp_path, "dummy")


async def test_the_disabled_dummy_module_leaves_nothing(dummy_installed, db, tmp_path):
    # given the dummy module, installed but not enabled
    assert "dummy" in discover()
    register_hooks(build_registry(["dummy"]))  # loaded once (its handler is registered)...
    register_hooks(build_registry([]))  # ...then the instance starts without it
    app = create_app(db.model_copy(update={"modules": []}))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        assert (await client.get("/m/dummy/")).status_code == 404
        assert (await client.get("/static/m/dummy/dummy.css")).status_code == 404
        answer = await client.post("/graphql", json={"query": "{ dummyThings { name } }"})
        assert answer.json()["errors"][0]["message"].startswith("Cannot query field 'dummyThings' on type 'Query'")
    assert not [r for r in app.routes if getattr(r, "path", "").startswith("/m/dummy")]
    built = build_schema(build_registry([]))._schema
    assert "DummyThing" not in built.type_map
    assert "dummyScore" not in built.type_map["Item"].fields
    assert "count_dummies" not in load_jobs(enabled=[]).jobs
    assert not await dispatch(ANNOUNCE, Sender(actor_uri="https://b.example/ap/o/b", organization_id=7))
    assert "dummy" not in tortoise_apps(build_registry([]))
    tables = migrate(tmp_path, "")
    assert "fabcom_item" in tables
    assert not [t for t in tables if t.startswith("dummy_")]


@pytest.mark.parametrize(
    "path",
    [
        "/static/m/dummy/../views.py",
        "/static/m/dummy/%2e%2e/views.py",
        "/static/m/dummy/..%2fviews.py",
        "/static/m/dummy/%2e%2e/%2e%2e/dummy/hello.html",
        "/static/m/dummy//etc/passwd",
        "/static/m/dummy/../../templates/dummy/hello.html",
    ],
)
async def test_a_modules_static_files_never_leave_its_folder(dummy_installed, db, path):
    app = create_app(db.model_copy(update={"modules": ["dummy"]}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        # the raw path, as a hostile client sends it (httpx would otherwise collapse "..")
        response = await client.get(httpx.URL("http://testserver", raw_path=path.encode()))
        plain = await client.get("/static/m/dummy/dummy.css")
    assert response.status_code == 404
    assert "import" not in response.text
    assert "greeting" not in response.text
    assert (plain.status_code, plain.headers["cache-control"]) == (200, "public, max-age=3600")
