"""Password reset by e-mail: no account enumeration, a single-use link valid one hour,
sessions revoked, the e-mail in the user's language, the request rate limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from fabcom.auth.models import Session, User
from fabcom.auth.services import open_session, verify_password
from fabcom.jobs.models import Job
from fabcom.testing.jobs import EmbeddedJobs, fake_clock, settings_for_tests
from fabcom.testing.smtp import SmtpSink
from fabcom.web.models import PasswordReset

__all__ = ["fake_clock"]  # the fixture, imported for this module

NEW_PASSWORD = "a brand new passphrase"
SENT = "Si un compte utilise cette adresse, nous lui avons envoyé un lien"


@pytest.fixture
def sink():
    with SmtpSink() as smtp:
        yield smtp


@pytest.fixture
def mail_jobs(db, fake_clock, sink):
    settings = settings_for_tests(db, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_tls="none")
    return EmbeddedJobs(settings, fake_clock)


def link_in(message) -> str:
    match = re.search(r"https?://\S+/password/reset/(\S+)", message.get_content())
    assert match is not None
    return match.group(1)


async def test_the_login_page_links_to_the_forgotten_password_form(make_client):
    client = await make_client()
    login = await client.get("/login")
    assert '<a href="/password/forgot">Mot de passe oublié ?</a>' in login.text
    page = await client.get("/password/forgot")
    assert page.status_code == 200
    assert '<label for="email">Adresse e-mail' in page.text


async def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_one_a_job(
    make_client, staff_a, mail_jobs, sink
):
    user = await User.get(id=staff_a.user_id)
    client = await make_client()
    known = await client.post_form("/password/forgot", {"email": user.email.upper()})
    unknown = await client.post_form("/password/forgot", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert SENT in known.text
    assert SENT in unknown.text
    assert await Job.filter(name="send_password_reset").count() == 1
    assert await PasswordReset.all().count() == 0  # the token is made by the job, never kept in its arguments
    await mail_jobs.settle()
    assert [m["To"] for m in sink.messages] == [user.email]
    assert sink.messages[0]["Subject"] == "Réinitialisez votre mot de passe fabcom"
    token = link_in(sink.messages[0])
    reset = await PasswordReset.get(user_id=user.id)
    assert reset.token_hash != token
    assert len(reset.token_hash) == 64


async def test_the_e_mail_is_in_english_for_an_english_speaking_user(make_client, staff_a, mail_jobs, sink):
    await User.filter(id=staff_a.user_id).update(locale="en")
    user = await User.get(id=staff_a.user_id)
    client = await make_client()
    await client.post_form("/password/forgot", {"email": user.email})
    await mail_jobs.settle()
    assert sink.messages[0]["Subject"] == "Reset your fabcom password"
    assert "Hello" in sink.messages[0].get_content()


async def test_a_bad_address_re_renders_with_the_value_kept_and_a_message(make_client):
    client = await make_client()
    response = await client.post_form("/password/forgot", {"email": "not-an-address"})
    assert response.status_code == 400
    assert 'value="not-an-address"' in response.text
    assert '<p class="field-error" id="email-error">Saisissez une adresse e-mail valide.</p>' in response.text
    assert await Job.filter(name="send_password_reset").count() == 0


async def test_the_link_sets_a_new_password_once_and_closes_every_session(make_client, staff_a, mail_jobs, sink):
    user = await User.get(id=staff_a.user_id)
    await open_session(user)
    await open_session(user)
    client = await make_client()
    await client.post_form("/password/forgot", {"email": user.email})
    await mail_jobs.settle()
    token = link_in(sink.messages[0])

    form = await client.get(f"/password/reset/{token}")
    assert form.status_code == 200
    assert 'name="new_password"' in form.text

    differ = await client.post_form(
        f"/password/reset/{token}", {"new_password": NEW_PASSWORD, "new_password_again": "something else"}
    )
    assert differ.status_code == 400
    assert "Les deux nouveaux mots de passe sont différents." in differ.text
    short = await client.post_form(f"/password/reset/{token}", {"new_password": "short", "new_password_again": "short"})
    assert short.status_code == 400
    assert 'id="new_password-error"' in short.text

    done = await client.post_form(
        f"/password/reset/{token}", {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    user = await User.get(id=user.id)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert await Session.filter(user_id=user.id).count() == 0

    again = await client.post_form(
        f"/password/reset/{token}",
        {"new_password": "yet another passphrase", "new_password_again": "yet another passphrase"},
    )
    assert again.status_code == 400
    assert "Ce lien n’est pas valide, a déjà servi ou a expiré." in again.text
    assert verify_password((await User.get(id=user.id)).password_hash, NEW_PASSWORD)


async def test_the_link_expires_after_an_hour(make_client, staff_a, mail_jobs, sink, fake_clock):
    user = await User.get(id=staff_a.user_id)
    client = await make_client()
    await client.post_form("/password/forgot", {"email": user.email})
    await mail_jobs.settle()
    token = link_in(sink.messages[0])
    fake_clock.advance(dt.timedelta(hours=1, seconds=1))
    page = await client.get(f"/password/reset/{token}")
    assert 'id="reset-invalid"' in page.text
    assert 'name="new_password"' not in page.text
    response = await client.post_form(
        f"/password/reset/{token}", {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert not verify_password((await User.get(id=user.id)).password_hash, NEW_PASSWORD)


async def test_an_unknown_token_shows_the_invalid_link_message(make_client):
    client = await make_client()
    page = await client.get("/password/reset/not-a-real-token")
    assert page.status_code == 200
    assert 'id="reset-invalid"' in page.text
    assert 'name="new_password"' not in page.text


async def test_the_26th_request_within_5_minutes_from_one_address_gets_429(make_client):
    client = await make_client()
    for _ in range(25):
        response = await client.post_form("/password/forgot", {"email": "nobody@example.org"})
        assert response.status_code == 200
    response = await client.post_form("/password/forgot", {"email": "nobody@example.org"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "300"
