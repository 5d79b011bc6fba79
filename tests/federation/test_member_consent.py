"""Members across sites: nothing shared without the member's consent; withdrawing or
erasing sends Delete and the partners purge; partners look a recognised member up."""

from __future__ import annotations

import datetime as dt

import pytest

from fabcom import clock
from fabcom.errors import NotFound, PermissionDenied
from fabcom.federation.handlers import Sender, dispatch
from fabcom.federation.members import forget_member, recognised_members, set_partner_recognition
from fabcom.federation.mirror_models import MirrorMember, SharedProfile
from fabcom.federation.models import Audience, OutboxActivity
from fabcom.federation.vocab import AS_PUBLIC
from fabcom.members.models import Membership, Role
from fabcom.members.services import update_membership
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.permissions import system_principal


async def test_only_a_consenting_member_is_published_to_partners_with_a_minimal_profile(org_a, make_member):
    member = await make_member(org_a, role=Role.MEMBER)
    await make_member(org_a, role=Role.MEMBER)  # never consents: never published

    profile = await set_partner_recognition(member, org_a.id, True)
    await set_partner_recognition(member, org_a.id, True)  # consenting twice changes nothing

    [row] = await OutboxActivity.all()
    assert (row.type, row.audience) == ("Create", Audience.PARTNERS)
    obj = row.payload["object"]
    assert obj["id"] == f"http://127.0.0.1:8000/ap/members/{profile.token}"
    assert set(obj) == {
        "id",
        "type",
        "name",
        "summary",
        "attributedTo",
        "memberOf",
        "describes",
        "validFrom",
        "updated",
        "to",
        "cc",
    }
    assert obj["name"].startswith("Personne ")
    assert obj["summary"] == org_a.name
    assert AS_PUBLIC not in row.payload["to"] + row.payload["cc"]
    assert "@" not in str(obj)  # no e-mail address


async def test_withdrawing_or_erasing_sends_delete(org_a, make_member):
    member = await make_member(org_a, role=Role.MEMBER)
    profile = await set_partner_recognition(member, org_a.id, True)

    assert await set_partner_recognition(member, org_a.id, False) is None
    await set_partner_recognition(member, org_a.id, True)
    assert await forget_member(system_principal(), member.user_id) == 1

    types = [(r.type, r.object_uri.rsplit("/", 1)[0]) for r in await OutboxActivity.all().order_by("id")]
    assert [t for t, _ in types] == ["Create", "Delete", "Create", "Delete"]
    assert await SharedProfile.all().count() == 0
    first_delete = (await OutboxActivity.filter(type="Delete").order_by("id").first()).payload
    assert first_delete["object"]["id"].endswith(profile.token)


async def test_membership_changes_update_the_shared_validity(org_a, make_member, staff_a):
    owner = await make_member(org_a, role=Role.OWNER)
    member = await make_member(org_a, role=Role.MEMBER)
    await set_partner_recognition(member, org_a.id, True)
    membership = await Membership.get(user_id=member.user_id, organization_id=org_a.id)

    await update_membership(owner, membership.id, {"valid_until": dt.date(2027, 6, 30)})

    update = (await OutboxActivity.all().order_by("-id").first()).payload
    assert (update["type"], update["object"]["validUntil"]) == ("Update", "2027-06-30")


async def test_only_the_member_decides_and_only_for_an_organization_they_belong_to(org_a, org_b, staff_a, make_member):
    member = await make_member(org_a, role=Role.MEMBER)

    with pytest.raises(NotFound):
        await set_partner_recognition(member, org_b.id, True)
    with pytest.raises(PermissionDenied):
        await set_partner_recognition(system_principal(), org_a.id, True)

    assert await OutboxActivity.all().count() == 0


async def test_partners_look_up_recognised_members_and_purge_them_on_delete(org_a, staff_a, make_org, make_member):
    actor = "https://b.example/ap/o/b"
    remote = await make_org("b-remote", name="Fablab B", is_local=False, remote_uri=actor)
    stranger_actor = "https://c.example/ap/o/c"
    stranger = await make_org("c-remote", is_local=False, remote_uri=stranger_actor)
    await Partnership.create(organization=org_a, partner=remote, status=PartnershipStatus.ACCEPTED)
    today = clock.today()

    def profile(base: str, owner: str, token: str, name: str, until: dt.date | None) -> dict:
        from fabcom.federation import vocab

        obj = vocab.member_profile(
            token=token,
            actor=owner,
            display_name=name,
            organization_name="B",
            valid_from=today - dt.timedelta(days=30),
            valid_until=until,
            updated=clock.now(),
            base=base,
        )
        return vocab.activity(
            "Create", actor=owner, obj=obj, audience=Audience.PARTNERS, published=clock.now(), base=base
        )

    b = Sender(actor_uri=actor, organization_id=remote.id)
    c = Sender(actor_uri=stranger_actor, organization_id=stranger.id)
    await dispatch(profile("https://b.example", actor, "t1", "Camille Martin", None), b)
    await dispatch(profile("https://b.example", actor, "t2", "Camille Expirée", today - dt.timedelta(days=1)), b)
    await dispatch(profile("https://c.example", stranger_actor, "t3", "Camille Inconnue", None), c)

    found = await recognised_members(staff_a, org_a.id, "camille")
    assert [(m.display_name, m.organization.name) for m in found] == [("Camille Martin", "Fablab B")]
    outsider = await make_member(await make_org("z"))
    with pytest.raises(PermissionDenied):
        await recognised_members(outsider, org_a.id, "camille")

    await dispatch({"type": "Delete", "actor": actor, "object": "https://b.example/ap/members/t1"}, b)
    assert await recognised_members(staff_a, org_a.id, "camille") == []
    assert await MirrorMember.filter(uri="https://b.example/ap/members/t1").count() == 0
