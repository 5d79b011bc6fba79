"""Bookings for a recognised member of a partner organization (members across sites):
the staff book a resource or lend an item for a partner's member who has no account
here. Every boundary is tried: consent withdrawn, partnership ended, membership expired,
a resource closed to partners' members, people who are not the resource's staff."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fabcom import clock
from fabcom.api import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.federation import vocab
from fabcom.federation.handlers import Sender, dispatch
from fabcom.federation.mirror_models import MirrorMember
from fabcom.federation.models import Audience
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.network.services import respond_partnership
from modules.bookings.models import Booking, BookingState
from modules.bookings.services import (
    change_booking,
    create_booking,
    create_partner_booking,
    make_bookable,
    partner_members_for,
)

PARIS = ZoneInfo("Europe/Paris")
PARTNER_ACTOR = "https://b.example/ap/o/fablab-b"
STRANGER_ACTOR = "https://c.example/ap/o/c"


def tomorrow_at(hour: int, days: int = 1) -> dt.datetime:
    return dt.datetime.combine(dt.datetime.now(PARIS).date() + dt.timedelta(days=days), dt.time(hour), PARIS)


def period(start: dt.datetime, minutes: int) -> dict:
    return {"starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(minutes=minutes)).isoformat()}


def profile_activity(actor: str, token: str, name: str, until: dt.date | None, kind: str = "Create") -> dict:
    base = actor.split("/ap/")[0]
    obj = vocab.member_profile(
        token=token,
        actor=actor,
        display_name=name,
        organization_name="Fablab B",
        valid_from=clock.today() - dt.timedelta(days=30),
        valid_until=until,
        updated=clock.now(),
        base=base,
    )
    return vocab.activity(kind, actor=actor, obj=obj, audience=Audience.PARTNERS, published=clock.now(), base=base)


@pytest.fixture
async def partner(org_a, make_org):
    """A remote fablab, accepted partner of org_a."""
    remote = await make_org("fablab-b-remote", name="Fablab B", is_local=False, remote_uri=PARTNER_ACTOR)
    await Partnership.create(organization=org_a, partner=remote, status=PartnershipStatus.ACCEPTED)
    return remote


async def mirror(sender_org, actor: str, token: str, name: str, until: dt.date | None = None) -> MirrorMember:
    """A member profile received from ``actor`` through the mirror's ingest path."""
    await dispatch(profile_activity(actor, token, name, until), Sender(actor_uri=actor, organization_id=sender_org.id))
    return await MirrorMember.get(uri=f"{actor.split('/ap/')[0]}/ap/members/{token}")


@pytest.fixture
async def camille(partner):
    return await mirror(partner, PARTNER_ACTOR, "t-camille", "Camille Martin")


@pytest.fixture
async def laser(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Découpeuse laser", "visibility": "partners"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 30, "buffer_minutes": 15, "partner_members_allowed": True})
    return item


async def refused(coroutine, exc_type=ValidationFailed):
    with pytest.raises(exc_type) as caught:
        await coroutine
    return caught.value


async def test_the_staff_book_a_machine_for_a_partners_member(laser, camille, staff_a, partner):
    # when the staff book the laser for Camille, member of the partner fablab
    booking = await create_partner_booking(
        staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60), "note": "Proto"}
    )

    # then the booking is confirmed, for her, with no local account
    stored = await Booking.get(id=booking.id).prefetch_related("partner_member__organization")
    assert (stored.state, stored.user_id, stored.for_partner_member, stored.note) == (
        BookingState.CONFIRMED,
        None,
        True,
        "Proto",
    )
    assert (stored.partner_member.display_name, stored.partner_member.organization.name) == (
        "Camille Martin",
        "Fablab B",
    )
    # and the staff's search finds her, with her organization
    found = await partner_members_for(staff_a, laser.organization_id, "cam")
    assert [(m.display_name, m.organization.name, m.valid_until) for m in found] == [
        ("Camille Martin", "Fablab B", None)
    ]


async def test_a_loan_for_a_partners_member_carries_the_deposit(org_a, staff_a, camille):
    drill = await create_item(staff_a, org_a.id, {"title": "Perceuse"})
    await make_bookable(
        staff_a,
        drill.id,
        {"is_loan": True, "deposit": "40", "max_duration_minutes": 60 * 24 * 7, "partner_members_allowed": True},
    )

    loan = await create_partner_booking(
        staff_a, {"item_id": drill.id, "partner_member_id": camille.id, **period(tomorrow_at(9), 60 * 24 * 2)}
    )

    assert (loan.deposit, loan.partner_member_id) == (40, camille.id)
    assert (await change_booking(staff_a, loan.id, "check_out")).state == BookingState.CHECKED_OUT
    assert (await change_booking(staff_a, loan.id, "return")).state == BookingState.RETURNED


async def test_a_member_who_withdrew_consent_cannot_be_booked_for(laser, camille, staff_a, partner):
    # given Camille withdrew her consent: her site sent Delete and the mirror purged her
    await dispatch(
        {"type": "Delete", "actor": PARTNER_ACTOR, "object": camille.uri},
        Sender(actor_uri=PARTNER_ACTOR, organization_id=partner.id),
    )

    error = await refused(
        create_partner_booking(
            staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
        )
    )

    assert [(e.field, e.code) for e in error.errors] == [("partner_member_id", ErrorCode.NOT_FOUND)]
    assert error.text("fr") == (
        "Cette personne n’est pas reconnue comme membre d’une structure partenaire : elle a peut-être retiré "
        "son accord, ou le partenariat a pris fin."
    )
    assert await partner_members_for(staff_a, laser.organization_id, "camille") == []
    assert await Booking.all().count() == 0


async def test_a_member_of_a_partnership_that_ended_cannot_be_booked_for(
    laser, camille, staff_a, partner, org_a, make_org, make_member
):
    # given a second local organization still partnered with the fablab (so its mirror stays)
    other = await make_org("ressourcerie-c")
    await Partnership.create(organization=other, partner=partner, status=PartnershipStatus.ACCEPTED)
    link = await Partnership.get(organization=org_a, partner=partner)

    # when org_a ends the partnership
    await respond_partnership(staff_a, link.id, "block")

    # then its staff may no longer book for the fablab's members
    error = await refused(
        create_partner_booking(
            staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
        )
    )
    assert [(e.field, e.code) for e in error.errors] == [("partner_member_id", ErrorCode.NOT_FOUND)]
    assert await MirrorMember.filter(id=camille.id).exists()  # still mirrored, for the other organization
    assert await Booking.all().count() == 0


async def test_when_the_last_partnership_ends_the_member_is_purged_and_cannot_be_booked_for(
    laser, camille, staff_a, partner, org_a
):
    link = await Partnership.get(organization=org_a, partner=partner)
    await respond_partnership(staff_a, link.id, "block")

    error = await refused(
        create_partner_booking(
            staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
        )
    )

    assert error.errors[0].code == ErrorCode.NOT_FOUND
    assert not await MirrorMember.filter(id=camille.id).exists()
    assert await Booking.all().count() == 0


async def test_a_membership_expired_on_the_bookings_dates_is_refused(laser, partner, staff_a, org_a):
    # given a member whose membership ends the day after tomorrow
    until = dt.datetime.now(PARIS).date() + dt.timedelta(days=2)
    lou = await mirror(partner, PARTNER_ACTOR, "t-lou", "Lou Bernard", until)

    # booking within the membership works; three days ahead is refused with the reason
    assert await create_partner_booking(
        staff_a, {"item_id": laser.id, "partner_member_id": lou.id, **period(tomorrow_at(10, days=2), 60)}
    )
    error = await refused(
        create_partner_booking(
            staff_a, {"item_id": laser.id, "partner_member_id": lou.id, **period(tomorrow_at(10, days=3), 60)}
        )
    )
    assert [(e.field, e.code) for e in error.errors] == [("partner_member_id", ErrorCode.OUT_OF_RANGE)]
    assert error.text("fr") == "L’adhésion de ce membre n’est pas valable aux dates de la réservation."
    assert await Booking.all().count() == 1


async def test_an_already_expired_member_is_not_found_by_the_search(laser, partner, staff_a):
    await mirror(partner, PARTNER_ACTOR, "t-old", "Camille Ancienne", clock.today() - dt.timedelta(days=1))
    assert await partner_members_for(staff_a, laser.organization_id, "camille") == []


async def test_a_member_of_an_organization_that_is_not_a_partner_is_refused(laser, staff_a, make_org):
    stranger = await make_org("c-remote", is_local=False, remote_uri=STRANGER_ACTOR)
    inconnue = await mirror(stranger, STRANGER_ACTOR, "t3", "Camille Inconnue")

    error = await refused(
        create_partner_booking(
            staff_a, {"item_id": laser.id, "partner_member_id": inconnue.id, **period(tomorrow_at(10), 60)}
        )
    )

    assert error.errors[0].code == ErrorCode.NOT_FOUND
    assert await partner_members_for(staff_a, laser.organization_id, "camille") == []
    assert await Booking.all().count() == 0


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VOLUNTEER])
async def test_a_non_staff_member_of_the_organization_may_not(laser, camille, org_a, make_member, role):
    someone = await make_member(org_a, role=role)

    error = await refused(
        create_partner_booking(
            someone, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
        ),
        PermissionDenied,
    )

    assert error.text("en") == "Only the organization's staff may book for a partner's member."
    await refused(partner_members_for(someone, org_a.id, "camille"), PermissionDenied)
    assert await Booking.all().count() == 0


async def test_staff_of_another_organization_may_not(laser, camille, org_a, org_b, staff_b, partner, staff_a):
    # org_b is a partner of the fablab too, and of org_a: its staff see org_a's machine…
    await Partnership.create(organization=org_b, partner=partner, status=PartnershipStatus.ACCEPTED)
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED)
    from fabcom.permissions import load_principal

    staff_b = await load_principal(staff_b.user_id)

    # …but may not book it for a partner's member, nor search org_a's partners' members
    await refused(
        create_partner_booking(
            staff_b, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
        ),
        PermissionDenied,
    )
    await refused(partner_members_for(staff_b, org_a.id, "camille"), PermissionDenied)
    # and a private machine of org_a does not even exist for them
    hidden = await create_item(staff_a, org_a.id, {"title": "Fraiseuse"})
    await make_bookable(staff_a, hidden.id, {"partner_members_allowed": True})
    await refused(
        create_partner_booking(
            staff_b, {"item_id": hidden.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
        ),
        NotFound,
    )
    assert await Booking.all().count() == 0


async def test_a_rule_without_partner_members_is_refused(org_a, staff_a, camille):
    room = await create_item(staff_a, org_a.id, {"title": "Salle"})
    await make_bookable(staff_a, room.id, {"partner_members_allowed": False})

    error = await refused(
        create_partner_booking(
            staff_a, {"item_id": room.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
        )
    )

    assert [(e.field, e.code) for e in error.errors] == [("item_id", ErrorCode.PERMISSION_DENIED)]
    assert error.text("fr") == "Cette ressource n’est pas ouverte aux membres des structures partenaires."
    assert await Booking.all().count() == 0


async def test_overlaps_are_refused_also_under_concurrency(laser, camille, staff_a, backend):
    start = tomorrow_at(14)
    await create_booking(staff_a, {"item_id": laser.id, **period(start, 60)})
    error = await refused(
        create_partner_booking(staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(start, 30)})
    )
    assert error.errors[0].code == ErrorCode.CONFLICT

    later = tomorrow_at(16)
    results = await asyncio.gather(
        *(
            create_partner_booking(staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(later, 60)})
            for _ in range(4)
        ),
        create_booking(staff_a, {"item_id": laser.id, **period(later, 60)}),
        return_exceptions=True,
    )
    assert len([r for r in results if isinstance(r, Booking)]) == 1
    assert {r.errors[0].code for r in results if not isinstance(r, Booking)} == {ErrorCode.CONFLICT}
    assert await Booking.all().count() == 2


async def test_the_period_rules_still_apply(laser, camille, staff_a):
    error = await refused(
        create_partner_booking(
            staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 45)}
        )
    )
    assert [(e.field, e.code) for e in error.errors] == [("ends_at", ErrorCode.INVALID)]
    assert await Booking.all().count() == 0


async def test_after_the_profile_is_deleted_the_booking_stays_anonymous(laser, camille, staff_a, partner):
    # given a booking for Camille
    booking = await create_partner_booking(
        staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
    )

    # when her site sends Delete (she withdrew her consent, or her account was erased)
    await dispatch(
        {"type": "Delete", "actor": PARTNER_ACTOR, "object": camille.uri},
        Sender(actor_uri=PARTNER_ACTOR, organization_id=partner.id),
    )

    # then the booking is still there, holding the slot, but nothing about her remains
    stored = await Booking.get(id=booking.id)
    assert (stored.partner_member_id, stored.for_partner_member, stored.user_id, stored.state) == (
        None,
        True,
        None,
        BookingState.CONFIRMED,
    )
    error = await refused(create_booking(staff_a, {"item_id": laser.id, **period(tomorrow_at(10), 30)}))
    assert error.errors[0].code == ErrorCode.CONFLICT
    # and the staff can still cancel it; nobody else can
    assert (await change_booking(staff_a, booking.id, "cancel")).state == BookingState.CANCELLED


async def test_a_partner_booking_has_no_booker_to_cancel_it(laser, camille, staff_a, org_a, make_member):
    booking = await create_partner_booking(
        staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
    )
    member = await make_member(org_a, role=Role.MEMBER)
    await refused(change_booking(member, booking.id, "cancel"), NotFound)
    assert (await Booking.get(id=booking.id)).state == BookingState.CONFIRMED


# --- GraphQL ---------------------------------------------------------------------------------------

CREATE = """
mutation($input: BookingsBookingCreateInput!) {
  bookingCreate(input: $input) {
    booking { state mine forPartnerMember partnerMember { displayName organizationName } }
    errors { field message code }
  }
}"""
SEARCH = """
query($slug: String!, $search: String!) {
  bookingsPartnerMembers(organizationSlug: $slug, search: $search) { id displayName organizationName validUntil }
}"""


@pytest.fixture
async def gql(client):
    from fabcom.auth.services import create_api_token
    from fabcom.permissions import known_scopes, system_principal

    async def run(query, variables, principal, locale="en", scopes=None):
        scopes = scopes or [s.code for s in known_scopes()]
        _token, secret = await create_api_token(
            system_principal(), principal.user_id, {"name": "test", "scopes": scopes}
        )
        headers = {"Accept-Language": locale, "Authorization": f"Bearer {secret}"}
        response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 200
        return response.json()

    return run


def create_input(item, member_id: str, start: dt.datetime) -> dict:
    from fabcom.api import global_id

    end = start + dt.timedelta(hours=1)
    return {
        "input": {
            "itemId": global_id("Item", item.id),
            "startsAt": start.isoformat(),
            "endsAt": end.isoformat(),
            "partnerMemberId": member_id,
        }
    }


async def test_graphql_the_staff_find_and_book_for_a_partners_member(gql, laser, camille, staff_a, org_a):
    # the staff search the partners' members, then book with the id found
    found = await gql(SEARCH, {"slug": org_a.slug, "search": "cami"}, staff_a)
    [member] = found["data"]["bookingsPartnerMembers"]
    assert {k: member[k] for k in ("displayName", "organizationName", "validUntil")} == {
        "displayName": "Camille Martin",
        "organizationName": "Fablab B",
        "validUntil": None,
    }

    created = await gql(CREATE, create_input(laser, member["id"], tomorrow_at(10)), staff_a)

    assert created["data"]["bookingCreate"] == {
        "booking": {
            "state": "CONFIRMED",
            "mine": False,
            "forPartnerMember": True,
            "partnerMember": {"displayName": "Camille Martin", "organizationName": "Fablab B"},
        },
        "errors": [],
    }
    assert await Booking.filter(partner_member_id=camille.id).count() == 1


async def test_graphql_a_booking_desks_token_needs_no_right_on_the_inventorys_items(
    gql, laser, camille, staff_a, org_a
):
    """The staff's part of bookings goes with the bookings scopes (and members:read for
    people's names, inventory:read to see an item that is not public), not inventory:write."""
    scopes = ["bookings:read", "bookings:write", "members:read", "inventory:read"]
    found = await gql(SEARCH, {"slug": org_a.slug, "search": "cami"}, staff_a, scopes=scopes)
    [member] = found["data"]["bookingsPartnerMembers"]

    created = await gql(CREATE, create_input(laser, member["id"], tomorrow_at(10)), staff_a, scopes=scopes)

    assert created["data"]["bookingCreate"]["errors"] == []
    assert created["data"]["bookingCreate"]["booking"]["partnerMember"] == {
        "displayName": "Camille Martin",
        "organizationName": "Fablab B",
    }
    assert await Booking.filter(partner_member_id=camille.id).count() == 1


async def test_graphql_refusals_are_typed_errors_and_write_nothing(gql, laser, camille, staff_a, org_a, make_member):
    from fabcom.api import global_id

    member_id = global_id("BookingsPartnerMember", camille.id)
    # an unknown member, or another type's id
    for wrong in (global_id("BookingsPartnerMember", camille.id + 100), global_id("Item", laser.id)):
        answer = await gql(CREATE, create_input(laser, wrong, tomorrow_at(10)), staff_a, locale="fr")
        assert answer["data"]["bookingCreate"]["booking"] is None
        assert [(e["field"], e["code"]) for e in answer["data"]["bookingCreate"]["errors"]] == [
            ("partnerMemberId", "NOT_FOUND")
        ]
    # a member of the organization who is not staff
    someone = await make_member(org_a, role=Role.MEMBER)
    answer = await gql(CREATE, create_input(laser, member_id, tomorrow_at(10)), someone)
    assert [e["code"] for e in answer["data"]["bookingCreate"]["errors"]] == ["PERMISSION_DENIED"]
    searched = await gql(SEARCH, {"slug": org_a.slug, "search": "cami"}, someone, locale="fr")
    assert searched["data"] is None
    assert (
        searched["errors"][0]["message"]
        == "Seule l’équipe de la structure peut réserver pour le membre d’un partenaire."
    )
    # a resource closed to partners' members
    room = await create_item(staff_a, org_a.id, {"title": "Salle"})
    await make_bookable(staff_a, room.id, {})
    answer = await gql(CREATE, create_input(room, member_id, tomorrow_at(10)), staff_a)
    assert [(e["field"], e["code"]) for e in answer["data"]["bookingCreate"]["errors"]] == [
        ("itemId", "PERMISSION_DENIED")
    ]
    assert await Booking.all().count() == 0


async def test_graphql_shows_who_only_to_the_staff_and_nothing_once_withdrawn(
    gql, laser, camille, staff_a, org_a, partner, make_member
):
    from fabcom.api import global_id

    await create_partner_booking(
        staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
    )
    on_item = """query($id: ID!) { node(id: $id) { ... on Item { bookings(first: 5) { edges { node {
        forPartnerMember partnerMember { displayName } } } } } } }"""
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)  # sees the item's bookings, not who
    for principal, expected in ((staff_a, {"displayName": "Camille Martin"}), (volunteer, None)):
        seen = await gql(on_item, {"id": global_id("Item", laser.id)}, principal)
        assert seen["data"]["node"]["bookings"]["edges"] == [
            {"node": {"forPartnerMember": True, "partnerMember": expected}}
        ]

    await dispatch(
        {"type": "Delete", "actor": PARTNER_ACTOR, "object": camille.uri},
        Sender(actor_uri=PARTNER_ACTOR, organization_id=partner.id),
    )
    seen = await gql(on_item, {"id": global_id("Item", laser.id)}, staff_a)
    assert seen["data"]["node"]["bookings"]["edges"] == [{"node": {"forPartnerMember": True, "partnerMember": None}}]


# --- the staff desk --------------------------------------------------------------------------------


async def csrf_token(client, org) -> str:
    page = await client.get(f"/m/bookings/o/{org.slug}/")
    marker = '"X-CSRF-Token": "'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def desk_form(item, member_id, day: dt.date, start="10:00", end="11:00") -> dict:
    return {
        "book_for_partner": "1",
        "partner_q": "cam",
        "pm_member": str(member_id),
        "pm_item_id": str(item.id),
        "pm_day": day.isoformat(),
        "pm_start": start,
        "pm_end": end,
        "pm_note": "Atelier",
    }


async def test_desk_the_staff_search_and_book_for_a_partners_member(client, login, laser, camille, staff_a, org_a):
    await login(client, staff_a)
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert "Réserver pour un membre d’une structure partenaire" in desk.text
    assert '<label for="partner_q">Nom du membre</label>' in desk.text

    # the search as you type (htmx) answers the matching members as radio buttons
    found = await client.get(
        f"/m/bookings/o/{org_a.slug}/partner-members", params={"partner_q": "cam"}, headers={"HX-Request": "true"}
    )
    assert found.status_code == 200
    assert "<html" not in found.text
    assert f'name="pm_member" value="{camille.id}"' in found.text
    assert "Camille Martin</strong> — Fablab B" in found.text
    assert "adhésion sans date de fin" in found.text

    # booking for her
    token = await csrf_token(client, org_a)
    day = (dt.datetime.now(PARIS) + dt.timedelta(days=2)).date()
    booked = await client.post(
        f"/m/bookings/o/{org_a.slug}/", data=desk_form(laser, camille.id, day), headers={"X-CSRF-Token": token}
    )
    assert booked.status_code == 303
    [booking] = await Booking.all()
    assert (booking.partner_member_id, booking.user_id, booking.note) == (camille.id, None, "Atelier")
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert "Réservé pour le membre du partenaire." in desk.text
    assert "Camille Martin <small>(Fablab B)</small>" in desk.text


async def test_desk_refusals_keep_the_form_and_write_nothing(client, login, laser, camille, staff_a, org_a, partner):
    await login(client, staff_a)
    token = await csrf_token(client, org_a)
    day = (dt.datetime.now(PARIS) + dt.timedelta(days=2)).date()
    await dispatch(
        {"type": "Delete", "actor": PARTNER_ACTOR, "object": camille.uri},
        Sender(actor_uri=PARTNER_ACTOR, organization_id=partner.id),
    )

    refused_page = await client.post(
        f"/m/bookings/o/{org_a.slug}/", data=desk_form(laser, camille.id, day), headers={"X-CSRF-Token": token}
    )

    assert refused_page.status_code == 400
    assert "Cette personne n’est pas reconnue comme membre d’une structure partenaire" in refused_page.text
    assert 'value="Atelier"' in refused_page.text  # what was typed is kept
    assert await Booking.all().count() == 0


async def test_a_desk_books_only_its_own_organizations_resources(laser, camille, org_a, org_b, make_member):
    # given a person on the staff of both organizations, and org_b's machine open to partners' members
    both = await make_member(org_a, org_b, role=Role.STAFF)
    lathe = await create_item(both, org_b.id, {"title": "Tour à bois", "visibility": "partners"})
    await make_bookable(both, lathe.id, {"slot_minutes": 30, "partner_members_allowed": True})

    # when they book it for Camille from org_a's desk, it is refused on the item
    error = await refused(
        create_partner_booking(
            both,
            {"item_id": lathe.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)},
            organization_id=org_a.id,
        )
    )
    assert [(e.code, e.field, e.text("fr")) for e in error.errors] == [
        (ErrorCode.NOT_FOUND, "item_id", "Choisissez une ressource de cette structure.")
    ]
    assert await Booking.all().count() == 0
    # and org_a's own resource is booked from its desk
    await create_partner_booking(
        both,
        {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)},
        organization_id=org_a.id,
    )
    assert await Booking.all().count() == 1


async def test_desk_refuses_another_organizations_resource_next_to_the_field(
    client, login, laser, camille, org_a, org_b, partner, make_member
):
    # given a person on the staff of both organizations, and org_b's machine open to partners'
    # members (org_b is a partner of Camille's fablab too)
    both = await make_member(org_a, org_b, role=Role.STAFF)
    await Partnership.create(organization=org_b, partner=partner, status=PartnershipStatus.ACCEPTED)
    lathe = await create_item(both, org_b.id, {"title": "Tour à bois", "visibility": "partners"})
    await make_bookable(both, lathe.id, {"slot_minutes": 30, "partner_members_allowed": True})
    await login(client, both)
    token = await csrf_token(client, org_a)
    day = (dt.datetime.now(PARIS) + dt.timedelta(days=2)).date()

    # when they book org_b's machine from org_a's desk
    refused_page = await client.post(
        f"/m/bookings/o/{org_a.slug}/", data=desk_form(lathe, camille.id, day), headers={"X-CSRF-Token": token}
    )

    # then it is refused beside the resource, and nothing is written
    assert refused_page.status_code == 400
    assert (
        '<p class="field-error" id="pm_item_id-error">Choisissez une ressource de cette structure.</p>'
        in refused_page.text
    )
    assert 'value="Atelier"' in refused_page.text
    assert await Booking.all().count() == 0
    # while from org_b's own desk the same booking is made
    token = await csrf_token(client, org_b)
    booked = await client.post(
        f"/m/bookings/o/{org_b.slug}/", data=desk_form(lathe, camille.id, day), headers={"X-CSRF-Token": token}
    )
    assert booked.status_code == 303
    assert [(b.item_id, b.partner_member_id) for b in await Booking.all()] == [(lathe.id, camille.id)]


async def test_desk_a_taken_slot_offers_no_waiting_list_to_a_partners_member(
    client, login, laser, camille, staff_a, org_a
):
    await login(client, staff_a)
    day = (dt.datetime.now(PARIS) + dt.timedelta(days=2)).date()
    token = await csrf_token(client, org_a)
    form = desk_form(laser, camille.id, day)
    assert (
        await client.post(f"/m/bookings/o/{org_a.slug}/", data=form, headers={"X-CSRF-Token": token})
    ).status_code == 303

    again = await client.post(f"/m/bookings/o/{org_a.slug}/", data=form, headers={"X-CSRF-Token": token})

    assert again.status_code == 400
    assert "Ce créneau est déjà réservé : choisissez un autre horaire." in again.text
    assert "liste d’attente" not in again.text
    assert await Booking.all().count() == 1


async def test_desk_without_javascript_the_search_button_shows_the_matches(
    client, login, laser, camille, staff_a, org_a
):
    await login(client, staff_a)
    token = await csrf_token(client, org_a)
    page = await client.post(
        f"/m/bookings/o/{org_a.slug}/",
        data={"search_partner": "1", "partner_q": "martin"},
        headers={"X-CSRF-Token": token},
    )
    assert page.status_code == 200
    assert f'name="pm_member" value="{camille.id}" checked' in page.text
    plain = await client.get(f"/m/bookings/o/{org_a.slug}/partner-members", params={"partner_q": "cam"})
    assert plain.status_code == 303
    assert await Booking.all().count() == 0


async def test_desk_members_neither_see_the_form_nor_search_nor_book(
    client, login, laser, camille, org_a, make_member, staff_b
):
    member = await make_member(org_a, role=Role.MEMBER)
    await login(client, member)
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert "partner_q" not in desk.text
    searched = await client.get(
        f"/m/bookings/o/{org_a.slug}/partner-members", params={"partner_q": "cam"}, headers={"HX-Request": "true"}
    )
    assert searched.status_code == 403
    assert "Camille" not in searched.text
    token = await csrf_token(client, org_a)
    day = (dt.datetime.now(PARIS) + dt.timedelta(days=2)).date()
    posted = await client.post(
        f"/m/bookings/o/{org_a.slug}/", data=desk_form(laser, camille.id, day), headers={"X-CSRF-Token": token}
    )
    assert posted.status_code == 400
    assert "Seule l’équipe de la structure peut réserver pour le membre d’un partenaire." in posted.text
    # staff of another organization: the desk does not exist for them
    client.cookies.clear()
    await login(client, staff_b)
    assert (
        await client.get(f"/m/bookings/o/{org_a.slug}/partner-members", params={"partner_q": "cam"})
    ).status_code == 404
    assert await Booking.all().count() == 0


async def test_desk_without_csrf_token_nothing_is_booked(client, login, laser, camille, staff_a, org_a):
    await login(client, staff_a)
    day = (dt.datetime.now(PARIS) + dt.timedelta(days=2)).date()
    response = await client.post(f"/m/bookings/o/{org_a.slug}/", data=desk_form(laser, camille.id, day))
    assert response.status_code == 403
    assert await Booking.all().count() == 0


async def test_desk_a_withdrawn_members_booking_reads_anonymously(
    client, login, laser, camille, staff_a, org_a, partner
):
    await create_partner_booking(
        staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
    )
    await dispatch(
        {"type": "Delete", "actor": PARTNER_ACTOR, "object": camille.uri},
        Sender(actor_uri=PARTNER_ACTOR, organization_id=partner.id),
    )
    await login(client, staff_a)
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert "Membre d’un partenaire (retiré)" in desk.text
    assert "Camille" not in desk.text


# --- the organization's archive ----------------------------------------------------------------------


async def test_the_archive_keeps_the_booking_but_nothing_about_the_partners_member(db, laser, camille, staff_a, org_a):
    import io
    import zipfile

    from fabcom.ops.orgarchive import export_organization, import_organization
    from fabcom.permissions import system_principal

    await create_partner_booking(
        staff_a, {"item_id": laser.id, "partner_member_id": camille.id, **period(tomorrow_at(10), 60)}
    )

    archive = await export_organization(system_principal(), org_a.slug, db.uploads_dir)

    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        texts = {name: zipped.read(name).decode() for name in zipped.namelist() if name.endswith(".jsonld")}
    assert not [name for name, text in texts.items() if "Camille" in text or camille.uri in text]
    await import_organization(archive, db.uploads_dir, slug="copie")
    copy = await Booking.filter(organization__slug="copie").get()
    assert (copy.for_partner_member, copy.partner_member_id, copy.user_id) == (True, None, None)
