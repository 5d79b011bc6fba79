"""Organization settings and the instance admin pages."""

from __future__ import annotations

from fabcom.auth.models import User
from fabcom.members.models import Membership, Role
from fabcom.orgs.models import Organization


async def test_owner_edits_the_profile_with_errors_next_to_fields(make_client, make_member, org_a):
    owner = await make_member(org_a, role=Role.OWNER)
    client = await make_client(owner)
    page = await client.get(f"/o/{org_a.slug}/settings")
    assert 'value="Recyclerie A"' in page.text
    bad = await client.post_form(
        f"/o/{org_a.slug}/settings", {"name": "", "kind": "ressourcerie", "country": "FR", "city": "Lyon"}
    )
    assert bad.status_code == 400
    assert 'value="Lyon"' in bad.text
    assert "Ce champ est obligatoire." in bad.text
    assert (await Organization.get(id=org_a.id)).city == ""
    ok = await client.post_form(
        f"/o/{org_a.slug}/settings", {"name": "Recyclerie A+", "kind": "ressourcerie", "country": "FR", "city": "Lyon"}
    )
    assert ok.status_code == 303
    org = await Organization.get(id=org_a.id)
    assert (org.name, org.city) == ("Recyclerie A+", "Lyon")


async def test_staff_may_not_edit_the_profile(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    assert (await client.get(f"/o/{org_a.slug}/settings")).status_code == 403
    assert (await client.post_form(f"/o/{org_a.slug}/settings", {"name": "Pris"})).status_code == 403
    assert (await Organization.get(id=org_a.id)).name == "Recyclerie A"


async def test_instance_admin_opens_an_organization_and_creates_an_account(make_client, staff_a, org_a):
    await User.filter(id=staff_a.user_id).update(is_instance_admin=True)
    from fabcom.permissions import load_principal

    client = await make_client(await load_principal(staff_a.user_id))
    assert (await client.get("/admin")).status_code == 200
    created = await client.post_form(
        "/admin", {"form": "org", "name": "La Ruche", "slug": "la-ruche", "kind": "coworking"}
    )
    assert created.status_code == 303
    assert await Organization.exists(slug="la-ruche")
    bad = await client.post_form(
        "/admin", {"form": "user", "email": "not-an-email", "display_name": "Léa", "org": "la-ruche", "role": "staff"}
    )
    assert bad.status_code == 400
    assert 'value="not-an-email"' in bad.text
    assert not await User.exists(display_name="Léa")
    ok = await client.post_form(
        "/admin",
        {
            "form": "user",
            "email": "lea@example.org",
            "display_name": "Léa",
            "org": "la-ruche",
            "role": "staff",
            "password": "une longue phrase",
        },
    )
    assert ok.status_code == 303
    lea = await User.get(email="lea@example.org")
    assert (await Membership.get(user_id=lea.id)).role == "staff"


async def test_admin_pages_are_for_instance_admins_only(make_client, make_member, org_a):
    owner = await make_member(org_a, role=Role.OWNER)
    client = await make_client(owner)
    assert (await client.get("/admin")).status_code == 403
    refused = await client.post_form("/admin", {"form": "org", "name": "X", "slug": "x-org"})
    assert refused.status_code == 403
    assert not await Organization.exists(slug="x-org")
