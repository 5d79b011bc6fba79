"""`membershipInvite` asks for consent: it e-mails an invitation whether or not the address
has an account, answers the same in both cases, adds nobody before the person accepts, and
refuses callers who may not manage the organization's members without changing anything."""

from __future__ import annotations

import pytest

from fabcom.audit.models import AuditEntry
from fabcom.auth.models import User
from fabcom.jobs.models import Job
from fabcom.members.models import Invitation, Membership, Role
from fabcom.members.services import INVITATION_VALIDITY, INVITATIONS_PER_HOUR
from fabcom.testing.jobs import fake_clock

__all__ = ["fake_clock"]  # the fixture, imported for this module

INVITE = (
    "mutation($o: String!, $e: String!, $r: Role!) { membershipInvite(input: {organizationSlug: $o, email: $e, role: $r}) "
    "{ member { email role } invitation { email role expiresAt } errors { field code message } } }"
)


@pytest.fixture
async def admin_a(make_member, org_a):
    return await make_member(org_a, role=Role.ADMIN)


@pytest.fixture
async def lea(make_member, org_b):
    """Someone with an account, member of another organization only."""
    principal = await make_member(org_b, role=Role.STAFF)
    return await User.get(id=principal.user_id)


async def _state() -> tuple[int, int, int, int]:
    return (
        await Membership.all().count(),
        await Invitation.all().count(),
        await Job.filter(name="send_invitation").count(),
        await AuditEntry.all().count(),
    )


async def test_the_answer_is_the_same_with_or_without_an_account_and_nobody_joins(
    api, org_a, admin_a, lea, token_for, fake_clock
):
    # given an address with an account and one without
    token = await token_for(admin_a)
    # when the admin invites both
    known = await api(INVITE, {"o": org_a.slug, "e": lea.email.upper(), "r": "VOLUNTEER"}, token=token)
    unknown = await api(INVITE, {"o": org_a.slug, "e": "Nouvelle@Example.org", "r": "VOLUNTEER"}, token=token)
    # then both get an invitation, in the same shape, and only the address differs
    expires = (fake_clock.now() + INVITATION_VALIDITY).isoformat()
    for answer, email in ((known, lea.email), (unknown, "nouvelle@example.org")):
        assert answer.data == {
            "membershipInvite": {
                "member": None,
                "invitation": {"email": email, "role": "VOLUNTEER", "expiresAt": expires},
                "errors": [],
            }
        }
    # and nobody is a member of the organization before accepting
    assert await Membership.filter(organization_id=org_a.id).count() == 1  # the admin
    assert not await Membership.exists(user_id=lea.id, organization_id=org_a.id)
    assert await AuditEntry.filter(action="membership.create").count() == 0
    pending = await Invitation.filter(organization_id=org_a.id, accepted_at__isnull=True).order_by("id")
    assert [(i.email, i.role) for i in pending] == [
        (lea.email, Role.VOLUNTEER),
        ("nouvelle@example.org", Role.VOLUNTEER),
    ]
    assert await Job.filter(name="send_invitation").count() == 2


async def test_a_member_of_another_organization_a_volunteer_or_a_token_without_the_scope_change_nothing(
    api, org_a, org_b, admin_a, lea, make_member, token_for
):
    # given people who may not manage org A's members, and addresses with and without an account
    admin_b = await make_member(org_b, role=Role.ADMIN)
    volunteer_a = await make_member(org_a, role=Role.VOLUNTEER)
    scopes_but_members_write = ["inventory:read", "inventory:write", "members:read"]
    tokens = [
        (await token_for(admin_b), "PERMISSION_DENIED"),
        (await token_for(volunteer_a), "PERMISSION_DENIED"),
        (await token_for(admin_a, scopes_but_members_write), "INSUFFICIENT_SCOPE"),
    ]
    before = await _state()
    for token, code in tokens:
        answers = [
            (await api(INVITE, {"o": org_a.slug, "e": email, "r": "MEMBER"}, token=token)).data["membershipInvite"]
            for email in (lea.email, "personne@example.org")
        ]
        # then each is refused, the same way for both addresses
        for answer in answers:
            assert answer["member"] is None
            assert answer["invitation"] is None
            assert [(e["field"], e["code"]) for e in answer["errors"]] == [(None, code)]
        assert answers[0] == answers[1]
    # and nothing was written
    assert await _state() == before
    assert not await Membership.exists(user_id=lea.id, organization_id=org_a.id)


async def test_already_a_member_a_pending_invitation_and_the_budget_are_refused(
    api, org_a, admin_a, lea, make_member, token_for
):
    token = await token_for(admin_a)
    member = await User.get(id=(await make_member(org_a, role=Role.MEMBER)).user_id)
    already = await api(INVITE, {"o": org_a.slug, "e": member.email, "r": "MEMBER"}, token=token)
    assert [(e["field"], e["code"]) for e in already.data["membershipInvite"]["errors"]] == [
        ("email", "ALREADY_EXISTS")
    ]
    await api(INVITE, {"o": org_a.slug, "e": lea.email, "r": "MEMBER"}, token=token)
    pending = await api(INVITE, {"o": org_a.slug, "e": lea.email, "r": "STAFF"}, token=token)
    assert [(e["field"], e["code"]) for e in pending.data["membershipInvite"]["errors"]] == [
        ("email", "ALREADY_EXISTS")
    ]
    assert [i.role for i in await Invitation.filter(email=lea.email)] == [Role.MEMBER]
    for n in range(INVITATIONS_PER_HOUR - 1):
        sent = await api(INVITE, {"o": org_a.slug, "e": f"p{n}@example.org", "r": "MEMBER"}, token=token)
        assert sent.data["membershipInvite"]["errors"] == []
    over = await api(INVITE, {"o": org_a.slug, "e": "one-more@example.org", "r": "MEMBER"}, token=token)
    assert over.data["membershipInvite"]["invitation"] is None
    assert [(e["field"], e["code"]) for e in over.data["membershipInvite"]["errors"]] == [("email", "RATE_LIMITED")]
    assert await Invitation.filter(organization_id=org_a.id).count() == INVITATIONS_PER_HOUR
    assert await Membership.filter(organization_id=org_a.id).count() == 2  # the admin and the member
