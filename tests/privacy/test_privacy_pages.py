"""The account page's download and erasure, and the CLI's `fabcom user export/erase`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from fabcom.auth.models import Session, User
from fabcom.auth.services import create_user, open_session
from fabcom.members.models import Role
from fabcom.members.services import add_member
from fabcom.permissions import system_principal
from fabcom.testing.cache import prepare_var_dir

PASSWORD = "a long passphrase 2026"


async def signed_in(client, email="lea@example.org", name="Léa Martin", org=None, role=Role.STAFF):
    system = system_principal()
    user = await create_user(system, {"email": email, "display_name": name, "password": PASSWORD})
    if org is not None:
        await add_member(system, org.id, {"user_id": user.id, "role": role})
    session, key = await open_session(user)
    client.cookies.set("fabcom_session", key)
    return user, session.csrf_token


async def test_the_account_page_offers_the_download_and_the_erasure(client, org_a):
    await signed_in(client, org=org_a)
    page = await client.get("/account")
    assert 'href="/account/data"' in page.text
    assert 'href="/account/erase"' in page.text


async def test_a_person_downloads_their_own_data_as_a_json_file(client, org_a):
    await signed_in(client, org=org_a)
    response = await client.get("/account/data")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith('attachment; filename="fabcom-my-data-')
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["account"]["email"] == "lea@example.org"
    assert data["memberships"][0]["organization"]["slug"] == org_a.slug


async def test_a_visitor_gets_the_login_page_not_data(client):
    response = await client.get("/account/data")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account/data"
    assert (await client.post("/account/erase", data={"password": PASSWORD})).status_code == 403  # no CSRF token


async def test_a_wrong_password_erases_nothing(client, org_a):
    user, csrf = await signed_in(client, org=org_a)
    response = await client.post("/account/erase", data={"password": "not it", "csrf_token": csrf})
    assert response.status_code == 400
    assert "Le mot de passe est incorrect." in response.text
    assert (await User.get(id=user.id)).email == "lea@example.org"
    assert await Session.filter(user_id=user.id).count() == 1


async def test_without_the_csrf_token_nothing_is_erased(client, org_a):
    user, _csrf = await signed_in(client, org=org_a)
    response = await client.post("/account/erase", data={"password": PASSWORD})
    assert response.status_code == 403
    assert (await User.get(id=user.id)).is_active is True


async def test_the_right_password_erases_the_account_and_logs_out(client, org_a):
    user, csrf = await signed_in(client, org=org_a)
    response = await client.post("/account/erase", data={"password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    erased = await User.get(id=user.id)
    assert (erased.email, erased.is_active) == (f"erased-{user.id}@erased.invalid", False)
    assert await Session.filter(user_id=user.id).count() == 0
    assert (await client.get("/account")).status_code == 303  # the old cookie opens nothing


async def test_the_only_owner_is_told_to_hand_over_first(client, org_b):
    user, csrf = await signed_in(client, org=org_b, role=Role.OWNER)
    response = await client.post("/account/erase", data={"password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 400
    assert org_b.name in response.text
    assert (await User.get(id=user.id)).is_active is True


def test_the_admin_exports_then_erases_a_person_from_the_command_line(tmp_path):
    env = {
        **os.environ,
        "FABCOM_VAR_DIR": str(tmp_path / "var"),
        "FABCOM_DATABASE_URL": "",
        "FABCOM_REDIS_URL": "",
        "LANG": "en_US.UTF-8",
    }
    fabcom = [sys.executable, "-m", "fabcom"]

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*fabcom, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )

    prepare_var_dir(tmp_path / "var", os.environ.get("FABCOM_MODULES", ""), demo=True)
    email = "paul@example.org"
    exported = run("user", "export", email, "-o", str(tmp_path / "paul.json"))
    assert exported.returncode == 0, exported.stderr
    data = json.loads((tmp_path / "paul.json").read_text())
    assert data["account"]["email"] == email
    refused = run("user", "erase", email, stdin="n\n")
    assert refused.returncode == 1
    erased = run("user", "erase", email, "--yes")
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.startswith("erased account ")
    again = run("user", "export", email)
    assert again.returncode == 1
    assert again.stderr.strip() == "error: email: Unknown account."
