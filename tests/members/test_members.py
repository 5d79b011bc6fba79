"""Memberships, roles and fees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabcom.auth.models import User
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.members.models import Membership, MembershipFee, Role
from fabcom.members.services import add_member, record_fee, update_membership


@pytest.fixture
async def owner_a(make_member, org_a):
    return await make_member(org_a, role=Role.OWNER)


@pytest.fixture
async def newcomer(db):
    return await User.create(email="new@example.org", display_name="Nouvelle")


async def test_an_admin_adds_a_member(org_a, make_member, newcomer):
    admin = await make_member(org_a, role=Role.ADMIN)
    membership = await add_member(admin, org_a.id, {"user_id": newcomer.id, "role": "volunteer"})
    assert (membership.role, membership.valid_from, membership.valid_until) == ("volunteer", dt.date.today(), None)
    with pytest.raises(ValidationFailed) as twice:
        await add_member(admin, org_a.id, {"user_id": newcomer.id})
    assert twice.value.errors[0].code == ErrorCode.ALREADY_EXISTS


async def test_only_owners_make_owners(org_a, make_member, owner_a, newcomer):
    admin = await make_member(org_a, role=Role.ADMIN)
    with pytest.raises(PermissionDenied) as refused:
        await add_member(admin, org_a.id, {"user_id": newcomer.id, "role": "owner"})
    assert refused.value.text("fr") == "Seul·e un·e propriétaire peut nommer un·e propriétaire."
    await add_member(owner_a, org_a.id, {"user_id": newcomer.id, "role": "owner"})
    assert await Membership.filter(organization_id=org_a.id, role="owner").count() == 2


async def test_staff_and_other_organizations_cannot_manage_members(org_a, org_b, staff_a, make_member, newcomer):
    admin_b = await make_member(org_b, role=Role.ADMIN)
    for actor in (staff_a, admin_b):
        with pytest.raises(PermissionDenied):
            await add_member(actor, org_a.id, {"user_id": newcomer.id})
    assert not await Membership.filter(user_id=newcomer.id).exists()


async def test_the_last_owner_cannot_be_demoted(org_a, owner_a):
    membership = await Membership.get(user_id=owner_a.user_id)
    with pytest.raises(ValidationFailed) as refused:
        await update_membership(owner_a, membership.id, {"role": "member"})
    assert refused.value.errors[0].code == ErrorCode.INVALID_STATE
    assert (await Membership.get(id=membership.id)).role == "owner"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"user_id": 999999}, "user_id"),
        ({"role": "boss"}, "role"),
        ({"valid_from": "2026-05-01", "valid_until": "2026-01-01"}, "valid_until"),
        ({"valid_from": "le 1er mai"}, "valid_from"),
    ],
)
async def test_bad_membership_input_creates_nothing(org_a, owner_a, newcomer, data, field):
    with pytest.raises(ValidationFailed) as refused:
        await add_member(owner_a, org_a.id, {"user_id": newcomer.id, **data})
    assert refused.value.errors[0].field == field
    assert not await Membership.filter(user_id=newcomer.id).exists()


async def test_fees_are_recorded_and_validated(org_a, make_member, owner_a):
    member = await make_member(org_a, role=Role.MEMBER)
    membership = await Membership.get(user_id=member.user_id)
    fee = await record_fee(
        owner_a,
        membership.id,
        {"amount": "15.00", "period_start": "2026-01-01", "period_end": "2026-12-31", "method": "cash"},
    )
    assert (fee.amount, fee.paid_on, fee.recorded_by_id) == (Decimal("15.00"), dt.date.today(), owner_a.user_id)
    bad = [
        {"amount": "-5", "period_start": "2026-01-01", "period_end": "2026-12-31", "method": "cash"},
        {"amount": "15.001", "period_start": "2026-01-01", "period_end": "2026-12-31", "method": "cash"},
        {"amount": "15", "period_start": "2026-12-31", "period_end": "2026-01-01", "method": "cash"},
        {"amount": "15", "period_start": "2026-01-01", "period_end": "2026-12-31", "method": "bitcoin"},
        {
            "amount": "15",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "method": "cash",
            "paid_on": "2999-01-01",
        },
    ]
    for data in bad:
        with pytest.raises(ValidationFailed):
            await record_fee(owner_a, membership.id, data)
    assert await MembershipFee.all().count() == 1
    # every field's mistake is said at once, the date in the future with the others
    future_and_negative = {**bad[-1], "amount": "-5"}
    with pytest.raises(ValidationFailed) as refused:
        await record_fee(owner_a, membership.id, future_and_negative)
    assert sorted(error.field for error in refused.value.errors) == ["amount", "paid_on"]


async def test_fees_of_another_organization_are_not_found(org_a, org_b, make_member):
    member_b = await make_member(org_b, role=Role.MEMBER)
    owner_a = await make_member(org_a, role=Role.OWNER)
    membership_b = await Membership.get(user_id=member_b.user_id)
    with pytest.raises(NotFound):
        await record_fee(
            owner_a,
            membership_b.id,
            {"amount": "10", "period_start": "2026-01-01", "period_end": "2026-12-31", "method": "cash"},
        )
    assert await MembershipFee.all().count() == 0
