"""Projects, members and fees, partners and exchange requests, API tokens."""

from __future__ import annotations

from decimal import Decimal

from fabcom import clock
from fabcom.auth.models import ApiToken, User
from fabcom.inventory.services import create_item
from fabcom.members.models import Membership, MembershipFee, Role
from fabcom.network.models import ExchangeRequest, Partnership, PartnershipStatus
from fabcom.projects.models import Task
from fabcom.projects.services import create_project, create_task


async def test_project_page_shows_a_task_board_moved_by_htmx_and_sanitised_markdown(make_client, staff_a, org_a):
    project = await create_project(
        staff_a,
        org_a.id,
        {
            "title": "Atelier vélo",
            "description": "# Plan\n\n**gras** <script>alert(1)</script>\n\n[clic](javascript:alert(2)) [site](https://example.org)",
        },
    )
    task = await create_task(staff_a, project.id, {"title": "Trouver des roues"})
    client = await make_client(staff_a)
    listing = await client.get(f"/o/{org_a.slug}/projects")
    assert f'<a href="/o/{org_a.slug}/projects/{project.id}">Atelier vélo</a>' in listing.text
    page = await client.get(f"/o/{org_a.slug}/projects/{project.id}")
    assert page.status_code == 200
    assert "<h1>Plan</h1>" in page.text
    assert "<strong>gras</strong>" in page.text
    assert "<script>alert(1)" not in page.text
    assert 'href="javascript' not in page.text
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">site</a>' in page.text
    moved = await client.post(
        f"/o/{org_a.slug}/tasks/{task.id}/status",
        data={"status": "doing"},
        headers={"HX-Request": "true", "X-CSRF-Token": client.csrf_token},
    )
    assert moved.status_code == 200
    assert "<html" not in moved.text
    assert "En cours <small>(1)</small>" in moved.text
    assert (await Task.get(id=task.id)).status == "doing"


async def test_another_organizations_private_project_is_404(make_client, staff_a, staff_b, org_a, org_b):
    project = await create_project(staff_b, org_b.id, {"title": "Secret B"})
    task = await create_task(staff_b, project.id, {"title": "Tâche B"})
    client = await make_client(staff_a)
    assert (await client.get(f"/o/{org_a.slug}/projects/{project.id}")).status_code == 404
    assert (await client.get(f"/o/{org_b.slug}/projects/{project.id}")).status_code == 404
    moved = await client.post_form(f"/o/{org_a.slug}/tasks/{task.id}/status", {"status": "done"})
    assert moved.status_code == 404
    assert (await Task.get(id=task.id)).status == "todo"


async def test_members_fee_recording_who_is_due_and_export(make_client, make_member, org_a):
    admin = await make_member(org_a, role=Role.ADMIN)
    adherent = await make_member(org_a, role=Role.MEMBER)
    membership = await Membership.get(user_id=adherent.user_id)
    client = await make_client(admin)
    page = await client.get(f"/o/{org_a.slug}/members")
    assert "Cotisation due : 2" in page.text
    due = await client.get(f"/o/{org_a.slug}/members?due=1")
    assert due.text.count('<span class="badge status-reserved">Cotisation due</span>') == 2
    bad = await client.post_form(
        f"/o/{org_a.slug}/members",
        {
            "membership_id": str(membership.id),
            "amount": "-5",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "method": "cash",
        },
    )
    assert bad.status_code == 400
    assert 'value="-5"' in bad.text
    backwards = await client.post_form(
        f"/o/{org_a.slug}/members",
        {
            "membership_id": str(membership.id),
            "amount": "15",
            "period_start": "2026-12-31",
            "period_end": "2026-01-01",
            "method": "cash",
        },
    )
    assert backwards.status_code == 400
    # said next to the end of the period, the date to correct
    assert 'aria-describedby="period_end-error"' in backwards.text
    assert "La date de fin doit suivre la date de début." in backwards.text
    assert await MembershipFee.all().count() == 0
    today = clock.today()
    ok = await client.post_form(
        f"/o/{org_a.slug}/members",
        {
            "membership_id": str(membership.id),
            "amount": "15,00",
            "period_start": today.replace(month=1, day=1).isoformat(),
            "period_end": today.replace(month=12, day=31).isoformat(),
            "paid_on": today.isoformat(),
            "method": "cheque",
        },
    )
    assert ok.status_code == 303
    fee = await MembershipFee.get(membership_id=membership.id)
    assert (fee.amount, fee.method) == (Decimal("15.00"), "cheque")
    assert "Cotisation due : 1" in (await client.get(f"/o/{org_a.slug}/members")).text
    export = await client.get(f"/o/{org_a.slug}/members/export.csv")
    assert export.content.startswith(b"\xef\xbb\xbf")
    assert (
        export.content.decode("utf-8-sig").splitlines()[0]
        == "Nom;Adresse e-mail;Rôle;Membre depuis;Jusqu’au;Payé jusqu’au;Cotisation due"
    )


async def test_volunteers_may_not_see_members_and_staff_may_not_record_fees(make_client, make_member, staff_a, org_a):
    volunteer = await make_client(await make_member(org_a, role=Role.VOLUNTEER))
    assert (await volunteer.get(f"/o/{org_a.slug}/members")).status_code == 403
    assert (await volunteer.get(f"/o/{org_a.slug}/members/export.csv")).status_code == 403
    staff = await make_client(staff_a)
    assert (await staff.get(f"/o/{org_a.slug}/members")).status_code == 200
    membership = await Membership.get(user_id=staff_a.user_id)
    refused = await staff.post_form(
        f"/o/{org_a.slug}/members",
        {
            "membership_id": str(membership.id),
            "amount": "1",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "method": "cash",
        },
    )
    assert refused.status_code == 403
    assert await MembershipFee.all().count() == 0


async def test_partner_asks_for_a_shared_item_and_the_owner_accepts(make_client, staff_a, staff_b, org_a, org_b):
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    item = await create_item(
        staff_b,
        org_b.id,
        {"title": "Perceuse", "visibility": "partners", "sharing_modes": ["lend"], "initial_quantity": "1"},
    )
    await create_item(staff_b, org_b.id, {"title": "Privée", "initial_quantity": "1"})
    asker = await make_client(await _reload(staff_a))
    old_link = await asker.get(f"/o/{org_a.slug}/partners?q=perc")
    assert old_link.status_code == 303
    assert old_link.headers["location"] == f"/o/{org_a.slug}/network?q=perc"
    search = await asker.get(f"/o/{org_a.slug}/network?q=perc")
    assert "Perceuse" in search.text
    assert '<span class="badge origin-local">ce site</span>' in search.text
    assert "Privée" not in (await asker.get(f"/o/{org_a.slug}/network")).text
    sent = await asker.post_form(
        f"/o/{org_a.slug}/exchanges/new",
        {"item_id": str(item.id), "kind": "borrow", "quantity": "1", "back": "network"},
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/o/{org_a.slug}/network"
    request = await ExchangeRequest.get(item_id=item.id)
    assert request.status == "pending"
    # the asker cannot accept its own request
    await asker.post_form(f"/o/{org_a.slug}/exchanges/{request.id}/accept")
    assert (await ExchangeRequest.get(id=request.id)).status == "pending"
    owner = await make_client(await _reload(staff_b))
    accepted = await owner.post_form(f"/o/{org_b.slug}/exchanges/{request.id}/accept")
    assert accepted.status_code == 303
    assert (await ExchangeRequest.get(id=request.id)).status == "accepted"


async def _reload(principal):
    from fabcom.permissions import load_principal

    return await load_principal(principal.user_id)


async def test_api_token_is_shown_once_and_can_be_revoked(make_client, staff_a):
    client = await make_client(staff_a)
    bad = await client.post_form("/account/tokens", {"name": "", "expires_in_days": "30"})
    assert bad.status_code == 400
    assert await ApiToken.all().count() == 0
    created = await client.post(
        "/account/tokens",
        data={
            "csrf_token": client.csrf_token,
            "name": "Site du fablab",
            "scopes": ["inventory:read"],
            "expires_in_days": "30",
        },
    )
    assert created.status_code == 200
    token = await ApiToken.get(user_id=staff_a.user_id)
    assert token.scopes == ["inventory:read"]
    assert f"fabcom_pat_{token.prefix}" in created.text
    assert "fabcom_pat_" in created.text.split('<code class="secret">')[1]
    again = await client.get("/account/tokens")
    assert '<code class="secret">' not in again.text
    asked = await client.post_form("/account/tokens", {"revoke": str(token.id)})
    assert asked.status_code == 200
    assert "Révoquer le jeton « Site du fablab » ?" in asked.text
    assert '<input type="hidden" name="confirm" value="1">' in asked.text
    assert (await ApiToken.get(id=token.id)).revoked_at is None
    revoked = await client.post_form("/account/tokens", {"revoke": str(token.id), "confirm": "1"})
    assert revoked.status_code == 303
    assert (await ApiToken.get(id=token.id)).revoked_at is not None


async def test_an_admin_cannot_add_an_account_without_its_consent(make_client, make_member, org_a, staff_b):
    # given an admin of A and someone with an account, member of B only
    client = await make_client(await make_member(org_a, role=Role.ADMIN))
    email = (await User.get(id=staff_b.user_id)).email
    # when the admin posts to the former "add a member" address, or looks for its form
    added = await client.post_form(f"/o/{org_a.slug}/members/add", {"email": email, "role": "volunteer"})
    page = await client.get(f"/o/{org_a.slug}/members")
    # then it does not exist, and the person is not a member: inviting them is the only way
    assert added.status_code in (404, 405)
    assert "/members/add" not in page.text
    assert 'id="invite-form"' in page.text
    assert not await Membership.exists(user_id=staff_b.user_id, organization_id=org_a.id)


async def test_admin_changes_a_role(make_client, make_member, org_a, org_b, staff_b):
    admin = await make_member(org_a, role=Role.ADMIN)
    client = await make_client(admin)
    membership = await Membership.create(
        user_id=staff_b.user_id, organization=org_a, role=Role.VOLUNTEER, valid_from=clock.today()
    )
    # an admin cannot make an owner
    await client.post_form(f"/o/{org_a.slug}/members/{membership.id}/role", {"role": "owner"})
    assert (await Membership.get(id=membership.id)).role == "volunteer"
    await client.post_form(f"/o/{org_a.slug}/members/{membership.id}/role", {"role": "staff"})
    assert (await Membership.get(id=membership.id)).role == "staff"
    # the role's hidden label needs no elision (« Rôle de Alex » was wrong French)
    name = (await User.get(id=staff_b.user_id)).display_name
    members = (await client.get(f"/o/{org_a.slug}/members")).text
    assert f'<label for="role-{membership.id}" class="visually-hidden">Rôle : {name}</label>' in members
    # a membership of another organization is not reachable through this one
    other = await Membership.get(user_id=staff_b.user_id, organization_id=org_b.id)
    assert (await client.post_form(f"/o/{org_a.slug}/members/{other.id}/role", {"role": "member"})).status_code == 404
    assert (await Membership.get(id=other.id)).role == "staff"


async def test_staff_archives_an_item_volunteers_may_not(make_client, make_member, staff_a, org_a):
    item = await create_item(staff_a, org_a.id, {"title": "Cassé", "initial_quantity": "1"})
    volunteer = await make_client(await make_member(org_a, role=Role.VOLUNTEER))
    assert (await volunteer.post_form(f"/o/{org_a.slug}/items/{item.id}/archive")).status_code == 403
    client = await make_client(staff_a)
    asked = await client.post_form(f"/o/{org_a.slug}/items/{item.id}/archive")
    assert asked.status_code == 200
    assert "Retirer « Cassé » de l’inventaire ?" in asked.text
    assert (await client.get(f"/o/{org_a.slug}/items/{item.id}")).status_code == 200
    done = await client.post_form(f"/o/{org_a.slug}/items/{item.id}/archive", {"confirm": "1"})
    assert done.status_code == 303
    assert (await client.get(f"/o/{org_a.slug}/items/{item.id}")).status_code == 404
    from fabcom.inventory.models import Item

    assert (await Item.get(id=item.id)).deleted_at is not None


async def test_token_scopes_have_human_names_and_explanations_with_their_code(make_client, staff_a):
    client = await make_client(staff_a)
    page = await client.get("/account/tokens")
    assert 'Lire l’inventaire <code class="scope-code">inventory:read</code>' in page.text
    assert "Voir les objets de vos structures, leur stock et leurs mouvements" in page.text
    # an enabled module's scopes, after the core's
    assert 'Lire les réservations <code class="scope-code">bookings:read</code>' in page.text
    assert "Voir vos réservations et, pour l’équipe de vos structures," in page.text
    assert page.text.index("projects:write") < page.text.index("bookings:read")
    created = await client.post_form(
        "/account/tokens", {"name": "Site du fablab", "scopes": "projects:read", "expires_in_days": "30"}
    )
    assert 'Lire les projets <code class="scope-code">projects:read</code>' in created.text
    await client.post_form("/language", {"locale": "en", "next": "/account/tokens"})
    english = await client.get("/account/tokens")
    assert 'Read the inventory <code class="scope-code">inventory:read</code>' in english.text
    assert 'Read the bookings <code class="scope-code">bookings:read</code>' in english.text
    assert "Create and edit items, record donations" in english.text
