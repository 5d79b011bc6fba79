"""Discovering the module stays light: reading its manifest (what ``fabcom check`` and the
settings' validation do through the registry) imports no database code, so that
listing and checking modules never loads the ORM and every model. Run in a fresh
interpreter: in the test process the ORM is always loaded already."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fabcom.members.models import Role
from fabcom.module_system.manifest import ManifestError, Module, Permission, Scope
from fabcom.permissions import Principal

ROOT = Path(__file__).resolve().parents[2]
READ = Scope("shop:read", "Read the shop", "See the shop.")

# Print the loaded modules that are the ORM or database models, after importing what
# discovery imports: the registry and the module's manifest (its package's __init__).
PROBE = """
import importlib
import sys
import fabcom.module_system.registry
package = importlib.import_module("modules." + sys.argv[1])
heavy = sorted(
    name for name in sys.modules
    if name.split(".")[0] in ("tortoise", "strawberry") or name == "fabcom.db" or name.endswith(".models")
)
print(heavy)
print(package.module.slug)
"""


@pytest.mark.parametrize("slug", ["bookings", "ressourcerie"])
def test_reading_the_manifest_imports_no_orm(slug):
    # when a fresh interpreter imports the registry and a first-party module's manifest
    command = [sys.executable, "-c", PROBE, slug]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)

    # then it read the manifest without importing Tortoise, Strawberry or any models
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[]", slug]


def test_a_permission_is_checked_when_the_manifest_is_read():
    # a right of the module's own, held by roles that exist, asking a scope someone declares
    def manifest(permission: Permission) -> Module:
        return Module(slug="shop", name="Shop", version="1.0", permissions=(permission,), scopes=(READ,))

    assert manifest(Permission("shop.sell", roles=("staff",), scope="shop:read")).permissions[0].code == "shop.sell"
    assert manifest(Permission("shop.sell", roles=("staff",), scope="inventory:write"))  # a core scope
    refusals = {
        Permission("sell", ("staff",), "shop:read"): "module 'shop': permission 'sell' must start with shop.",
        Permission("shop.sell", ("boss",), "shop:read"): (
            "module 'shop': permission 'shop.sell': roles must be among owner, admin, staff, volunteer, member"
            " (not 'boss')"
        ),
        Permission("shop.sell", (), "shop:read"): (
            "module 'shop': permission 'shop.sell': roles must be among owner, admin, staff, volunteer, member"
        ),
        Permission("shop.sell", ("staff",), "shop:write"): (
            "module 'shop': permission 'shop.sell' asks the scope 'shop:write', which neither the module nor the"
            " core declares"
        ),
    }
    for permission, message in refusals.items():
        with pytest.raises(ManifestError) as refused:
            manifest(permission)
        assert str(refused.value) == message


def test_principal_can_checks_a_modules_permission():
    sell = Permission("shop.sell", roles=("staff", "volunteer"), scope="shop:write")
    staff = Principal(user_id=1, roles={7: Role.STAFF})
    member = Principal(user_id=2, roles={7: Role.MEMBER})
    token = Principal(user_id=1, roles={7: Role.STAFF}, scopes=frozenset({"shop:read", "inventory:write"}))
    assert staff.can(sell, 7)
    assert not staff.can(sell, 8)
    assert not member.can(sell, 7)
    assert not token.can(sell, 7)  # the permission's scope, not the inventory's
    assert token.can(sell, 7, scope="shop:read")
    assert staff.orgs_where(sell) == [7]
