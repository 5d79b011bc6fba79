"""Inventory pages: full page and htmx fragment from the same view, forms, photos,
movements, labels and exports."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import zipfile
from decimal import Decimal
from urllib.parse import parse_qs

import openpyxl
import pytest

from fabcom.inventory.models import Attachment, Item, StockMovement
from fabcom.inventory.services import create_item, delete_item, record_movement, update_item
from fabcom.members.models import Role
from fabcom.web import inventory as inventory_views


async def test_dashboard_full_page_shows_stock_value_and_weight(make_client, staff_a, org_a):
    await create_item(
        staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "4", "unit_value": "12.50", "unit_weight_kg": "3.5"}
    )
    client = await make_client(staff_a)
    page = await client.get(f"/o/{org_a.slug}/")
    assert page.status_code == 200
    assert "50,00\xa0€" in page.text
    assert "14 kg" in page.text
    assert "Mouvements récents" in page.text
    assert ">Chaise</a>" in page.text


async def test_dashboard_movements_show_units_and_do_not_link_a_removed_item(make_client, staff_a, org_a):
    flour = await create_item(staff_a, org_a.id, {"title": "Farine", "unit": "kg", "initial_quantity": "2"})
    await record_movement(staff_a, flour.id, {"kind": "sale", "quantity": "0.6"})
    chairs = await create_item(staff_a, org_a.id, {"title": "Chaises", "initial_quantity": "40"})
    await delete_item(staff_a, chairs.id)
    client = await make_client(staff_a)
    page = await client.get(f"/o/{org_a.slug}/")
    assert page.status_code == 200
    assert f'<a href="/o/{org_a.slug}/items/{flour.id}">Farine</a>' in page.text
    assert "-0,6 kg" in page.text
    assert f"/items/{chairs.id}" not in page.text
    assert "Chaises <small>(hors inventaire)</small>" in page.text
    assert "40 pièces" in page.text


async def test_item_list_full_page_and_htmx_fragment(make_client, staff_a, org_a):
    await create_item(staff_a, org_a.id, {"title": "Chaise en chêne"})
    await create_item(staff_a, org_a.id, {"title": "Vélo rouge"})
    client = await make_client(staff_a)
    full = await client.get(f"/o/{org_a.slug}/items")
    assert full.status_code == 200
    assert full.text.startswith("<!doctype html>")
    assert 'hx-trigger="input changed delay:300ms, search"' in full.text
    assert "Résultats : 2" in full.text
    fragment = await client.htmx_get(f"/o/{org_a.slug}/items?q=v%C3%A9lo")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Résultats : 1" in fragment.text
    assert "Vélo rouge" in fragment.text
    assert "Chaise en chêne" not in fragment.text
    assert fragment.headers["vary"] == "HX-Request, Cookie"


async def test_item_list_filters_sort_and_pages(make_client, staff_a, org_a):
    for n in range(55):
        await create_item(staff_a, org_a.id, {"title": f"Livre {n:02d}", "category_code": "books-media"})
    await create_item(staff_a, org_a.id, {"title": "Perceuse", "visibility": "partners", "sharing_modes": ["lend"]})
    client = await make_client(staff_a)
    full = await client.get(f"/o/{org_a.slug}/items?category=books-media&sort=title")
    assert "Résultats : 55" in full.text  # the full page counts
    first = await client.htmx_get(f"/o/{org_a.slug}/items?category=books-media&sort=title")
    assert "Résultats : plus de 50" in first.text  # a fragment knows only that there is a next page
    assert "Livre 00" in first.text
    assert "Livre 49" in first.text
    assert "Livre 50" not in first.text
    assert 'rel="prev"' not in first.text
    next_link = re.search(r'href="\?([^"]+)"[^>]*rel="next"', first.text)
    assert next_link is not None
    next_query = html.unescape(next_link.group(1))
    assert parse_qs(next_query)["category"] == ["books-media"]  # the filters are kept
    assert parse_qs(next_query)["sort"] == ["title"]
    second = await client.htmx_get(f"/o/{org_a.slug}/items?{next_query}")
    assert "Résultats" not in second.text  # nor, on a page reached by its cursor, how many there are
    assert "Objets 51 à 55" in second.text  # but which rows it shows: the cursor carried their rank
    assert 'hx-swap="innerHTML show:#results:top"' in first.text  # the new page is shown from its top
    assert "Livre 50" in second.text
    assert "Livre 54" in second.text
    assert "Livre 49" not in second.text
    assert 'rel="next"' not in second.text
    previous_link = re.search(r'href="\?([^"]+)"[^>]*rel="prev"', second.text)
    assert previous_link is not None
    back = await client.htmx_get(f"/o/{org_a.slug}/items?{html.unescape(previous_link.group(1))}")
    assert "Livre 00" in back.text
    assert "Livre 49" in back.text
    assert "Livre 50" not in back.text
    assert 'rel="prev"' not in back.text
    assert "Objets 1 à 50" in back.text  # back to the start by a cursor: the rows, still no count
    assert not re.search(r"Objets \d", first.text)  # the first page opened gives the count, not a range
    full_second = await client.get(f"/o/{org_a.slug}/items?{next_query}")  # without JavaScript
    assert "Résultats : 55 · Objets 51 à 55" in full_second.text
    lend = await client.htmx_get(f"/o/{org_a.slug}/items?sharing=lend&visibility=partners")
    assert "Résultats : 1" in lend.text
    assert "Perceuse" in lend.text


@pytest.mark.parametrize("sort", ["-updated", "-created", "title", "quantity", "-quantity"])
async def test_every_sort_pages_through_every_item_once_by_keyset(make_client, staff_a, org_a, sort, monkeypatch):
    monkeypatch.setattr(inventory_views, "PAGE_SIZE", 4)
    for n in range(11):  # equal quantities and titles: the id breaks the ties
        await create_item(staff_a, org_a.id, {"title": f"Objet {n % 3}", "initial_quantity": str(n % 4)})
    client = await make_client(staff_a)
    seen: list[str] = []
    query = f"sort={sort}"
    for _ in range(5):
        page = await client.htmx_get(f"/o/{org_a.slug}/items?{query}")
        seen += re.findall(r'/items/(\d+)">', page.text)
        link = re.search(r'href="\?([^"]+)"[^>]*rel="next"', page.text)
        if link is None:
            break
        query = html.unescape(link.group(1))
    assert len(seen) == 11
    assert len(set(seen)) == 11


async def test_a_bad_cursor_gives_the_first_page(make_client, staff_a, org_a):
    await create_item(staff_a, org_a.id, {"title": "Chaise"})
    client = await make_client(staff_a)
    for cursor in ("nonsense", "W10", "WyJ4IiwgMV0", "%00"):
        page = await client.htmx_get(f"/o/{org_a.slug}/items?after={cursor}&before={cursor}")
        assert page.status_code == 200
        assert "Chaise" in page.text


@pytest.mark.parametrize("rank", [None, -3, 0, True, "51", 10**12])
async def test_a_cursor_without_a_plausible_rank_pages_but_says_no_range(make_client, staff_a, org_a, rank):
    """An old link's cursor (no rank) or a forged one still gives the right page; it just
    does not say which rows they are."""
    chair = await create_item(staff_a, org_a.id, {"title": "Chaise"})
    await create_item(staff_a, org_a.id, {"title": "Table"})
    key = ["Chaise", chair.id] + ([] if rank is None else [rank])
    cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")
    client = await make_client(staff_a)
    page = await client.htmx_get(f"/o/{org_a.slug}/items?sort=title&after={cursor}")
    assert page.status_code == 200
    assert ">Table</a>" in page.text
    assert ">Chaise</a>" not in page.text
    assert not re.search(r"Objets \d", page.text)


async def test_more_than_a_thousand_matches_are_counted_as_such(make_client, staff_a, org_a, monkeypatch):
    monkeypatch.setattr(inventory_views, "COUNT_CAP", 3)
    for n in range(5):
        await create_item(staff_a, org_a.id, {"title": f"Chaise {n}"})
    client = await make_client(staff_a)
    assert "Résultats : plus de 3" in (await client.get(f"/o/{org_a.slug}/items")).text
    assert "Résultats : 1" in (await client.get(f"/o/{org_a.slug}/items?q=Chaise 4")).text
    assert "Résultats : 1" in (await client.htmx_get(f"/o/{org_a.slug}/items?q=Chaise 4")).text


async def test_the_fragment_has_the_rows_and_the_pager_but_not_the_layout(make_client, staff_a, org_a, monkeypatch):
    monkeypatch.setattr(inventory_views, "PAGE_SIZE", 2)
    for n in range(3):
        await create_item(staff_a, org_a.id, {"title": f"Chaise {n}"})
    client = await make_client(staff_a)
    full = await client.get(f"/o/{org_a.slug}/items")
    fragment = await client.htmx_get(f"/o/{org_a.slug}/items")
    for page in (full, fragment):
        assert page.text.count("/items/") >= 2
        assert 'rel="next"' in page.text
    assert 'class="main-nav"' in full.text
    assert 'id="item-filters"' in full.text
    assert "Recyclerie A" in full.text
    assert "<html" not in fragment.text
    assert "main-nav" not in fragment.text
    assert "item-filters" not in fragment.text
    assert "Recyclerie A" not in fragment.text  # nor the organization switcher or name


async def test_another_organizations_list_fragment_is_404_and_a_member_without_inventory_403(
    make_client, make_member, staff_a, org_a, org_b
):
    await create_item(staff_a, org_a.id, {"title": "Chaise de A"})
    staff_b = await make_member(org_b, role=Role.STAFF)
    client_b = await make_client(staff_b)
    for url in (f"/o/{org_a.slug}/items", f"/o/{org_a.slug}/items?q=chaise", "/o/no-such-org/items"):
        fragment = await client_b.htmx_get(url)
        assert fragment.status_code == 404
        assert "Chaise de A" not in fragment.text
    member = await make_member(org_a, role=Role.MEMBER)
    fragment = await (await make_client(member)).htmx_get(f"/o/{org_a.slug}/items")
    assert fragment.status_code == 403
    assert "Chaise de A" not in fragment.text


def blank_option(page: str, select_id: str) -> str:
    """The text of a select's first option (the "no choice" one)."""
    match = re.search(rf'<select id="{select_id}"[^>]*>\s*<option value="">([^<]*)</option>', page)
    assert match, select_id
    return match.group(1)


async def test_the_blank_choice_of_a_select_agrees_with_its_field_in_french(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    filters = (await client.get(f"/o/{org_a.slug}/items")).text
    assert blank_option(filters, "category") == "Toutes"  # la catégorie
    assert blank_option(filters, "visibility") == "Toutes"  # la visibilité
    assert blank_option(filters, "location") == "Tous"  # l'emplacement
    form = (await client.get(f"/o/{org_a.slug}/items/new")).text
    assert blank_option(form, "category_code") == "— aucune —"
    assert blank_option(form, "location_id") == "— aucun —"


async def test_create_item_with_photo_then_the_photo_is_served_safely(make_client, staff_a, org_a, png):
    client = await make_client(staff_a)
    form = {
        "csrf_token": client.csrf_token,
        "title": "Lampe",
        "initial_quantity": "2",
        "initial_kind": "donation",
        "unit_value": "7,50",
        "sharing_modes": ["give", "sell"],
        "visibility": "private",
    }
    response = await client.post(
        f"/o/{org_a.slug}/items/new", data=form, files={"photo": ("lampe.png", png, "image/png")}
    )
    assert response.status_code == 303
    item = await Item.get(title="Lampe")
    assert response.headers["location"] == f"/o/{org_a.slug}/items/{item.id}"
    assert item.quantity == Decimal("2")
    assert item.unit_value == Decimal("7.5")
    assert item.sharing_modes == ["give", "sell"]
    photo = await Attachment.get(item_id=item.id)
    detail = await client.get(response.headers["location"])
    assert "Objet « Lampe » enregistré." in detail.text
    assert f'<img src="/photos/{photo.id}"' in detail.text
    served = await client.get(f"/photos/{photo.id}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content == png


async def test_bad_input_re_renders_with_values_kept_and_nothing_written(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    response = await client.post(
        f"/o/{org_a.slug}/items/new",
        data={"csrf_token": client.csrf_token, "title": "", "description": "garde-moi", "unit_value": "abc"},
        files={"photo": ("virus.png", b"MZ not an image", "image/png")},
    )
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in response.text
    assert "Saisissez un nombre valide." in response.text
    assert ">garde-moi</textarea>" in response.text
    assert 'value="abc"' in response.text
    assert await Item.all().count() == 0
    # a good item with a file that is not an image: neither is written
    again = await client.post(
        f"/o/{org_a.slug}/items/new",
        data={"csrf_token": client.csrf_token, "title": "Table"},
        files={"photo": ("virus.png", b"MZ not an image", "image/png")},
    )
    assert again.status_code == 400
    assert "Seules les images JPEG, PNG, WebP ou GIF sont acceptées." in again.text
    assert await Item.all().count() == 0
    assert await Attachment.all().count() == 0


async def test_edit_item_keeps_quantity_and_saves_fields(make_client, staff_a, org_a):
    item = await create_item(staff_a, org_a.id, {"title": "Vieux titre", "initial_quantity": "3"})
    client = await make_client(staff_a)
    form = await client.get(f"/o/{org_a.slug}/items/{item.id}/edit")
    assert 'value="Vieux titre"' in form.text
    response = await client.post_form(
        f"/o/{org_a.slug}/items/{item.id}/edit", {"title": "Nouveau titre", "status": "reserved", "unit": "piece"}
    )
    assert response.status_code == 303
    await item.refresh_from_db()
    assert item.title == "Nouveau titre"
    assert item.status == "reserved"
    assert item.quantity == Decimal("3")


def status_options(page: str) -> list[str]:
    select = re.search(r'<select id="status" name="status"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]*)"', select.group(1))


async def test_the_item_form_does_not_offer_archived_and_refuses_it(make_client, staff_a, org_a):
    """Archiving takes an item out of the inventory: it is its own action, with a
    confirmation (« Retirer de l'inventaire »), not a choice slipped into an edit."""
    item = await create_item(staff_a, org_a.id, {"title": "Lampe", "initial_quantity": "1"})
    client = await make_client(staff_a)
    assert status_options((await client.get(f"/o/{org_a.slug}/items/new")).text) == [
        "available",
        "reserved",
        "unavailable",
    ]
    assert status_options((await client.get(f"/o/{org_a.slug}/items/{item.id}/edit")).text) == [
        "available",
        "reserved",
        "unavailable",
    ]

    refused = await client.post_form(
        f"/o/{org_a.slug}/items/{item.id}/edit", {"title": "Lampe rouge", "status": "archived", "unit": "piece"}
    )
    assert refused.status_code == 400
    assert "Pour archiver un objet, utilisez « Retirer de l'inventaire » sur sa fiche." in html.unescape(refused.text)
    await item.refresh_from_db()
    assert (item.title, item.status, item.deleted_at) == ("Lampe", "available", None)  # nothing changed
    created = await client.post_form(f"/o/{org_a.slug}/items/new", {"title": "Chaise", "status": "archived"})
    assert created.status_code == 400
    assert "Pour archiver un objet, utilisez « Retirer de l'inventaire » sur sa fiche." in html.unescape(created.text)
    assert not await Item.filter(title="Chaise").exists()


async def test_an_item_archived_elsewhere_keeps_its_status_when_edited(make_client, staff_a, org_a):
    """An item archived through the API shows « Archivé » in its form, so that saving
    another field does not bring it back into the inventory behind anyone's back."""
    item = await create_item(staff_a, org_a.id, {"title": "Lampe"})
    await update_item(staff_a, item.id, {"status": "archived"})
    client = await make_client(staff_a)
    form = (await client.get(f"/o/{org_a.slug}/items/{item.id}/edit")).text
    assert status_options(form) == ["available", "reserved", "unavailable", "archived"]
    assert '<option value="archived" selected>' in form
    saved = await client.post_form(
        f"/o/{org_a.slug}/items/{item.id}/edit", {"title": "Lampe cassée", "status": "archived", "unit": "piece"}
    )
    assert saved.status_code == 303
    await item.refresh_from_db()
    assert (item.title, item.status) == ("Lampe cassée", "archived")


async def test_a_photo_sent_with_a_wrong_field_is_kept_for_the_next_try(make_client, staff_a, org_a, png):
    """A volunteer took the photo, then forgot the title: the page says the photo is kept,
    and correcting the title is enough to record the item with it."""
    client = await make_client(staff_a)
    wrong = await client.post(
        f"/o/{org_a.slug}/items/new",
        data={"csrf_token": client.csrf_token, "title": "", "initial_quantity": "1"},
        files={"photo": ("lampe.png", png, "image/png")},
    )
    assert wrong.status_code == 400
    assert "Photo gardée : « lampe.png »." in wrong.text
    token = re.search(r'name="kept_photo" value="([^"]+)"', wrong.text)
    assert token is not None
    assert await Attachment.all().count() == 0  # nothing written yet
    right = await client.post(
        f"/o/{org_a.slug}/items/new",
        data={"csrf_token": client.csrf_token, "title": "Lampe", "initial_quantity": "1", "kept_photo": token.group(1)},
    )
    assert right.status_code == 303
    item = await Item.get(title="Lampe")
    photo = await Attachment.get(item_id=item.id)
    assert photo.original_name == "lampe.png"
    assert (await client.get(f"/photos/{photo.id}")).content == png
    # the kept photo is used once: sent again, the token is not a photo any more
    again = await client.post(
        f"/o/{org_a.slug}/items/new",
        data={"csrf_token": client.csrf_token, "title": "Lampe 2", "kept_photo": token.group(1)},
    )
    assert again.status_code == 303
    assert await Attachment.all().count() == 1


async def test_a_kept_photo_belongs_to_the_person_who_sent_it(make_client, staff_a, staff_b, org_a, org_b, png):
    """The token of a kept photo is useless to anyone else (and to a made-up token)."""
    client = await make_client(staff_a)
    wrong = await client.post(
        f"/o/{org_a.slug}/items/new",
        data={"csrf_token": client.csrf_token, "title": ""},
        files={"photo": ("lampe.png", png, "image/png")},
    )
    token = re.search(r'name="kept_photo" value="([^"]+)"', wrong.text)
    assert token is not None
    other = await make_client(staff_b)
    for kept in (token.group(1), "../../etc/passwd", "0" * 32):
        response = await other.post(
            f"/o/{org_b.slug}/items/new",
            data={"csrf_token": other.csrf_token, "title": f"Vol {kept[:4]}", "kept_photo": kept},
        )
        assert response.status_code == 303
    assert await Attachment.all().count() == 0


async def test_a_photo_kept_on_the_edit_form_is_added_once_corrected(make_client, staff_a, org_a, png):
    item = await create_item(staff_a, org_a.id, {"title": "Lampe"})
    client = await make_client(staff_a)
    wrong = await client.post(
        f"/o/{org_a.slug}/items/{item.id}/edit",
        data={"csrf_token": client.csrf_token, "title": "Lampe", "unit_value": "abc"},
        files={"photo": ("lampe.png", png, "image/png")},
    )
    assert wrong.status_code == 400
    assert "Photo gardée : « lampe.png »." in wrong.text
    token = re.search(r'name="kept_photo" value="([^"]+)"', wrong.text)
    assert token is not None
    right = await client.post_form(
        f"/o/{org_a.slug}/items/{item.id}/edit", {"title": "Lampe", "unit_value": "3", "kept_photo": token.group(1)}
    )
    assert right.status_code == 303
    assert await Attachment.filter(item_id=item.id).count() == 1


async def test_quick_movement_by_htmx_returns_the_stock_fragment(make_client, staff_a, org_a):
    item = await create_item(staff_a, org_a.id, {"title": "Assiette", "initial_quantity": "5"})
    client = await make_client(staff_a)
    url = f"/o/{org_a.slug}/items/{item.id}/movements"
    sale = await client.post(
        url, data={"kind": "sale", "quantity": "2"}, headers={"HX-Request": "true", "X-CSRF-Token": client.csrf_token}
    )
    assert sale.status_code == 200
    assert "<html" not in sale.text
    assert "<strong>3</strong>" in sale.text
    assert "Mouvement enregistré." in sale.text
    # no movement is chosen ahead (a sale left as « Don » would add stock): the form asks
    assert re.search(r'<select id="kind" name="kind" required[^>]*>\s*<option value="">— choisir —</option>', sale.text)
    unchosen = await client.post(
        url, data={"kind": "", "quantity": "1"}, headers={"HX-Request": "true", "X-CSRF-Token": client.csrf_token}
    )
    assert unchosen.status_code == 400
    assert 'id="kind-error"' in unchosen.text
    too_much = await client.post(
        url, data={"kind": "sale", "quantity": "9"}, headers={"HX-Request": "true", "X-CSRF-Token": client.csrf_token}
    )
    assert too_much.status_code == 400
    assert "Stock insuffisant : il n’en reste que 3." in too_much.text
    assert 'value="9"' in too_much.text
    await item.refresh_from_db()
    assert item.quantity == Decimal("3")
    assert await StockMovement.filter(item_id=item.id).count() == 2


async def test_remove_stock_ticked_on_a_movement_other_than_an_adjustment_is_refused(make_client, staff_a, org_a):
    item = await create_item(staff_a, org_a.id, {"title": "Assiette", "initial_quantity": "5"})
    client = await make_client(staff_a)
    url = f"/o/{org_a.slug}/items/{item.id}/movements"
    refused = await client.post_form(url, {"kind": "donation", "quantity": "2", "decrease": "1"})
    assert refused.status_code == 400
    assert "« Retirer du stock » ne vaut que pour un ajustement d’inventaire." in refused.text
    assert 'name="decrease" value="1" checked' in refused.text
    await item.refresh_from_db()
    assert item.quantity == Decimal("5")
    assert await StockMovement.filter(item_id=item.id).count() == 1
    adjusted = await client.post_form(url, {"kind": "adjustment", "quantity": "2", "decrease": "1"})
    assert adjusted.status_code == 303
    await item.refresh_from_db()
    assert item.quantity == Decimal("3")


async def test_the_stock_history_shows_the_note_of_a_movement(make_client, staff_a, org_a):
    item = await create_item(staff_a, org_a.id, {"title": "Assiette", "initial_quantity": "5"})
    client = await make_client(staff_a)
    await client.post_form(
        f"/o/{org_a.slug}/items/{item.id}/movements", {"kind": "disposal", "quantity": "1", "note": "Cassée au tri"}
    )
    page = await client.get(f"/o/{org_a.slug}/items/{item.id}")
    assert "Déchet<br><small>Cassée au tri</small>" in page.text


async def test_labels_sheet_has_one_qr_code_per_item(make_client, staff_a, org_a):
    one = await create_item(staff_a, org_a.id, {"title": "Bureau", "initial_quantity": "1"})
    await create_item(staff_a, org_a.id, {"title": "Armoire", "initial_quantity": "1"})
    client = await make_client(staff_a)
    sheet = await client.get(f"/o/{org_a.slug}/items/labels")
    assert sheet.text.count("<svg") == 2
    single = await client.get(f"/o/{org_a.slug}/items/labels?ids={one.id}")
    assert single.text.count("<svg") == 1
    assert "Bureau" in single.text
    # the code scales to the label as a whole (with a size of its own, the label's CSS
    # cropped two of its three corner squares and no phone could read it)
    svg = re.search(r"<svg[^>]*>", single.text).group(0)
    assert re.search(r'viewBox="0 0 (\d+) \1"', svg)
    assert "width=" not in svg


async def test_a_long_inventory_prints_by_sheets_that_keep_the_filters(make_client, staff_a, org_a, monkeypatch):
    from fabcom.web import inventory

    monkeypatch.setattr(inventory, "LABELS_PER_SHEET", 2)
    for title in ("Chaise A", "Chaise B", "Chaise C", "Établi"):
        await create_item(staff_a, org_a.id, {"title": title, "initial_quantity": "1"})
    client = await make_client(staff_a)
    first = await client.get(f"/o/{org_a.slug}/items/labels?q=chaise&sort=title")
    assert first.text.count("<svg") == 2
    assert "Planche 1 sur 2" in first.text
    assert '<a href="?q=chaise&amp;sort=title&amp;sheet=2" rel="next">Planche suivante</a>' in first.text
    second = await client.get(f"/o/{org_a.slug}/items/labels?q=chaise&sort=title&sheet=2")
    assert second.text.count("<svg") == 1
    assert "Chaise C" in second.text
    assert "Établi" not in second.text
    assert "Planche 2 sur 2" in second.text
    beyond = await client.get(f"/o/{org_a.slug}/items/labels?q=chaise&sort=title&sheet=99")
    assert "Planche 2 sur 2" in beyond.text


async def test_the_labels_of_the_list_leave_out_what_is_not_in_stock_and_say_so(make_client, staff_a, org_a):
    """A label goes on a thing on a shelf: the sold-out chairs (« Épuisé ») and the archived
    lamp have none to stick it on. The sheet says how many it left out."""
    await create_item(staff_a, org_a.id, {"title": "Table", "initial_quantity": "2"})
    await create_item(staff_a, org_a.id, {"title": "Vélo promis", "status": "reserved", "initial_quantity": "1"})
    chairs = await create_item(staff_a, org_a.id, {"title": "Chaises", "initial_quantity": "2"})
    await record_movement(staff_a, chairs.id, {"kind": "sale", "quantity": "2"})
    await create_item(staff_a, org_a.id, {"title": "Carton vide"})  # recorded without stock
    lamp = await create_item(staff_a, org_a.id, {"title": "Lampe", "initial_quantity": "1"})
    await update_item(staff_a, lamp.id, {"status": "archived"})
    client = await make_client(staff_a)

    sheet = await client.get(f"/o/{org_a.slug}/items/labels?sort=title")
    assert sheet.text.count("<svg") == 2
    assert re.findall(r"<strong>([^<]+)</strong><br>", sheet.text) == ["Table", "Vélo promis"]
    assert "2 objets sans stock ou archivés ne sont pas imprimés." in sheet.text
    archived = await client.get(f"/o/{org_a.slug}/items/labels?status=archived")
    assert archived.text.count("<svg") == 0
    assert "1 objet sans stock ou archivé n’est pas imprimé." in archived.text
    in_stock = await client.get(f"/o/{org_a.slug}/items/labels?status=available")
    assert in_stock.text.count("<svg") == 1
    assert "pas imprimé" not in in_stock.text


async def test_exports_csv_for_french_excel_xlsx_and_ods(make_client, staff_a, org_a):
    first = await create_item(staff_a, org_a.id, {"title": "=HYPERLINK(1)", "initial_quantity": "1.5", "unit": "kg"})
    await create_item(staff_a, org_a.id, {"title": "Chaise; pliante"})
    client = await make_client(staff_a)
    csv = await client.get(f"/o/{org_a.slug}/items/export.csv?sort=title")
    assert csv.status_code == 200
    assert csv.content.startswith(b"\xef\xbb\xbf")
    text = csv.content.decode("utf-8-sig").splitlines()
    assert text[0].startswith("N°;Titre;Catégorie;")
    # in words, as the list shows them (an import reads them back)
    assert text[1] == f"{first.id};'=HYPERLINK(1);;;Disponible;Bon;1,5;kg;;;Privé;;"
    assert '"Chaise; pliante"' in csv.text
    xlsx = await client.get(f"/o/{org_a.slug}/items/export.xlsx?q=chaise")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    rows = list(book.active.values)
    assert rows[0][1] == "Titre"
    assert [r[1] for r in rows[1:]] == ["Chaise; pliante"]
    ods = await client.get(f"/o/{org_a.slug}/items/export.ods")
    assert ods.headers["content-type"] == "application/vnd.oasis.opendocument.spreadsheet"
    content = zipfile.ZipFile(io.BytesIO(ods.content)).read("content.xml").decode()
    assert "Chaise; pliante" in content
    assert "'=HYPERLINK(1)" in content
    assert (await client.get(f"/o/{org_a.slug}/items/export.pdf")).status_code == 404


async def test_item_list_rows_show_category_and_location_in_both_forms(make_client, staff_a, org_a):
    from fabcom.inventory.services import create_location

    # given an item with a category and a location, and one with neither
    shelf = await create_location(staff_a, org_a.id, {"name": "Étagère B"})
    await create_item(staff_a, org_a.id, {"title": "Roman", "category_code": "books-media", "location_id": shelf.id})
    await create_item(staff_a, org_a.id, {"title": "Objet nu"})
    client = await make_client(staff_a)
    # when the list is read as a full page and as the htmx fragment
    full = await client.get(f"/o/{org_a.slug}/items")
    fragment = await client.htmx_get(f"/o/{org_a.slug}/items")
    # then the rows show the category's label and the location's name
    for answer in (full, fragment):
        row = re.search(r"<tr>\s*<td><a [^>]*>Roman</a></td>(.*?)</tr>", answer.text, re.S)
        assert row is not None
        assert "<td>Livres &amp; Multimédia</td>" in row.group(1)
        assert "Étagère B" in row.group(1)
        bare = re.search(r"<tr>\s*<td><a [^>]*>Objet nu</a></td>\s*<td></td>", answer.text)
        assert bare is not None
    # and the full page's filter form offers the location and the taxonomy
    assert f'<option value="{shelf.id}">Étagère B</option>' in full.text
    assert '<option value="books-media">Livres &amp; Multimédia (tout)</option>' in full.text


async def test_the_filter_form_follows_a_taxonomy_changed_by_another_process(make_client, staff_a, org_a):
    from tortoise import connections

    client = await make_client(staff_a)
    # given the list page read once (the taxonomy is then kept by this process)
    first = await client.get(f"/o/{org_a.slug}/items")
    assert "Livres &amp; Multimédia (tout)" in first.text
    # when another process renames a category in the database
    connection = connections.get("default")
    await connection.execute_query(
        "UPDATE fabcom_category SET label_fr = 'Livres et disques' WHERE code = 'books-media'"
    )
    try:
        # then the next page shows the new label
        second = await client.get(f"/o/{org_a.slug}/items")
        assert "Livres et disques (tout)" in second.text
        assert "Livres &amp; Multimédia" not in second.text
    finally:
        await connection.execute_query(
            "UPDATE fabcom_category SET label_fr = 'Livres & Multimédia' WHERE code = 'books-media'"
        )


async def test_the_forms_show_numbers_the_french_way_and_as_typed_after_an_error(make_client, staff_a, org_a):
    """« 12.500 » reads as twelve thousand five hundred in French: the edit form shows
    « 12,5 », and a form sent back with an error keeps what the person typed."""
    item = await create_item(
        staff_a, org_a.id, {"title": "Perceuse", "unit_weight_kg": "12.5", "unit_value": "25", "visibility": "public"}
    )
    client = await make_client(staff_a)
    edit = await client.get(f"/o/{org_a.slug}/items/{item.id}/edit")
    assert "<h1>Modifier « Perceuse »</h1>" in edit.text
    assert 'value="12,5"' in edit.text
    assert 'value="25"' in edit.text
    assert "12.500" not in edit.text
    form = {"title": "", "unit_weight_kg": "1 200,5", "unit_value": "12,5", "initial_quantity": "2,5"}
    refused = await client.post_form(f"/o/{org_a.slug}/items/new", form)
    assert refused.status_code == 400
    for typed in ('value="1 200,5"', 'value="12,5"', 'value="2,5"'):
        assert typed in refused.text, typed


async def test_a_number_refused_says_why(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    form = {"title": "Lampe", "unit_value": "0,001", "unit_weight_kg": "99999999999"}
    refused = await client.post_form(f"/o/{org_a.slug}/items/new", form)
    assert refused.status_code == 400
    assert "Au plus 2 chiffres après la virgule." in refused.text
    assert "Ce nombre est trop grand." in refused.text
    assert not await Item.filter(title="Lampe").exists()
    typo = await client.post_form(f"/o/{org_a.slug}/items/new", {"title": "Lampe", "initial_quantity": "1e3"})
    assert typo.status_code == 400  # not a thousand lamps
    assert "Saisissez un nombre valide." in typo.text
    assert not await Item.filter(title="Lampe").exists()


async def test_the_inventory_sends_as_many_statements_for_fifty_rows_as_for_five(
    make_client, staff_a, org_a, sql_statements
):
    """No statement per row, and who is asking (session, account, memberships) is one
    statement: a volunteer's search as they type stays quick however long the page."""
    client = await make_client(staff_a)
    url = f"/o/{org_a.slug}/items"

    async def statements_of_both() -> tuple[list[str], list[str]]:
        sql_statements.clear()
        assert (await client.get(url)).status_code == 200
        full = list(sql_statements)
        sql_statements.clear()
        assert (await client.htmx_get(url)).status_code == 200
        return full, list(sql_statements)

    for n in range(5):
        await create_item(staff_a, org_a.id, {"title": f"Chaise {n}", "initial_quantity": "1"})
    await client.get(url)  # the taxonomy read once, as a running server has it
    full_of_five, fragment_of_five = await statements_of_both()
    for n in range(5, 50):
        await create_item(staff_a, org_a.id, {"title": f"Chaise {n}", "initial_quantity": "1"})
    full_of_fifty, fragment_of_fifty = await statements_of_both()

    assert (len(full_of_fifty), len(fragment_of_fifty)) == (len(full_of_five), len(fragment_of_five))
    for statements in (full_of_fifty, fragment_of_fifty):
        assert len([sql for sql in statements if "fabcom_session" in sql]) == 1
    # Who is asking (with the organizations they belong to), then the page.
    assert len(fragment_of_fifty) == 2, fragment_of_fifty

    # A later page says which rows it shows (« Objets 51 à 55 ») from its cursor: no statement more.
    for n in range(50, 55):
        await create_item(staff_a, org_a.id, {"title": f"Chaise {n}", "initial_quantity": "1"})
    first_page = await client.htmx_get(url)
    next_link = re.search(r'href="\?([^"]+)"[^>]*rel="next"', first_page.text)
    assert next_link is not None
    sql_statements.clear()
    later = await client.htmx_get(f"{url}?{html.unescape(next_link.group(1))}")
    assert "Objets 51 à 55" in later.text
    assert len(sql_statements) == 2, list(sql_statements)


async def test_an_available_item_with_nothing_in_stock_says_out_of_stock_and_is_filtered_so(
    make_client, staff_a, org_a
):
    """The last chair sold: the counter must not read « Disponible ». Its status stays
    available (stock coming back makes it available again by itself), but the list, the
    filter and its page say « Épuisé »."""
    chairs = await create_item(staff_a, org_a.id, {"title": "Chaises pliantes", "initial_quantity": "2"})
    await record_movement(staff_a, chairs.id, {"kind": "sale", "quantity": "2"})
    await create_item(staff_a, org_a.id, {"title": "Tables", "initial_quantity": "3"})
    await create_item(staff_a, org_a.id, {"title": "Vélo promis", "status": "reserved"})  # reserved stays reserved
    client = await make_client(staff_a)

    listing = await client.get(f"/o/{org_a.slug}/items", params={"sort": "title"})
    rows = listing.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert ">Chaises pliantes</a>" in rows[0]
    assert '<span class="badge status-out_of_stock">Épuisé</span>' in rows[0]
    assert '<span class="badge status-available">Disponible</span>' in rows[1]
    assert '<span class="badge status-reserved">Réservé</span>' in rows[2]
    assert '<option value="out_of_stock">Épuisé</option>' in listing.text  # a choice of the status filter

    available = await client.htmx_get(f"/o/{org_a.slug}/items?status=available")
    assert "Résultats : 1" in available.text
    assert "Tables" in available.text
    empty = await client.htmx_get(f"/o/{org_a.slug}/items?status=out_of_stock")
    assert "Résultats : 1" in empty.text
    assert "Chaises pliantes" in empty.text
    assert "Vélo promis" not in empty.text  # reserved, whatever its stock
    assert "Résultats : 3" in (await client.htmx_get(f"/o/{org_a.slug}/items")).text  # all but archived: all three
    assert (await Item.get(id=chairs.id)).status == "available"  # nothing changed behind staff's back

    page = await client.get(f"/o/{org_a.slug}/items/{chairs.id}")
    assert '<dt>Statut</dt><dd id="item-status">Épuisé' in page.text
    assert "Redevient disponible dès qu’il y a du stock." in page.text


async def test_selling_the_last_unit_says_out_of_stock_where_the_stock_was_updated(make_client, staff_a, org_a):
    lamp = await create_item(staff_a, org_a.id, {"title": "Lampe", "initial_quantity": "1"})
    client = await make_client(staff_a)
    url = f"/o/{org_a.slug}/items/{lamp.id}/movements"
    htmx = {"HX-Request": "true", "X-CSRF-Token": client.csrf_token}
    stock = await client.post(url, data={"kind": "sale", "quantity": "1"}, headers=htmx)
    assert stock.status_code == 200
    assert '<span class="badge status-out_of_stock">Épuisé</span>' in stock.text
    # the Status line of the page's details follows, swapped out of band by htmx
    assert '<dd id="item-status" hx-swap-oob="true">Épuisé' in stock.text
    back = await client.post(url, data={"kind": "return", "quantity": "1"}, headers=htmx)
    assert back.status_code == 200
    assert "status-out_of_stock" not in back.text
    assert '<dd id="item-status" hx-swap-oob="true">Disponible</dd>' in back.text


async def test_the_inventory_finds_an_item_by_the_number_its_label_prints(make_client, staff_a, org_a, staff_b, org_b):
    """« 322 », « n° 322 » or « #322 » finds item 322 (the number on its label and in its
    address), of this organization only."""
    chair = await create_item(staff_a, org_a.id, {"title": "Chaise paillée"})
    await create_item(staff_a, org_a.id, {"title": "Table"})
    theirs = await create_item(staff_b, org_b.id, {"title": "Armoire"})
    client = await make_client(staff_a)
    for typed in (str(chair.id), f"n° {chair.id}", f"N°{chair.id}", f"#{chair.id}"):
        found = await client.htmx_get(f"/o/{org_a.slug}/items", params={"q": typed})
        assert "Chaise paillée" in found.text, typed
        assert "Table" not in found.text
    other = await client.htmx_get(f"/o/{org_a.slug}/items", params={"q": str(theirs.id)})
    assert "Armoire" not in other.text
    assert "Aucun objet ne correspond." in other.text


async def test_a_search_of_punctuation_only_finds_nothing_rather_than_everything(make_client, staff_a, org_a):
    """« ??? » in the search box holds no word: the list says nothing matches (it listed
    every item, as if nothing had been typed)."""
    await create_item(staff_a, org_a.id, {"title": "Chaise paillée"})
    client = await make_client(staff_a)
    for typed in ("???", "-- !"):
        found = await client.htmx_get(f"/o/{org_a.slug}/items", params={"q": typed})
        assert found.status_code == 200
        assert "Chaise paillée" not in found.text, typed
        assert "Aucun objet ne correspond." in found.text
