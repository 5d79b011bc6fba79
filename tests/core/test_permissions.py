"""Visibility and roles, tried from every side: owner, partner, stranger, token, anonymous."""

from __future__ import annotations

import datetime as dt

import pytest

from fabcom.errors import NotFound
from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item, get_item_for
from fabcom.members.models import Membership, Role
from fabcom.network.models import Partnership
from fabcom.permissions import ANONYMOUS, Action, load_principal
from fabcom.projects.services import create_project, get_project_for


@pytest.fixture
async def world(make_org, make_member):
    """A and B are partners; C is not. Each visibility of item exists in A."""
    a, b, c = await make_org("a"), await make_org("b"), await make_org("c")
    await Partnership.create(organization=a, partner=b, status="accepted")
    staff_a = await make_member(a, role=Role.STAFF)
    items = {
        vis: await create_item(staff_a, a.id, {"title": f"Objet {vis}", "visibility": vis})
        for vis in ("private", "partners", "public")
    }
    return {
        "orgs": (a, b, c),
        "items": items,
        "staff_a": staff_a,
        "member_a": await make_member(a, role=Role.MEMBER),
        "staff_b": await make_member(b, role=Role.STAFF),
        "staff_c": await make_member(c, role=Role.STAFF),
    }


async def visible_titles(principal) -> list[str]:
    return sorted(await Item.filter(principal.visibility_filter("inventory")).values_list("title", flat=True))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("staff_a", ["Objet partners", "Objet private", "Objet public"]),
        ("member_a", ["Objet partners", "Objet public"]),
        ("staff_b", ["Objet partners", "Objet public"]),
        ("staff_c", ["Objet public"]),
        ("anonymous", ["Objet public"]),
    ],
)
async def test_item_visibility_in_lists_and_by_id(world, who, expected):
    principal = ANONYMOUS if who == "anonymous" else world[who]
    assert await visible_titles(principal) == expected
    for vis, item in world["items"].items():
        if f"Objet {vis}" in expected:
            assert (await get_item_for(principal, item.id)).id == item.id
        else:
            # invisible is answered exactly like missing
            with pytest.raises(NotFound) as hidden:
                await get_item_for(principal, item.id)
            with pytest.raises(NotFound) as missing:
                await get_item_for(principal, 10_000_000)
            assert hidden.value.errors == missing.value.errors


async def test_a_token_never_exceeds_its_scopes_or_its_user(world):
    staff_a = world["staff_a"]
    # a token without inventory:read sees what anonymous sees
    narrow = await load_principal(staff_a.user_id, scopes=["projects:read"])
    assert await visible_titles(narrow) == ["Objet public"]
    assert not narrow.can(Action.INVENTORY_WRITE, world["orgs"][0].id)
    # a read token reads but does not write
    reader = await load_principal(staff_a.user_id, scopes=["inventory:read"])
    assert await visible_titles(reader) == ["Objet partners", "Objet private", "Objet public"]
    assert not reader.can(Action.INVENTORY_WRITE, world["orgs"][0].id)
    # all scopes on a plain member's token still cannot read private items nor write
    member = await load_principal(world["member_a"].user_id, scopes=["inventory:read", "inventory:write"])
    assert await visible_titles(member) == ["Objet partners", "Objet public"]
    assert not member.can(Action.INVENTORY_WRITE, world["orgs"][0].id)


async def test_expired_or_future_memberships_give_no_rights(make_org, make_member, db):
    org = await make_org()
    principal = await make_member(org, role=Role.ADMIN)
    membership = await Membership.get(user_id=principal.user_id)
    membership.valid_until = dt.date.today() - dt.timedelta(days=1)
    await membership.save()
    assert (await load_principal(principal.user_id)).roles == {}
    membership.valid_from = dt.date.today() + dt.timedelta(days=3)
    membership.valid_until = None
    await membership.save()
    assert (await load_principal(principal.user_id)).roles == {}


async def test_partnership_must_be_accepted_to_share(make_org, make_member, db):
    a, b = await make_org(), await make_org()
    link = await Partnership.create(organization=a, partner=b, status="requested")
    staff_a = await make_member(a)
    await create_item(staff_a, a.id, {"title": "Partagé", "visibility": "partners"})
    staff_b = await make_member(b)
    assert await visible_titles(staff_b) == []
    link.status = "accepted"
    await link.save()
    assert await visible_titles(await load_principal(staff_b.user_id)) == ["Partagé"]
    link.status = "blocked"
    await link.save()
    assert await visible_titles(await load_principal(staff_b.user_id)) == []


async def test_project_visibility_follows_the_same_rule(world):
    a = world["orgs"][0]
    private = await create_project(world["staff_a"], a.id, {"title": "Interne"})
    shared = await create_project(world["staff_a"], a.id, {"title": "Commun", "visibility": "partners"})
    assert (await get_project_for(world["member_a"], private.id)).id == private.id  # members read projects
    assert (await get_project_for(world["staff_b"], shared.id)).id == shared.id
    with pytest.raises(NotFound):
        await get_project_for(world["staff_b"], private.id)
    with pytest.raises(NotFound):
        await get_project_for(world["staff_c"], shared.id)
    with pytest.raises(NotFound):
        await get_project_for(ANONYMOUS, shared.id)
