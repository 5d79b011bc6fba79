"""Bookings for a member of a partner organization on this same server: no profile is
mirrored, their consent and membership are read in place. The same rules as for a
partner on another site: consent, accepted partnership, staff only, withdrawn = anonymous."""

from __future__ import annotations

import datetime as dt

import pytest

from fabcom.api import ErrorCode, NotFound, PermissionDenied, global_id
from fabcom.federation import members
from fabcom.federation.members import set_partner_recognition
from fabcom.federation.mirror_models import SharedProfile
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.network.services import respond_partnership
from modules.bookings.models import Booking
from modules.bookings.services import create_partner_booking, make_bookable, partner_members_for
from modules.bookings.tests.test_partner_members import (
    CREATE,
    PARIS,
    SEARCH,
    create_input,
    csrf_token,
    desk_form,
    period,
    refused,
    tomorrow_at,
)


@pytest.fixture
async def laser(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Découpeuse laser", "visibility": "partners"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 30, "partner_members_allowed": True})
    return item


@pytest.fixture
async def gql(client):
    from fabcom.auth.services import create_api_token
    from fabcom.permissions import known_scopes, system_principal

    async def run(query, variables, principal):
        secret = (
            await create_api_token(
                system_principal(), principal.user_id, {"name": "test", "scopes": [s.code for s in known_scopes()]}
            )
        )[1]
        headers = {"Accept-Language": "en", "Authorization": f"Bearer {secret}"}
        response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 200
        return response.json()

    return run


@pytest.fixture
async def pentes(org_a, make_org):
    """A fablab on this server, accepted partner of org_a."""
    fablab = await make_org("fablab-des-pentes", name="Fablab des Pentes")
    await Partnership.create(organization=fablab, partner=org_a, status=PartnershipStatus.ACCEPTED)
    return fablab


async def named(make_member, org, name: str, role: Role = Role.MEMBER):
    principal = await make_member(org, role=role)
    from fabcom.auth.models import User

    await User.filter(id=principal.user_id).update(display_name=name)
    return principal


@pytest.fixture
async def julie(make_member, pentes):
    """A member of the partner who agreed to be recognised by its partners."""
    principal = await named(make_member, pentes, "Julie Moreau", Role.STAFF)
    await set_partner_recognition(principal, pentes.id, True)
    return principal


async def profile_of(principal, org) -> SharedProfile:
    return await SharedProfile.get(user_id=principal.user_id, organization_id=org.id)


async def test_the_staff_find_a_consenting_member_of_a_partner_on_this_server(
    staff_a, org_a, pentes, julie, make_member, make_org
):
    # given karim, of the same partner, who did not consent, and a consenting member of a
    # local organization that is not a partner
    await named(make_member, pentes, "Karim Haddad", Role.OWNER)
    stranger_org = await make_org("ailleurs", name="Ailleurs")
    justin = await named(make_member, stranger_org, "Justin Ailleurs")
    await set_partner_recognition(justin, stranger_org.id, True)

    # when the staff search « ju », « ka »
    found = await partner_members_for(staff_a, org_a.id, "ju")

    # then only julie, with her organization and her membership's end
    assert [(m.display_name, m.organization.name, m.valid_until) for m in found] == [
        ("Julie Moreau", "Fablab des Pentes", None)
    ]
    assert found[0].id == (await profile_of(julie, pentes)).id
    assert await partner_members_for(staff_a, org_a.id, "ka") == []
    assert await partner_members_for(staff_a, org_a.id, "JULIE") != []  # case and accents folded


async def test_a_member_who_withdrew_disappears_and_cannot_be_booked_for(staff_a, org_a, pentes, julie, laser):
    profile = await profile_of(julie, pentes)

    await set_partner_recognition(julie, pentes.id, False)

    assert await partner_members_for(staff_a, org_a.id, "julie") == []
    error = await refused(
        create_partner_booking(
            staff_a, {"item_id": laser.id, "partner_profile_id": profile.id, **period(tomorrow_at(10), 60)}
        )
    )
    assert [(e.code, e.field) for e in error.errors] == [(ErrorCode.NOT_FOUND, "partner_member_id")]
    assert await Booking.all().count() == 0


async def test_another_organizations_staff_may_neither_search_nor_book(
    staff_b, org_a, org_b, pentes, julie, laser, make_member
):
    profile = await profile_of(julie, pentes)
    await refused(partner_members_for(staff_b, org_a.id, "julie"), PermissionDenied)
    # a partner of the fablab, but not the one asked about: their own desk finds nobody
    # since the fablab is not their partner
    assert await partner_members_for(staff_b, org_b.id, "julie") == []
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    await refused(partner_members_for(volunteer, org_a.id, "julie"), PermissionDenied)
    await refused(
        create_partner_booking(
            staff_b, {"item_id": laser.id, "partner_profile_id": profile.id, **period(tomorrow_at(10), 60)}
        ),
        NotFound,  # org_a's machine is shown to its partners only
    )
    assert await Booking.all().count() == 0


async def test_a_partnership_that_ended_hides_the_member_and_the_bookings_name(
    client, login, staff_a, org_a, pentes, julie, laser
):
    profile = await profile_of(julie, pentes)
    await create_partner_booking(
        staff_a, {"item_id": laser.id, "partner_profile_id": profile.id, **period(tomorrow_at(10), 60)}
    )
    link = await Partnership.get(organization=pentes, partner=org_a)

    await respond_partnership(staff_a, link.id, "block")

    assert await partner_members_for(staff_a, org_a.id, "julie") == []
    error = await refused(
        create_partner_booking(
            staff_a, {"item_id": laser.id, "partner_profile_id": profile.id, **period(tomorrow_at(14), 60)}
        )
    )
    assert [e.code for e in error.errors] == [ErrorCode.NOT_FOUND]
    await login(client, staff_a)
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert "Julie Moreau" not in desk.text
    assert "Membre d’un partenaire (retiré)" in desk.text


async def test_desk_the_staff_search_and_book_for_a_local_partners_member_end_to_end(
    client, login, staff_a, org_a, pentes, julie, laser
):
    profile = await profile_of(julie, pentes)
    await login(client, staff_a)

    # the search as you type finds her
    found = await client.get(
        f"/m/bookings/o/{org_a.slug}/partner-members", params={"partner_q": "ju"}, headers={"HX-Request": "true"}
    )
    assert f'name="pm_member" value="local-{profile.id}"' in found.text
    assert "Julie Moreau</strong> — Fablab des Pentes" in found.text

    # booking for her
    token = await csrf_token(client, org_a)
    day = (dt.datetime.now(PARIS) + dt.timedelta(days=2)).date()
    form = desk_form(laser, f"local-{profile.id}", day) | {"partner_q": "ju"}
    booked = await client.post(f"/m/bookings/o/{org_a.slug}/", data=form, headers={"X-CSRF-Token": token})

    assert booked.status_code == 303
    [booking] = await Booking.all()
    assert (booking.partner_profile_id, booking.partner_member_id, booking.user_id, booking.for_partner_member) == (
        profile.id,
        None,
        None,
        True,
    )
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert "Julie Moreau <small>(Fablab des Pentes)</small>" in desk.text

    # when she withdraws, the booking stays and keeps nothing of her
    await set_partner_recognition(julie, pentes.id, False)
    await booking.refresh_from_db()
    assert (booking.partner_profile_id, booking.for_partner_member) == (None, True)
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert "Julie Moreau" not in desk.text
    assert "Membre d’un partenaire (retiré)" in desk.text


async def test_graphql_finds_and_books_for_a_local_partners_member(gql, staff_a, org_a, pentes, julie, laser):
    profile = await profile_of(julie, pentes)
    found = await gql(SEARCH, {"slug": org_a.slug, "search": "jul"}, staff_a)
    [member] = found["data"]["bookingsPartnerMembers"]
    assert member == {
        "id": global_id("BookingsLocalPartnerMember", profile.id),
        "displayName": "Julie Moreau",
        "organizationName": "Fablab des Pentes",
        "validUntil": None,
    }

    created = await gql(CREATE, create_input(laser, member["id"], tomorrow_at(10)), staff_a)

    assert created["data"]["bookingCreate"] == {
        "booking": {
            "state": "CONFIRMED",
            "mine": False,
            "forPartnerMember": True,
            "partnerMember": {"displayName": "Julie Moreau", "organizationName": "Fablab des Pentes"},
        },
        "errors": [],
    }
    assert await Booking.filter(partner_profile_id=profile.id).count() == 1


async def test_desk_without_a_person_chosen_says_so_once_next_to_the_field(
    client, login, staff_a, org_a, pentes, julie, laser
):
    await login(client, staff_a)
    token = await csrf_token(client, org_a)
    day = (dt.datetime.now(PARIS) + dt.timedelta(days=2)).date()
    for search in ("", "zz"):  # no search, and a search that found nobody
        form = desk_form(laser, "", day) | {"partner_q": search}

        page = await client.post(f"/m/bookings/o/{org_a.slug}/", data=form, headers={"X-CSRF-Token": token})

        assert page.status_code == 400
        assert page.text.count("Choisissez une personne dans la liste.") == 1
        assert '<p class="field-error" id="pm_member-error">Choisissez une personne dans la liste.</p>' in page.text
        assert "n’est pas reconnue" not in page.text
    assert await Booking.all().count() == 0


async def test_desk_after_making_an_item_bookable_the_message_is_in_view(client, login, staff_a, org_a):
    item = await create_item(staff_a, org_a.id, {"title": "Perceuse"})
    await login(client, staff_a)
    token = await csrf_token(client, org_a)

    made = await client.post(
        f"/m/bookings/o/{org_a.slug}/",
        data={"make_bookable": "1", "item_id": str(item.id), "slot_minutes": "60"},
        headers={"X-CSRF-Token": token},
    )

    # the form's action ends with #make-h: the redirect names where the message is
    assert (made.status_code, made.headers["location"]) == (303, f"/m/bookings/o/{org_a.slug}/#main")


async def test_the_name_is_matched_by_the_database_accents_and_case_ignored(
    staff_a, org_a, pentes, julie, make_member, monkeypatch
):
    # given two more consenting members of the partner on this server
    eloise = await named(make_member, pentes, "Éloïse Lefèvre")
    karim = await named(make_member, pentes, "Karim Haddad")
    for member in (eloise, karim):
        await set_partner_recognition(member, pentes.id, True)
    read: list[list[int]] = []
    read_in_place = members.local_members

    async def spy(profile_ids, organizations):
        read.append(sorted(profile_ids))
        return await read_in_place(profile_ids, organizations)

    monkeypatch.setattr(members, "local_members", spy)

    # when the staff type the name without its accents, in capitals
    found = await partner_members_for(staff_a, org_a.id, "ELOISE lefevre")

    # then Éloïse is found, and only her consent was read: not every consenting member's
    assert [m.display_name for m in found] == ["Éloïse Lefèvre"]
    assert read == [[(await profile_of(eloise, pentes)).id]]
