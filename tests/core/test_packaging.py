"""A wheel carries everything a plain ``pip install`` needs (Docker and bare-metal installs)."""

from __future__ import annotations

import subprocess
import sys
import zipfile


def test_the_wheel_ships_templates_assets_catalogues_and_migrations(project_root, tmp_path):
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(project_root),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("fabcom-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "fabcom-0.1.0.dev0.data/data/share/fabcom/templates/base.html",
        "fabcom/static/vendor/htmx/htmx-2.0.11.min.js",
        "fabcom/static/graphiql/graphiql.min.js",
        "fabcom/locale/fr/LC_MESSAGES/messages.po",
        "fabcom/inventory/data/taxonomy.json",
        "fabcom/migrations/0001_initial.py",
        "fabcom/module_system/scaffold/models.py.tmpl",
        "modules/bookings/migrations/0001_initial.py",
        "modules/ressourcerie/migrations/0001_initial.py",
    }
    assert expected - names == set()
    assert not [n for n in names if n.startswith("graphql/")]  # never shadow graphql-core
