"""Login, logout, sessions, the login rate limit, password change and the language switch."""

from __future__ import annotations

import datetime as dt

from fabcom import clock
from fabcom.auth.models import Session, User
from fabcom.auth.services import hash_password
from fabcom.web.models import LoginAttempt

PASSWORD = "correct horse battery"


async def set_password(principal, password: str = PASSWORD) -> User:
    await User.filter(id=principal.user_id).update(password_hash=hash_password(password))
    return await User.get(id=principal.user_id)


async def test_login_page_is_french_by_default_with_landmarks_and_skip_link(make_client):
    client = await make_client()
    page = await client.get("/login")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert '<a class="skip-link" href="#main">Aller au contenu</a>' in page.text
    assert '<main id="main"' in page.text
    assert "<header" in page.text
    assert "<footer" in page.text
    assert 'name="csrf_token"' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


async def test_login_sets_an_httponly_lax_session_cookie_and_opens_a_session(make_client, staff_a, org_a):
    user = await set_password(staff_a)
    client = await make_client()
    response = await client.post_form("/login", {"email": user.email.upper(), "password": PASSWORD, "next": "/"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "fabcom_session=" in v)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in the test; https adds it
    assert await Session.filter(user_id=user.id).count() == 1
    home = await client.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == f"/o/{org_a.slug}/"


async def test_login_cookie_is_secure_over_https(app, db, staff_a):
    import httpx

    user = await set_password(staff_a)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as client:
        await client.get("/login")
        token = client.cookies.get("fabcom_csrf")
        response = await client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "fabcom_session=" in v)
    assert "Secure" in cookie


async def test_wrong_password_re_renders_with_the_email_kept_and_no_session(make_client, staff_a):
    user = await set_password(staff_a)
    client = await make_client()
    response = await client.post_form("/login", {"email": user.email, "password": "wrong password"})
    assert response.status_code == 400
    assert "Adresse e-mail ou mot de passe incorrect." in response.text
    assert f'value="{user.email}"' in response.text
    assert await Session.filter(user_id=user.id).count() == 0


async def test_next_parameter_never_redirects_off_site(make_client, staff_a):
    user = await set_password(staff_a)
    client = await make_client()
    response = await client.post_form("/login", {"email": user.email, "password": PASSWORD, "next": "//evil.example/"})
    assert response.headers["location"] == "/"


async def test_the_26th_attempt_within_5_minutes_from_one_address_gets_429(make_client, staff_a):
    user = await set_password(staff_a)
    client = await make_client()
    now = clock.now()
    # 24 earlier attempts from the test client's address, one older than the window
    await LoginAttempt.bulk_create([LoginAttempt(ip_address="127.0.0.1", created_at=now) for _ in range(24)])
    await LoginAttempt.create(ip_address="127.0.0.1", created_at=now - dt.timedelta(minutes=6))
    twenty_fifth = await client.post_form("/login", {"email": user.email, "password": "wrong password"})
    assert twenty_fifth.status_code == 400
    twenty_sixth = await client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert twenty_sixth.status_code == 429
    assert "Trop de tentatives" in twenty_sixth.text
    assert await Session.filter(user_id=user.id).count() == 0
    # another address is not limited
    assert await LoginAttempt.filter(ip_address="10.0.0.9").count() == 0


async def test_logout_revokes_the_session_server_side(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    key = client.cookies.get("fabcom_session")
    assert (await client.get(f"/o/{org_a.slug}/")).status_code == 200
    response = await client.post_form("/logout")
    assert response.status_code == 303
    assert await Session.filter(user_id=staff_a.user_id).count() == 0
    # the old cookie, replayed, no longer works
    client.cookies.set("fabcom_session", key)
    again = await client.get(f"/o/{org_a.slug}/")
    assert again.status_code == 303
    assert again.headers["location"] == f"/login?next=/o/{org_a.slug}/"


async def test_password_change_revokes_every_other_session(make_client, staff_a):
    await set_password(staff_a)
    other_device = await make_client(staff_a)
    client = await make_client(staff_a)
    bad = await client.post_form(
        "/account",
        {
            "current_password": "not it at all",
            "new_password": "a new long pass",
            "new_password_again": "a new long pass",
        },
    )
    assert bad.status_code == 400
    assert "Le mot de passe actuel est incorrect." in bad.text
    assert await Session.filter(user_id=staff_a.user_id).count() == 2
    ok = await client.post_form(
        "/account",
        {"current_password": PASSWORD, "new_password": "a new long pass", "new_password_again": "a new long pass"},
    )
    assert ok.status_code == 303
    assert await Session.filter(user_id=staff_a.user_id).count() == 1  # only the new one
    assert (await other_device.get("/account")).status_code == 303
    assert (await client.get("/account")).status_code == 200


async def test_language_switch_is_saved_to_the_account(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    assert '<html lang="fr">' in (await client.get(f"/o/{org_a.slug}/")).text
    response = await client.post_form("/language", {"locale": "en", "next": f"/o/{org_a.slug}/"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/o/{org_a.slug}/"
    assert (await User.get(id=staff_a.user_id)).locale == "en"
    page = await client.get(f"/o/{org_a.slug}/")
    assert '<html lang="en">' in page.text
    assert "Dashboard" in page.text
    assert "Français" in page.text
    # the browser's own language does not override what the person chose
    page = await client.get(f"/o/{org_a.slug}/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="en">' in page.text


async def test_language_switch_when_logged_out_uses_a_cookie(make_client):
    client = await make_client()
    await client.post_form("/language", {"locale": "en", "next": "/login"})
    page = await client.get("/login")
    assert '<html lang="en">' in page.text
    assert "Log in" in page.text


async def test_organization_switcher_lists_only_my_organizations(make_client, make_member, org_a, org_b, make_org):
    other = await make_org("ruche", name="La Ruche")
    both = await make_member(org_a, org_b)
    client = await make_client(both)
    page = await client.get(f"/o/{org_a.slug}/")
    assert f'<option value="{org_b.slug}"' in page.text
    assert other.slug not in page.text
    jump = await client.get(f"/go?org={org_b.slug}")
    assert jump.headers["location"] == f"/o/{org_b.slug}/"
    refused = await client.get(f"/go?org={other.slug}")
    assert refused.headers["location"] == "/"


async def test_a_password_changed_through_htmx_loads_the_account_page_whole(make_client, staff_a):
    """htmx follows a 303 itself and swaps what it gets into the form: the whole page
    appeared inside the password card. It is told to load the page instead."""
    await set_password(staff_a)
    client = await make_client(staff_a)
    fields = {"current_password": PASSWORD, "new_password": "a new long pass", "new_password_again": "a new long pass"}
    ok = await client.post_form("/account", fields, headers={"HX-Request": "true"})
    assert ok.status_code == 204
    assert ok.headers["HX-Redirect"] == "/account"
    page = await client.get("/account")  # with the new session cookie set on the 204
    assert page.status_code == 200
    assert "Mot de passe changé. Vos autres sessions sont déconnectées." in page.text
    assert page.text.count("<header") == 1


async def test_the_account_pages_lead_back_to_ones_organization(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    for path in ("/account", "/account/tokens", "/notifications/preferences"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert f'<a class="org-name" href="/o/{org_a.slug}/">{org_a.name}</a>' in page.text, path
