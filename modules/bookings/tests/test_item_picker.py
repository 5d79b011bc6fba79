"""The desk's "make an item bookable" form finds the item by a search rather than a
select of every title: words of the title or the item's number (« n° 322 »), each match
told apart by its number and place, only items that may become bookable. An item id the
form did not offer (missing, another organization's, archived) is refused beside the
field, with nothing written and nothing told about the other organization's item."""

from __future__ import annotations

import re

import pytest

from fabcom.errors import ValidationFailed
from fabcom.inventory.services import create_item, create_location
from fabcom.members.models import Role
from modules.bookings.models import BookingRule
from modules.bookings.services import make_bookable

HTMX = {"HX-Request": "true"}
NOT_HERE = "Aucun objet de cette structure ne porte ce numéro."


def offered(html: str) -> list[int]:
    """The item ids offered as radio buttons, in order."""
    return [int(v) for v in re.findall(r'name="item_id" value="(\d+)"', html)]


async def csrf(client, org) -> str:
    page = await client.get(f"/m/bookings/o/{org.slug}/")
    marker = '"X-CSRF-Token": "'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


@pytest.fixture
async def desks(org_a, staff_a):
    """Three « Bureau assis-debout » in two rooms, one archived, one bookable already."""
    first = await create_location(staff_a, org_a.id, {"name": "Salle Jaune"})
    second = await create_location(staff_a, org_a.id, {"name": "Open space"})
    yellow = await create_item(staff_a, org_a.id, {"title": "Bureau assis-debout", "location_id": first.id})
    open_a = await create_item(staff_a, org_a.id, {"title": "Bureau assis-debout", "location_id": second.id})
    open_b = await create_item(staff_a, org_a.id, {"title": "Bureau assis-debout", "location_id": second.id})
    archived = await create_item(staff_a, org_a.id, {"title": "Bureau ancien", "status": "archived"})
    await make_bookable(staff_a, open_b.id, {})
    return {"yellow": yellow, "open_a": open_a, "open_b": open_b, "archived": archived}


async def test_the_search_finds_bookable_candidates_by_words_or_number(
    client, login, org_a, staff_a, desks, org_b, staff_b
):
    # given a desk of another organization with the same title
    await create_item(staff_b, org_b.id, {"title": "Bureau assis-debout", "visibility": "public"})
    await login(client, staff_a)
    url = f"/m/bookings/o/{org_a.slug}/bookable-items"

    # when the staff type a word of the title
    found = await client.get(url, params={"item_q": "bureau"}, headers=HTMX)

    # then only this organization's items that may become bookable are offered, by title then number
    assert found.status_code == 200
    assert offered(found.text) == [desks["yellow"].id, desks["open_a"].id]
    # each told apart by its number and place
    assert f"<strong>Bureau assis-debout</strong> · n° {desks['yellow'].id} · Salle Jaune</span></label>" in found.text
    assert f"<strong>Bureau assis-debout</strong> · n° {desks['open_a'].id} · Open space</span></label>" in found.text

    # when they type the number a label prints, it is the one match, chosen already
    by_number = await client.get(url, params={"item_q": f"n° {desks['open_a'].id}"}, headers=HTMX)
    assert offered(by_number.text) == [desks["open_a"].id]
    assert "checked" in by_number.text
    # an archived item's or a bookable item's number offers nothing
    for item in (desks["archived"], desks["open_b"]):
        nothing = await client.get(url, params={"item_q": str(item.id)}, headers=HTMX)
        assert offered(nothing.text) == []
        assert "Aucun objet ne correspond (les objets archivés et ceux déjà réservables sont exclus)." in nothing.text


async def test_a_long_list_asks_for_more_of_the_title(client, login, org_a, staff_a):
    for _ in range(9):
        await create_item(staff_a, org_a.id, {"title": "Chaise pliante"})
    await login(client, staff_a)
    found = await client.get(f"/m/bookings/o/{org_a.slug}/bookable-items", params={"item_q": "chaise"}, headers=HTMX)
    assert len(offered(found.text)) == 8
    assert "D’autres objets correspondent : tapez plus du titre, ou le numéro de l’objet." in found.text


async def test_the_desk_offers_the_search_with_a_label_and_works_without_javascript(
    client, login, org_a, staff_a, desks
):
    await login(client, staff_a)
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert '<label for="item_q">Trouver l’objet</label>' in desk.text
    assert '<div id="item-choices" aria-live="polite">' in desk.text
    assert "<legend>Objet</legend>" in desk.text
    assert '<select id="item_id"' not in desk.text

    # the search button (no JavaScript) shows the matches and writes nothing
    searched = await client.post(
        f"/m/bookings/o/{org_a.slug}/",
        data={"item_q": f"#{desks['yellow'].id}", "search_item": "1", "slot_minutes": "60"},
        headers={"X-CSRF-Token": await csrf(client, org_a)},
    )
    assert searched.status_code == 200
    assert offered(searched.text) == [desks["yellow"].id]
    assert await BookingRule.filter(organization_id=org_a.id).count() == 1
    # the fragment's URL opened without htmx goes back to the desk, search kept
    plain = await client.get(f"/m/bookings/o/{org_a.slug}/bookable-items", params={"item_q": "bureau"})
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/m/bookings/o/{org_a.slug}/?item_q=bureau#make-h"

    # choosing a match makes it bookable
    done = await client.post(
        f"/m/bookings/o/{org_a.slug}/",
        data={"make_bookable": "1", "item_q": "bureau", "item_id": str(desks["yellow"].id), "slot_minutes": "60"},
        headers={"X-CSRF-Token": await csrf(client, org_a)},
    )
    assert done.status_code == 303
    assert await BookingRule.filter(item_id=desks["yellow"].id).count() == 1


async def test_an_item_the_form_did_not_offer_is_refused_beside_the_field(
    client, login, org_a, org_b, desks, make_member
):
    # given someone on the staff of both organizations, and an item of the other one
    both = await make_member(org_a, org_b, role=Role.STAFF)
    secret = await create_item(both, org_b.id, {"title": "Fraiseuse secrète"})
    await login(client, both)
    token = await csrf(client, org_a)

    for item_id in (str(secret.id), "999999", "abc", "", str(desks["archived"].id)):
        # when the desk of org A is sent that id
        refused = await client.post(
            f"/m/bookings/o/{org_a.slug}/",
            data={"make_bookable": "1", "item_id": item_id, "slot_minutes": "60"},
            headers={"X-CSRF-Token": token},
        )

        # then a translated message beside the field, nothing written, nothing about the other's item
        assert refused.status_code == 400, item_id
        message = (
            "Un objet archivé ne peut pas devenir réservable." if item_id == str(desks["archived"].id) else NOT_HERE
        )
        assert f'<p class="field-error" id="item_id-error">{message}</p>' in refused.text
        assert "Fraiseuse secrète" not in refused.text
        assert await BookingRule.filter(item_id=secret.id).count() == 0
    assert await BookingRule.all().count() == 1  # the fixture's only


async def test_the_service_refuses_another_organizations_item_as_a_missing_one(org_a, org_b, make_member):
    both = await make_member(org_a, org_b, role=Role.STAFF)
    other = await create_item(both, org_b.id, {"title": "Fraiseuse"})
    errors = []
    for item_id in (other.id, 999999):
        with pytest.raises(ValidationFailed) as refused:
            await make_bookable(both, item_id, {}, organization_id=org_a.id)
        errors.append([(e.code.value, e.field, e.text("en")) for e in refused.value.errors])
    assert errors[0] == errors[1] == [("not_found", "item_id", "No item of this organization has this number.")]
    assert await BookingRule.all().count() == 0


async def test_members_may_not_search_the_inventory_from_the_desk(client, login, org_a, desks, make_member):
    member = await make_member(org_a, role=Role.MEMBER)
    await login(client, member)
    url = f"/m/bookings/o/{org_a.slug}/bookable-items"
    refused = await client.get(url, params={"item_q": "bureau"}, headers=HTMX)
    assert refused.status_code == 403
    assert "Bureau assis-debout" not in refused.text
    desk = await client.get(f"/m/bookings/o/{org_a.slug}/")
    assert 'id="item_q"' not in desk.text


async def test_titles_that_are_or_start_with_the_search_come_first_accents_ignored(client, login, org_a, staff_a):
    # given bikes whose titles sort before « Vélo de ville », which merely mention « vélo »
    others = [
        await create_item(staff_a, org_a.id, {"title": title})
        for title in ("Biclou (vélo cargo)", "Remorque de vélo", "Casque vélo enfant", "Antivol pour vélo")
    ]
    city = await create_item(staff_a, org_a.id, {"title": "Vélo de ville"})
    exact = await create_item(staff_a, org_a.id, {"title": "VELO"})
    for n in range(4):  # enough of the others to fill the list
        others.append(await create_item(staff_a, org_a.id, {"title": f"Atelier vélo {n}"}))
    await login(client, staff_a)

    # when the staff type « velo », without its accent
    found = await client.get(f"/m/bookings/o/{org_a.slug}/bookable-items", params={"item_q": "velo"}, headers=HTMX)

    # then the exact title, then the one starting with it, then the others by title, in the first eight
    ids = offered(found.text)
    assert ids[:2] == [exact.id, city.id]
    by_title = sorted(others, key=lambda item: (item.title, item.id))
    assert ids[2:] == [item.id for item in by_title[:6]]
    assert "D’autres objets correspondent" in found.text
