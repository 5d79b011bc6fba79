"""Invitations to join an organization by e-mail: sent by a job in the invitee's language,
a single-use link (hashed, 7 days) that creates an account or is accepted after login,
refused when expired, used or revoked; resend and revoke; permissions; the rate limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from fabcom.audit.models import AuditEntry
from fabcom.auth.models import User
from fabcom.auth.services import hash_password
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.jobs.models import Job
from fabcom.members.models import Invitation, Membership, Role
from fabcom.members.services import INVITATIONS_PER_HOUR, invite_member, resend_invitation, revoke_invitation
from fabcom.testing.jobs import EmbeddedJobs, fake_clock, settings_for_tests
from fabcom.testing.smtp import SmtpSink

__all__ = ["fake_clock"]  # the fixture, imported for this module

PASSWORD = "a long enough passphrase"
INVALID_FR = "Ce lien d’invitation n’est pas valable"


@pytest.fixture
def sink():
    with SmtpSink() as smtp:
        yield smtp


@pytest.fixture
def mail_jobs(db, fake_clock, sink):
    settings = settings_for_tests(db, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_tls="none")
    return EmbeddedJobs(settings, fake_clock)


@pytest.fixture
async def admin_a(make_member, org_a):
    return await make_member(org_a, role=Role.ADMIN)


def link_in(message) -> str:
    match = re.search(r"https?://\S+/invitations/(\S+)", message.get_content())
    assert match is not None
    return match.group(1)


async def invite(client, slug: str, email: str, role: str = "volunteer"):
    return await client.post_form(f"/o/{slug}/members", {"form": "invite", "email": email, "role": role})


async def test_an_admin_invites_a_new_person_who_creates_an_account_and_joins(
    make_client, admin_a, org_a, mail_jobs, sink
):
    admin = await make_client(admin_a)
    sent = await invite(admin, org_a.slug, "Nouvelle@Example.org")
    assert sent.status_code == 303
    assert await Job.filter(name="send_invitation").count() == 1
    await mail_jobs.settle()
    assert [m["To"] for m in sink.messages] == ["nouvelle@example.org"]
    assert sink.messages[0]["Subject"] == f"Rejoignez {org_a.name} sur fabcom"
    token = link_in(sink.messages[0])
    invitation = await Invitation.get(email="nouvelle@example.org")
    assert invitation.token_hash is not None
    assert token not in invitation.token_hash
    assert invitation.expires_at - invitation.created_at >= dt.timedelta(days=6, hours=23)
    members_page = await admin.get(f"/o/{org_a.slug}/members")
    assert "nouvelle@example.org" in members_page.text
    assert 'id="invitations"' in members_page.text

    newcomer = await make_client()
    page = await newcomer.get(f"/invitations/{token}")
    assert page.status_code == 200
    assert f"Vous êtes invité·e à rejoindre {org_a.name} comme Bénévole." in page.text
    joined = await newcomer.post_form(
        f"/invitations/{token}", {"display_name": "Nour", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert joined.status_code == 303
    assert joined.headers["location"] == f"/o/{org_a.slug}/"
    user = await User.get(email="nouvelle@example.org")
    assert user.display_name == "Nour"
    membership = await Membership.get(user_id=user.id)
    assert (membership.organization_id, membership.role) == (org_a.id, Role.VOLUNTEER)
    assert (await newcomer.get(f"/o/{org_a.slug}/")).status_code == 200  # logged in by the acceptance
    await invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.accepted_by_id == user.id

    again = await (await make_client()).get(f"/invitations/{token}")
    assert again.status_code == 410
    assert INVALID_FR in again.text


async def test_bad_account_input_keeps_the_link_valid_and_creates_nothing(make_client, admin_a, org_a, mail_jobs, sink):
    await invite(await make_client(admin_a), org_a.slug, "nour@example.org")
    await mail_jobs.settle()
    token = link_in(sink.messages[0])
    newcomer = await make_client()
    short = await newcomer.post_form(
        f"/invitations/{token}", {"display_name": "Nour", "password": "short", "password_again": "short"}
    )
    differ = await newcomer.post_form(
        f"/invitations/{token}", {"display_name": "Nour", "password": PASSWORD, "password_again": PASSWORD + "x"}
    )
    assert short.status_code == differ.status_code == 400
    assert 'value="Nour"' in short.text
    assert "Les deux mots de passe diffèrent." in differ.text
    assert await User.filter(email="nour@example.org").count() == 0
    assert (await Invitation.get(email="nour@example.org")).accepted_at is None


async def test_an_existing_account_logs_in_then_accepts(
    make_client, admin_a, org_a, org_b, make_member, mail_jobs, sink
):
    other = await make_member(org_b, role=Role.STAFF)
    user = await User.get(id=other.user_id)
    await User.filter(id=user.id).update(locale="en", password_hash=hash_password(PASSWORD))
    await invite(await make_client(admin_a), org_a.slug, user.email, role="staff")
    await mail_jobs.settle()
    assert sink.messages[0]["Subject"] == f"Join {org_a.name} on fabcom"  # in the account's language
    token = link_in(sink.messages[0])

    anonymous = await make_client()
    page = await anonymous.get(f"/invitations/{token}")
    assert "Se connecter pour accepter" in page.text
    assert await User.filter(email=user.email).count() == 1

    logged_in = await make_client(other)
    page = await logged_in.get(f"/invitations/{token}")
    assert f"({user.email})" in page.text  # which account will join is said before joining
    assert 'id="invitation-other-address"' not in page.text
    accepted = await logged_in.post_form(f"/invitations/{token}")
    assert accepted.status_code == 303
    assert await Membership.filter(user_id=user.id, organization_id=org_a.id, role=Role.STAFF).count() == 1
    assert (await logged_in.get(f"/o/{org_a.slug}/items")).status_code == 200


async def test_expired_and_revoked_links_are_refused_with_a_translated_message(
    make_client, admin_a, org_a, mail_jobs, sink, fake_clock
):
    admin = await make_client(admin_a)
    await invite(admin, org_a.slug, "late@example.org")
    await invite(admin, org_a.slug, "revoked@example.org")
    await mail_jobs.settle()
    late, revoked = (link_in(m) for m in sorted(sink.messages, key=lambda m: m["To"]))
    revoked_row = await Invitation.get(email="revoked@example.org")
    revoke = f"/o/{org_a.slug}/invitations/{revoked_row.id}/revoke"
    asked = await admin.post_form(revoke)
    assert asked.status_code == 200
    assert "Retirer l’invitation de revoked@example.org ?" in asked.text
    assert (await Invitation.get(id=revoked_row.id)).revoked_at is None
    assert (await admin.post_form(revoke, {"confirm": "1"})).status_code == 303
    refused = await (await make_client()).get(f"/invitations/{revoked}")
    assert refused.status_code == 410
    assert INVALID_FR in refused.text

    fake_clock.advance(dt.timedelta(days=7, minutes=1))
    newcomer = await make_client()
    expired = await newcomer.post_form(
        f"/invitations/{late}", {"display_name": "Late", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert expired.status_code == 410
    assert INVALID_FR in expired.text
    await newcomer.post_form("/language", {"locale": "en", "next": "/"})
    english = await newcomer.get(f"/invitations/{late}")
    assert "This invitation link is invalid, already used, revoked or expired." in english.text
    assert await User.filter(email__in=["late@example.org", "revoked@example.org"]).count() == 0
    assert await Membership.filter(organization_id=org_a.id).count() == 1  # the admin only


async def test_resend_sends_a_new_link_and_the_old_one_stops_working(make_client, admin_a, org_a, mail_jobs, sink):
    admin = await make_client(admin_a)
    await invite(admin, org_a.slug, "again@example.org")
    await mail_jobs.settle()
    first = link_in(sink.messages[0])
    invitation = await Invitation.get(email="again@example.org")
    resent = await admin.post_form(f"/o/{org_a.slug}/invitations/{invitation.id}/resend")
    assert resent.status_code == 303
    await mail_jobs.settle()
    assert len(sink.messages) == 2
    second = link_in(sink.messages[1])
    assert second != first
    assert (await (await make_client()).get(f"/invitations/{first}")).status_code == 410
    assert (await (await make_client()).get(f"/invitations/{second}")).status_code == 200
    assert (await Invitation.get(id=invitation.id)).send_count == 2


async def test_a_volunteer_and_staff_of_another_organization_cannot_invite(
    make_client, make_member, org_a, org_b, admin_a
):
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    admin_b = await make_member(org_b, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        await invite_member(volunteer, org_a.id, {"email": "x@example.org", "role": "member"})
    with pytest.raises(PermissionDenied):
        await invite_member(admin_b, org_a.id, {"email": "x@example.org", "role": "member"})
    refused = await invite(await make_client(volunteer), org_a.slug, "x@example.org")
    assert refused.status_code == 403
    outsider = await invite(await make_client(admin_b), org_a.slug, "x@example.org")
    assert outsider.status_code == 404
    invitation = await invite_member(admin_a, org_a.id, {"email": "y@example.org", "role": "member"})
    for attempt in ("resend", "revoke"):
        response = await (await make_client(admin_b)).post_form(
            f"/o/{org_a.slug}/invitations/{invitation.id}/{attempt}"
        )
        assert response.status_code == 404
        with pytest.raises(NotFound):
            await (resend_invitation if attempt == "resend" else revoke_invitation)(admin_b, invitation.id)
    assert await Invitation.filter(email="x@example.org").count() == 0
    assert (await Invitation.get(id=invitation.id)).revoked_at is None
    assert await Job.filter(name="send_invitation").count() == 1


async def test_an_admin_cannot_invite_an_owner(make_client, admin_a, org_a):
    with pytest.raises(PermissionDenied):
        await invite_member(admin_a, org_a.id, {"email": "boss@example.org", "role": "owner"})
    assert await Invitation.all().count() == 0


async def test_bad_input_is_shown_next_to_the_field_and_nothing_is_written(make_client, admin_a, org_a):
    admin = await make_client(admin_a)
    bad = await invite(admin, org_a.slug, "not-an-address")
    assert bad.status_code == 400
    assert 'id="email-error"' in bad.text
    assert 'value="not-an-address"' in bad.text
    member = await User.get(id=admin_a.user_id)
    already = await invite(admin, org_a.slug, member.email)
    assert "Cette personne est déjà membre." in already.text
    await invite(admin, org_a.slug, "twice@example.org")
    twice = await invite(admin, org_a.slug, "twice@example.org")
    assert twice.status_code == 400
    assert await Invitation.all().count() == 1
    assert await Job.filter(name="send_invitation").count() == 1


async def test_invitations_are_rate_limited_per_organization(make_client, admin_a, org_a):
    for n in range(INVITATIONS_PER_HOUR):
        await invite_member(admin_a, org_a.id, {"email": f"p{n}@example.org", "role": "member"})
    with pytest.raises(ValidationFailed) as refused:
        await invite_member(admin_a, org_a.id, {"email": "one-more@example.org", "role": "member"})
    assert refused.value.errors[0].code == ErrorCode.RATE_LIMITED
    page = await invite(await make_client(admin_a), org_a.slug, "one-more@example.org")
    assert page.status_code == 400
    assert "Trop d’invitations envoyées" in page.text
    assert await Invitation.all().count() == INVITATIONS_PER_HOUR
    assert await AuditEntry.filter(action="invitation.create").count() == INVITATIONS_PER_HOUR


async def test_the_e_mail_job_run_twice_sends_the_same_link(db, admin_a, org_a, fake_clock, sink):
    from fabcom.jobs.execution import JobContext
    from fabcom.members.jobs import send_invitation

    invitation = await invite_member(admin_a, org_a.id, {"email": "twice@example.org", "role": "member"})
    job = await Job.get(name="send_invitation")
    settings = settings_for_tests(db, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_tls="none")
    ctx = JobContext(settings=settings, job_id=job.id, key=job.key, attempt=1, http=None)  # type: ignore[arg-type]
    await send_invitation(ctx, invitation_id=invitation.id)
    await send_invitation(ctx, invitation_id=invitation.id)
    assert link_in(sink.messages[0]) == link_in(sink.messages[1])
    assert sink.messages[0]["Message-ID"] == sink.messages[1]["Message-ID"]


async def test_an_account_invited_through_the_api_joins_only_when_it_logs_in_from_the_link_and_accepts(
    make_client, admin_a, org_a, org_b, make_member, mail_jobs, sink
):
    from fabcom.auth.services import create_api_token
    from fabcom.permissions import SCOPES, system_principal

    # given someone with an account, member of org B only, invited to org A through the API
    other = await make_member(org_b, role=Role.STAFF)
    user = await User.get(id=other.user_id)
    await User.filter(id=user.id).update(password_hash=hash_password(PASSWORD))
    _token, secret = await create_api_token(system_principal(), admin_a.user_id, {"name": "t", "scopes": list(SCOPES)})
    mutation = (
        'mutation($e: String!) { membershipInvite(input: {organizationSlug: "recyclerie-a", email: $e, role: STAFF}) '
        "{ member { email } invitation { email role } errors { code } } }"
    )
    partner = await make_client()
    answer = await partner.post(
        "/graphql",
        json={"query": mutation, "variables": {"e": user.email}},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answer.json()["data"]["membershipInvite"] == {
        "member": None,
        "invitation": {"email": user.email, "role": "STAFF"},
        "errors": [],
    }
    await mail_jobs.settle()
    assert [m["To"] for m in sink.messages] == [user.email]
    token = link_in(sink.messages[0])
    assert not await Membership.exists(user_id=user.id, organization_id=org_a.id)

    # when they open the link without being logged in, they are asked to log in, and nothing changes
    browser = await make_client()
    page = await browser.get(f"/invitations/{token}")
    assert page.status_code == 200
    assert f'href="/login?next=/invitations/{token}"' in page.text
    to_login = await browser.post_form(f"/invitations/{token}")
    assert to_login.status_code == 303
    assert to_login.headers["location"] == f"/login?next=/invitations/{token}"
    assert not await Membership.exists(user_id=user.id, organization_id=org_a.id)

    # and they log in from there, come back to the invitation and accept it
    logged_in = await browser.post_form(
        "/login", {"email": user.email, "password": PASSWORD, "next": f"/invitations/{token}"}
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == f"/invitations/{token}"
    back = await browser.get(f"/invitations/{token}")
    assert f"Rejoindre {org_a.name}" in back.text
    assert not await Membership.exists(user_id=user.id, organization_id=org_a.id)
    browser.csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', back.text).group(1)  # the new session's
    joined = await browser.post_form(f"/invitations/{token}")

    # then they are a member of org A with the invited role, and the link is used
    assert joined.status_code == 303
    assert joined.headers["location"] == f"/o/{org_a.slug}/"
    assert await Membership.filter(user_id=user.id, organization_id=org_a.id, role=Role.STAFF).count() == 1
    invitation = await Invitation.get(email=user.email)
    assert invitation.accepted_by_id == user.id
    assert (await browser.get(f"/invitations/{token}")).status_code == 410


async def test_someone_logged_in_with_another_account_is_told_before_joining(
    make_client, admin_a, org_a, org_b, make_member, mail_jobs, sink
):
    """The link opened on a computer where someone else is logged in: the page says which
    account would join and that the invitation was sent to another address."""
    await invite(await make_client(admin_a), org_a.slug, "camille@example.org", role="staff")
    await mail_jobs.settle()
    token = link_in(sink.messages[0])
    someone = await make_member(org_b, role=Role.STAFF)
    someone_user = await User.get(id=someone.user_id)
    page = await (await make_client(someone)).get(f"/invitations/{token}")
    assert f"({someone_user.email})" in page.text
    warning = page.text.split('id="invitation-other-address">', 1)[1].split("</p>", 1)[0]
    assert "camille@example.org" in warning
    assert await Membership.filter(user_id=someone_user.id, organization_id=org_a.id).count() == 0
