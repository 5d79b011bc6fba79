"""Discovering the module stays light: reading its manifest (what ``fabcom check`` and the
settings' validation do through the registry) imports no database code, so that
listing and checking modules never loads the ORM and every model. Run in a fresh
interpreter: in the test process the ORM is always loaded already."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Print the loaded modules that are the ORM or database models, after importing what
# discovery imports: the registry and the module's manifest (its package's __init__).
PROBE = """
import sys
import fabcom.module_system.registry
import modules.bookings
heavy = sorted(
    name for name in sys.modules
    if name.split(".")[0] in ("tortoise", "strawberry") or name == "fabcom.db" or name.endswith(".models")
)
print(heavy)
print(modules.bookings.module.slug)
"""


def test_reading_the_manifest_imports_no_orm():
    # when a fresh interpreter imports the registry and the bookings manifest
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=False)

    # then it read the manifest without importing Tortoise, Strawberry or any models
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[]", "bookings"]
