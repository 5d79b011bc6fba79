"""The till over HTTP: a sale rung up line by line without reload, its receipt (page and
PDF), an item already sold refused, and the day's cash closing with its gap."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from fabcom.api import Role, ValidationFailed, clock
from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item, update_item
from modules.ressourcerie import pdf
from modules.ressourcerie.models import CashClosing, Outflow, Sale, SaleLine
from modules.ressourcerie.services import close_till, record_sale
from modules.ressourcerie.tests.test_pages import csrf


def tokens(html: str) -> list[str]:
    marker = 'name="line" value="'
    found, start = [], 0
    while (start := html.find(marker, start)) != -1:
        start += len(marker)
        found.append(html[start : html.index('"', start)])
    return found


async def test_the_till_finds_items_typed_without_accents(client, login, org_a, staff_a):
    """A cashier types « theiere emaillee » on a tablet: the inventory's search (words as
    prefixes, accents ignored) finds « Théière émaillée », and only items in stock."""
    teapot = await create_item(
        staff_a, org_a.id, {"title": "Théière émaillée", "category_code": "C_17", "initial_quantity": "1"}
    )
    sold = await create_item(staff_a, org_a.id, {"title": "Théière en fonte", "category_code": "C_17"})
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till/items"
    headers = {"HX-Request": "true"}
    found = await client.get(url, params={"search": "theiere emai"}, headers=headers)
    assert f'value="{teapot.id}"' in found.text
    found = await client.get(url, params={"search": "THÉIÈRE"}, headers=headers)
    assert f'value="{teapot.id}"' in found.text
    assert f'value="{sold.id}"' not in found.text  # none in stock
    found = await client.get(url, params={"search": "???"}, headers=headers)
    assert f'value="{teapot.id}"' not in found.text  # no word typed: nothing offered, not everything


async def test_a_sale_of_two_lots_and_an_item_then_its_receipt(client, login, org_a, staff_a):
    lamp = await create_item(
        staff_a,
        org_a.id,
        {"title": "Lampe Berger", "category_code": "C_17", "initial_quantity": "1", "unit_value": "12"},
    )
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}

    first = await client.post(url, data={"category": "vêt", "weight": "2,5", "price": "5"}, headers=headers)
    assert first.status_code == 200
    assert "<html" not in first.text
    assert tokens(first.text) == ["lot:C_22:2.5:5"]
    assert "Total : 5,00\u00a0€" in first.text
    second = await client.post(
        url, data={"line": tokens(first.text), "category": "15", "weight": "11", "price": "20,50"}, headers=headers
    )
    found = await client.get(f"{url}/items?search=berger", headers=headers)
    assert f'name="add_item" value="{lamp.id}"' in found.text
    third = await client.post(url, data={"line": tokens(second.text), "add_item": str(lamp.id)}, headers=headers)
    assert tokens(third.text) == ["lot:C_22:2.5:5", "lot:C_15:11:20.50", f"item:{lamp.id}:12.00"]
    assert "Total : 37,50\u00a0€" in third.text
    assert await Sale.all().count() == 0  # nothing written before validation

    done = await client.post(
        url, data={"line": tokens(third.text), "payment_mode": "card", "action": "validate"}, headers=headers
    )
    assert done.status_code == 204
    assert done.headers["HX-Redirect"] == f"/m/ressourcerie/o/{org_a.slug}/till/receipts/1"
    sale = await Sale.get(organization_id=org_a.id, number=1)
    assert (sale.total, sale.payment_mode.value) == (Decimal("37.50"), "card")
    assert [(line.label, line.weight_kg, line.amount) for line in await SaleLine.filter(sale_id=sale.id)] == [
        ("Vêtements", Decimal("2.5"), Decimal("5.00")),
        ("Mobilier", Decimal("11"), Decimal("20.50")),
        ("Lampe Berger", None, Decimal("12.00")),
    ]
    assert (await Item.get(id=lamp.id)).quantity == 0
    outflow = await Outflow.get(id=sale.outflow_id).prefetch_related("lines")  # type: ignore[attr-defined]
    assert sorted(line.weight_kg for line in outflow.lines) == [Decimal("2.5"), Decimal("11")]

    page = await client.get(f"/m/ressourcerie/o/{org_a.slug}/till/receipts/1")
    assert page.status_code == 200
    assert "Ticket n° 1" in page.text
    assert "Payé par : Carte" in page.text
    if pdf.available():
        document = await client.get(f"/m/ressourcerie/o/{org_a.slug}/till/receipts/1.pdf")
        assert document.status_code == 200
        assert document.headers["content-type"] == "application/pdf"
        assert document.content.startswith(b"%PDF-")
    assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/till/receipts/2")).status_code == 404


async def test_an_item_already_sold_is_refused_and_nothing_is_written(client, login, org_a, staff_a):
    chair = await create_item(
        staff_a, org_a.id, {"title": "Chaise paillée", "category_code": "C_15", "initial_quantity": "1"}
    )
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    # The chair is in the cart of the page, but another till sells it first.
    in_cart = await client.post(url, data={"add_item": str(chair.id), "price": "15"}, headers=headers)
    assert tokens(in_cart.text) == [f"item:{chair.id}:15"]
    await record_sale(staff_a, org_a.id, {"payment_mode": "cash", "lines": [{"item_id": chair.id, "amount": "15"}]})

    refused = await client.post(
        url,
        data={"line": tokens(in_cart.text), "payment_mode": "cash", "action": "validate"},
        headers=headers,
    )
    assert refused.status_code == 400
    assert "Chaise paillée est déjà vendu ou en rupture de stock." in refused.text
    assert await Sale.all().count() == 1
    again = await client.post(url, data={"add_item": str(chair.id), "price": "15"}, headers=headers)
    assert again.status_code == 400
    assert "Chaise paillée est déjà vendu ou en rupture de stock." in again.text


async def test_a_reserved_item_is_sold_with_its_status_shown_and_an_archived_one_is_refused(
    client, login, org_a, staff_a
):
    """The armchair set aside for a customer is sold to them: the till shows « Réservé »
    next to it. An archived lamp has left the inventory: the till does not list it, and
    adding it by its number or selling it through the service is refused, nothing written."""
    armchair = await create_item(
        staff_a, org_a.id, {"title": "Fauteuil club", "initial_quantity": "1", "unit_value": "40"}
    )
    await update_item(staff_a, armchair.id, {"status": "reserved"})
    lamp = await create_item(staff_a, org_a.id, {"title": "Lampe club", "initial_quantity": "1", "unit_value": "8"})
    await update_item(staff_a, lamp.id, {"status": "archived"})
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}

    found = await client.get(f"{url}/items", params={"search": "club"}, headers={"HX-Request": "true"})
    assert f'value="{armchair.id}"' in found.text
    assert "Réservé" in found.text
    assert f'value="{lamp.id}"' not in found.text

    refused = await client.post(url, data={"add_item": str(lamp.id)}, headers=headers)
    assert refused.status_code == 400
    assert re.findall(r'<input id="(\w+)"[^>]*\bautofocus', refused.text) == ["search"]  # what to correct
    assert "Lampe club est archivé : il n’est plus dans l’inventaire." in refused.text
    assert tokens(refused.text) == []
    with pytest.raises(ValidationFailed) as caught:
        await record_sale(staff_a, org_a.id, {"payment_mode": "cash", "lines": [{"item_id": lamp.id, "amount": "8"}]})
    assert caught.value.errors[0].field == "lines.0.item_id"
    assert (await Sale.all().count(), (await Item.get(id=lamp.id)).quantity) == (0, 1)

    cart = await client.post(url, data={"add_item": str(armchair.id)}, headers=headers)
    assert re.findall(r'<input id="(\w+)"[^>]*\bautofocus', cart.text) == ["search"]  # ready for the next item
    sold = await client.post(
        url, data={"line": tokens(cart.text), "payment_mode": "card", "action": "validate"}, headers=headers
    )
    assert sold.status_code in (204, 303)
    assert (await Item.get(id=armchair.id)).quantity == 0


async def test_bad_lines_are_refused_with_a_message(client, login, org_a, staff_a):
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    no_price = await client.post(url, data={"category": "15", "weight": "3"}, headers=headers)
    assert no_price.status_code == 400
    assert "Indiquez le prix du lot." in no_price.text
    negative = await client.post(url, data={"category": "15", "weight": "-3", "price": "2"}, headers=headers)
    assert negative.status_code == 400
    assert tokens(negative.text) == []
    empty = await client.post(url, data={"action": "validate", "payment_mode": "cash"}, headers=headers)
    assert "Ajoutez au moins une ligne à la vente." in empty.text
    assert await Sale.all().count() == 0


async def test_cash_closing_totals_and_gap(client, login, org_a, staff_a):
    for mode, amount in [("cash", "12.50"), ("cash", "7.00"), ("card", "30.00"), ("cheque", "15.00")]:
        await record_sale(
            staff_a,
            org_a.id,
            {"payment_mode": mode, "lines": [{"category_code": "C_22", "weight_kg": "1", "amount": amount}]},
        )
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till/closing"
    page = await client.get(url)
    assert 'Espèces</td><td class="num">19,50\u00a0€' in page.text
    assert 'Carte</td><td class="num">30,00\u00a0€' in page.text
    assert "64,50\u00a0€" in page.text
    token = await csrf(client, url)
    bad = await client.post(url, data={"csrf_token": token, "cash_counted": "dix"})
    assert bad.status_code == 400
    assert "Saisissez un nombre valide." in bad.text
    assert await CashClosing.all().count() == 0
    asked = await client.post(url, data={"csrf_token": token, "cash_counted": "18,50"})
    assert asked.status_code == 200
    assert "Clôturer la caisse du" in asked.text
    assert "Il manque 1,00\u00a0€ en caisse" in asked.text  # the gap and its way, shown before closing
    assert '<input type="hidden" name="confirm" value="1">' in asked.text
    assert await CashClosing.all().count() == 0
    closed = await client.post(
        url, data={"csrf_token": token, "cash_counted": "18,50", "confirm": "1"}, follow_redirects=True
    )
    assert closed.status_code == 200
    closing = await CashClosing.get(organization_id=org_a.id, day=clock.today())
    assert closing.totals == {"card": "30.00", "cash": "19.50", "cheque": "15.00"}
    assert closing.cash_difference == Decimal("-1.00")
    assert "Il manque 1,00\u00a0€ en caisse" in closed.text


async def test_who_may_use_the_till(client, login, make_member, org_a, org_b, staff_b):
    await login(client, staff_b)
    assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/till")).status_code == 404
    assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/till/closing")).status_code == 404
    member = await make_member(org_a, role=Role.MEMBER)
    client.cookies.clear()
    await login(client, member)
    assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/till")).status_code == 403


async def test_receipts_and_closings_stay_in_their_organization(client, login, org_a, staff_a, staff_b, make_member):
    await record_sale(
        staff_a,
        org_a.id,
        {"payment_mode": "cash", "lines": [{"category_code": "C_22", "weight_kg": "1", "amount": "3"}]},
    )
    await login(client, staff_b)
    for path in ("till/receipts/1", "till/receipts/1.pdf", "till/items?search=a", "lots", "report/annual"):
        assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/{path}")).status_code == 404, path
    # a volunteer rings up sales but does not close the till
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    client.cookies.clear()
    await login(client, volunteer)
    url = f"/m/ressourcerie/o/{org_a.slug}/till/closing"
    page = await client.get(url)
    assert page.status_code == 200
    assert "Clôturer la caisse" not in page.text
    refused = await client.post(url, data={"csrf_token": await csrf(client, url), "cash_counted": "3"})
    assert refused.status_code == 403
    assert await CashClosing.all().count() == 0


async def test_a_bulk_item_is_added_once_per_unit_in_stock(client, login, org_a, staff_a):
    plates = await create_item(
        staff_a,
        org_a.id,
        {"title": "Assiettes", "category_code": "C_18", "initial_quantity": "2", "unit_value": "1.50"},
    )
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    one = await client.post(url, data={"add_item": str(plates.id)}, headers=headers)
    two = await client.post(url, data={"line": tokens(one.text), "add_item": str(plates.id)}, headers=headers)
    assert tokens(two.text) == [f"item:{plates.id}:1.50", f"item:{plates.id}:1.50"]
    three = await client.post(url, data={"line": tokens(two.text), "add_item": str(plates.id)}, headers=headers)
    assert three.status_code == 400
    assert tokens(three.text) == tokens(two.text)


async def test_the_starting_float_is_counted_in_the_cash_expected_and_kept_with_the_closing(
    client, login, org_a, staff_a
):
    """The till opened with 50 € of change (fond de caisse): 19,50 € of cash sales make
    69,50 € expected in the drawer. The float is kept with the closing and offered again
    the next day; a float that is not a number, or negative, is refused next to its field."""
    for amount in ("12.50", "7.00"):
        await record_sale(
            staff_a,
            org_a.id,
            {"payment_mode": "cash", "lines": [{"category_code": "C_22", "weight_kg": "1", "amount": amount}]},
        )
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till/closing"
    page = await client.get(url)
    assert '<label for="cash_float">Fond de caisse (€)</label>' in page.text
    token = await csrf(client, url)
    for bad, message in (
        ("cinquante", "Saisissez un nombre valide."),
        ("-5", "Le fond de caisse ne peut pas être négatif."),
    ):
        refused = await client.post(url, data={"csrf_token": token, "cash_float": bad, "cash_counted": "70"})
        assert refused.status_code == 400, bad
        field = refused.text.split('<label for="cash_float">', 1)[1].split("</div>", 1)[0]
        assert f'<p class="field-error" id="cash_float-error">{message}</p>' in field, bad
        assert 'aria-describedby="cash_float-help cash_float-error"' in field
        assert "Clôturer la caisse du" not in refused.text  # not even the confirmation
    assert await CashClosing.all().count() == 0

    asked = await client.post(url, data={"csrf_token": token, "cash_float": "50", "cash_counted": "70"})
    assert asked.status_code == 200
    assert "Espèces attendues</dt><dd>69,50\u00a0€" in asked.text
    assert "0,50\u00a0€ de plus en caisse que prévu" in asked.text
    assert '<input type="hidden" name="cash_float" value="50">' in asked.text
    closed = await client.post(
        url, data={"csrf_token": token, "cash_float": "50", "cash_counted": "70", "confirm": "1"}, follow_redirects=True
    )
    closing = await CashClosing.get(organization_id=org_a.id, day=clock.today())
    assert (closing.cash_float, closing.cash_counted, closing.cash_difference) == (
        Decimal("50.00"),
        Decimal("70.00"),
        Decimal("0.50"),
    )
    assert "Fond de caisse</dt><dd>50,00\u00a0€" in closed.text
    assert "Espèces attendues</dt><dd>69,50\u00a0€" in closed.text

    tomorrow = await client.get(f"{url}?day={clock.today() + dt.timedelta(days=1)}")
    assert (
        'name="cash_float" inputmode="decimal" autocomplete="off" value="50,00"' in tomorrow.text
    )  # offered again, the French way


async def test_the_sale_in_progress_survives_a_reload_until_it_is_validated_or_cancelled(
    client, login, make_member, org_a, staff_a
):
    """The tablet goes to sleep with two lots in the sale: the page comes back with them.
    Each cashier has their own sale in progress; cancelling empties it, validating too."""
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    one = await client.post(url, data={"category": "vêt", "weight": "2", "price": "4"}, headers=headers)
    two = await client.post(
        url,
        data={"line": tokens(one.text), "category": "15", "weight": "10", "price": "20", "payment_mode": "card"},
        headers=headers,
    )
    assert tokens(two.text) == ["lot:C_22:2:4", "lot:C_15:10:20"]

    reloaded = await client.get(url)
    assert tokens(reloaded.text) == ["lot:C_22:2:4", "lot:C_15:10:20"]
    assert "Total : 24,00\u00a0€" in reloaded.text
    assert "Vente en cours reprise : validez-la ou annulez-la." in reloaded.text
    assert re.search(r'value="card" checked', reloaded.text)
    assert await Sale.all().count() == 0

    colleague = await make_member(org_a, role=Role.VOLUNTEER)
    other = client.__class__(transport=client._transport, base_url=client.base_url)
    async with other:
        await login(other, colleague)
        assert tokens((await other.get(url)).text) == []  # their own till, empty

    removed = await client.post(url, data={"line": tokens(reloaded.text), "remove": "0"}, headers=headers)
    assert tokens(removed.text) == ["lot:C_15:10:20"]
    assert tokens((await client.get(url)).text) == ["lot:C_15:10:20"]

    cancelled = await client.post(
        url, data={"line": tokens(removed.text), "action": "cancel_confirmed"}, headers=headers
    )
    assert cancelled.status_code == 200
    assert tokens(cancelled.text) == []
    assert tokens((await client.get(url)).text) == []
    assert await Sale.all().count() == 0

    again = await client.post(url, data={"category": "15", "weight": "3", "price": "6"}, headers=headers)
    done = await client.post(
        url, data={"line": tokens(again.text), "payment_mode": "cash", "action": "validate"}, headers=headers
    )
    assert done.status_code == 204
    assert await Sale.all().count() == 1
    after = await client.get(url)
    assert tokens(after.text) == []
    assert "Vente en cours reprise" not in after.text


async def test_changing_the_payment_mode_alone_is_kept_with_the_sale_in_progress(client, login, org_a, staff_a):
    """The cashier picks « Carte » and the tablet goes to sleep before Validate: the sale
    comes back with the card chosen. The radio posts the change on its own and the page
    is left as it is (no swap: the cursor stays on the radio, typed fields are kept)."""
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    one = await client.post(url, data={"category": "vêt", "weight": "2", "price": "4"}, headers=headers)
    assert re.search(r'value="cash" checked', one.text)
    radio = re.search(r'<input type="radio"[^>]*name="payment_mode" value="card"[^>]*>', one.text)
    assert radio is not None
    assert 'hx-trigger="change"' in radio.group(0)
    assert 'hx-swap="none"' in radio.group(0)

    chosen = await client.post(
        url,
        data={"line": tokens(one.text), "payment_mode": "card", "action": "payment", "category": "chau"},
        headers=headers,
    )
    assert (chosen.status_code, chosen.text) == (204, "")
    reloaded = await client.get(url)
    assert tokens(reloaded.text) == ["lot:C_22:2:4"]
    assert re.search(r'value="card" checked', reloaded.text)

    # without htmx, the page comes back with the choice and what was typed
    plain = await client.post(
        url,
        data={"line": tokens(one.text), "payment_mode": "cheque", "action": "payment", "category": "chau"},
        headers={"X-CSRF-Token": headers["X-CSRF-Token"]},
    )
    assert plain.status_code == 200
    assert re.search(r'value="cheque" checked', plain.text)
    assert 'value="chau"' in plain.text
    assert re.search(r'value="cheque" checked', (await client.get(url)).text)
    assert await Sale.all().count() == 0


def autofocused(html: str) -> list[str]:
    """The elements that take the cursor: an input by its id, a link or a button by its text."""
    found = []
    for tag, attributes, text in re.findall(r"<(input|a|button)\b([^>]*)>([^<]*)", html):
        if re.search(r"\bautofocus\b", attributes):
            name = re.search(r'\bid="([^"]+)"', attributes)
            found.append(name.group(1) if name and tag == "input" else text.strip())
    return found


async def test_a_refused_closing_puts_the_cursor_on_the_field_to_correct(client, login, org_a, staff_a):
    """« abc » or « -20 » as the float, « 1e3 » as the cash counted, a day in 2099: the page
    comes back with the cursor on the field to correct (the browser scrolls to it), says
    why in the counter's words, and nothing is closed — not even asked to confirm."""
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till/closing"
    token = await csrf(client, url)
    cases = [
        ({"cash_float": "abc", "cash_counted": "20"}, "cash_float", "Saisissez un nombre valide."),
        ({"cash_float": "-20", "cash_counted": "20"}, "cash_float", "Le fond de caisse ne peut pas être négatif."),
        ({"cash_float": "20", "cash_counted": "1e3"}, "cash_counted", "Saisissez un nombre valide."),
        (
            {"cash_float": "20", "cash_counted": "-1"},
            "cash_counted",
            "Les espèces comptées ne peuvent pas être négatives.",
        ),
    ]
    for data, field, message in cases:
        refused = await client.post(url, data={"csrf_token": token, **data})
        assert refused.status_code == 400, data
        assert autofocused(refused.text) == [field], data
        assert message in refused.text, data
        assert "Clôturer la caisse du" not in refused.text, data
    future = await client.post(f"{url}?day=2099-06-01", data={"csrf_token": token, "cash_counted": "0"})
    assert future.status_code == 400
    assert "Un jour à venir ne peut pas être clôturé." in future.text
    assert "Clôturer la caisse du" not in future.text  # refused at the first submit
    assert autofocused(future.text) == ["day"]
    assert await CashClosing.all().count() == 0


async def test_closing_without_counting_is_said_plainly_before_it_is_done(client, login, org_a, staff_a):
    """Both fields may be left empty (a day paid by card only): the confirmation says the
    cash was not counted and will not be, rather than only « non comptées »."""
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till/closing"
    token = await csrf(client, url)
    asked = await client.post(url, data={"csrf_token": token, "cash_float": "", "cash_counted": ""})
    assert asked.status_code == 200
    assert "Les espèces n’ont pas été comptées" in asked.text.replace("&#39;", "’")
    assert await CashClosing.all().count() == 0
    counted = await client.post(url, data={"csrf_token": token, "cash_float": "", "cash_counted": "0"})
    assert "Les espèces n’ont pas été comptées" not in counted.text.replace("&#39;", "’")


async def test_numbers_in_scientific_notation_are_refused_at_the_till_and_the_weighing(client, login, org_a, staff_a):
    """« 1e3 » is not a thousand: every money or weight field of the module reads plain numbers only."""
    await login(client, staff_a)
    till = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, till), "HX-Request": "true"}
    for data in ({"weight": "1e3", "price": "2"}, {"weight": "2", "price": "1e3"}, {"weight": "2", "price": "NaN"}):
        refused = await client.post(till, data={"category": "15", **data}, headers=headers)
        assert refused.status_code == 400, data
        assert "Saisissez un nombre valide." in refused.text, data
        assert tokens(refused.text) == [], data
    accepted = await client.post(till, data={"category": "15", "weight": " 2,5 ", "price": "3 €"}, headers=headers)
    assert tokens(accepted.text) == ["lot:C_15:2.5:3"]
    weighing = f"/m/ressourcerie/o/{org_a.slug}/weighing"
    refused = await client.post(weighing, data={"category": "15", "weight": "1e3"}, headers=headers)
    assert refused.status_code == 400
    assert "Saisissez un nombre valide." in refused.text
    lots = f"/m/ressourcerie/o/{org_a.slug}/lots"
    refused = await client.post(
        lots, data={"title": "Textile", "category": "22", "quantity": "4e1", "unit": "kg"}, headers=headers
    )
    assert refused.status_code == 400
    assert "Saisissez un nombre valide." in refused.text
    assert await Item.all().count() == 0


async def test_cancelling_a_sale_asks_first_then_says_it_is_done(client, login, org_a, staff_a):
    """« Annuler la vente » sits next to « Valider la vente »: one click asks, with the
    cursor on « Non, revenir en arrière »; going back keeps every line; « Oui » empties the
    sale and says so."""
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    one = await client.post(url, data={"category": "vêt", "weight": "2", "price": "4"}, headers=headers)
    two = await client.post(
        url, data={"line": tokens(one.text), "category": "15", "weight": "1", "price": "6"}, headers=headers
    )
    lines = ["lot:C_22:2:4", "lot:C_15:1:6"]

    asked = await client.post(url, data={"line": lines, "action": "cancel"}, headers=headers)
    assert asked.status_code == 200
    assert "Annuler la vente de 10,00\u00a0€ ?" in asked.text
    assert 'value="cancel_confirmed"' in asked.text
    assert autofocused(asked.text) == ["Non, revenir en arrière"]
    assert tokens(asked.text) == lines
    assert tokens((await client.get(url)).text) == lines  # nothing changed yet

    back = await client.post(url, data={"line": lines, "action": "back"}, headers=headers)
    assert tokens(back.text) == lines
    assert 'value="cancel_confirmed"' not in back.text
    assert autofocused(back.text) == ["category"]
    assert tokens((await client.get(url)).text) == lines

    done = await client.post(url, data={"line": lines, "action": "cancel_confirmed"}, headers=headers)
    assert tokens(done.text) == []
    assert '<p class="flash" role="status">Vente annulée.</p>' in done.text
    assert tokens((await client.get(url)).text) == []
    assert await Sale.all().count() == 0
    assert two.status_code == 200


async def test_a_closed_day_is_announced_as_soon_as_the_till_opens(client, login, org_a, staff_a):
    """After the closing, the till says at once that no sale can be recorded today, offers
    no entry field and no « Valider », and refuses a line posted anyway."""
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    await client.post(url, data={"category": "vêt", "weight": "2", "price": "4"}, headers=headers)
    await close_till(staff_a, org_a.id, {"day": clock.today()})

    page = await client.get(url)
    assert page.status_code == 200
    assert "La caisse du jour est clôturée : aucune vente ne peut plus être enregistrée aujourd’hui." in page.text
    assert "La vente en cours peut seulement être annulée." in page.text
    assert page.text.count('<fieldset class="till-entry" disabled>') == 2
    assert 'value="validate"' not in page.text
    assert autofocused(page.text) == []
    refused = await client.post(url, data={"category": "15", "weight": "1", "price": "2"}, headers=headers)
    assert refused.status_code == 400
    assert "La caisse du jour est clôturée" in refused.text
    assert tokens(refused.text) == []
    sold = await client.post(
        url, data={"line": ["lot:C_22:2:4"], "action": "validate", "payment_mode": "cash"}, headers=headers
    )
    assert sold.status_code == 400
    assert await Sale.all().count() == 0
    cancelled = await client.post(url, data={"line": ["lot:C_22:2:4"], "action": "cancel_confirmed"}, headers=headers)
    assert tokens(cancelled.text) == []
