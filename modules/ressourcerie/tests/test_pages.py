"""The weighing station and the report page, over HTTP."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from fabcom.api import ValidationFailed, hookimpl, plugin_manager
from modules.ressourcerie.models import IntakeLine
from modules.ressourcerie.services import add_tare
from modules.ressourcerie.views import resolve_category


async def csrf(client, url: str) -> str:
    page = await client.get(url)
    marker = '"X-CSRF-Token": "'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


@pytest.mark.parametrize(
    ("typed", "code"),
    [("15", "C_15"), ("C_22", "C_22"), ("chau", "C_24"), ("vél", "C_26"), ("velo", "C_26"), ("Bicy", "C_26")],
)
async def test_categories_by_number_or_first_letters(db, typed, code):
    assert (await resolve_category(typed)).code == code


@pytest.mark.parametrize(("typed", "code"), [("petit élec", "C_03"), ("hors froid", "C_02"), ("tablet", "C_07")])
async def test_categories_by_a_word_inside_their_name(db, typed, code):
    assert (await resolve_category(typed)).code == code


async def test_words_inside_names_match_without_accents_and_name_each_category_by_its_number(db):
    """« électro » or « elec » at the counter: the streams whose names hold such a word, as
    the list shows them (« 03 Petit électroménager »), not « no category starts like this »."""
    for typed in ("électro", "elec", "ELEC"):
        with pytest.raises(ValidationFailed) as several:
            await resolve_category(typed)
        assert several.value.text("fr") == (
            "Plusieurs catégories correspondent : 01 Gros électroménager (froid), 02 Gros électroménager (hors froid),"
            " 03 Petit électroménager, 09 Autres équipements électroniques. Tapez le numéro de celle que vous voulez."
        ), typed


async def test_ambiguous_or_unknown_letters_are_refused(db):
    with pytest.raises(ValidationFailed) as ambiguous:
        await resolve_category("ch")
    assert ambiguous.value.text("fr") == (
        "Plusieurs catégories correspondent : 20 Puériculture, 24 Chaussures. Tapez le numéro de celle que vous voulez."
    )
    with pytest.raises(ValidationFailed) as unknown:
        await resolve_category("zz")
    assert unknown.value.text("fr") == "Aucune catégorie ne correspond : tapez son numéro ou un mot de son nom."


async def test_weighing_without_reload_and_undo(client, login, org_a, staff_a):
    crate = await add_tare(staff_a, org_a.id, {"name": "Caisse", "weight_kg": "2"})
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/weighing"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    first = await client.post(
        url, data={"mode_code": "apport_volontaire", "category": "15", "weight": "12,5"}, headers=headers
    )
    assert first.status_code == 200
    assert "<html" not in first.text  # a fragment for htmx
    assert "Aujourd’hui : 12,5 kg" in first.text
    await client.post(
        url,
        data={"mode_code": "apport_volontaire", "category": "vêt", "weight": "10", "tare_id": str(crate.id)},
        headers=headers,
    )
    lines = await IntakeLine.all().order_by("id")
    assert [(line.gross_kg, line.net_kg) for line in lines] == [
        (Decimal("12.5"), Decimal("12.5")),
        (Decimal("10"), Decimal("8")),
    ]
    bad = await client.post(url, data={"category": "15", "weight": "douze"}, headers=headers)
    assert bad.status_code == 400
    assert "Saisissez un nombre valide." in bad.text
    undo = await client.post(url, data={"undo": str(lines[1].id)}, headers=headers)
    assert "Aujourd’hui : 12,5 kg" in undo.text
    assert '<p class="flash" role="status">Pesée annulée : Vêtements, 8 kg.</p>' in undo.text
    assert 'name="undo"' not in undo.text  # the weighing before is not offered in the same answer
    assert await IntakeLine.all().count() == 1
    twice = await client.post(url, data={"undo": str(lines[1].id)}, headers=headers)  # a double click
    assert twice.status_code == 200
    assert "Cette pesée est déjà annulée." in twice.text
    assert 'name="undo"' not in twice.text
    assert await IntakeLine.all().count() == 1
    again = await client.get(url)
    assert f'name="undo" value="{lines[0].id}"' in again.text  # a fresh look offers it, within the minute


async def test_a_refused_weighing_says_why_and_records_nothing(client, login, org_a, staff_a):
    """Each refusal of the service is shown on the form: the volunteer must not believe a
    weighing was recorded when it was not."""
    crate = await add_tare(staff_a, org_a.id, {"name": "Caisse", "weight_kg": "2.4"})
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/weighing"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    for weight, tare, message in [
        ("-4", "", "supérieur à 0"),
        ("0", "", "supérieur à 0"),
        ("99999", "", "kg permis : vérifiez le poids."),
        ("0,5", str(crate.id), "Le contenant (2,4 kg) pèse autant que la pesée, ou plus."),
    ]:
        data = {"mode_code": "apport_volontaire", "category": "15", "weight": weight, "tare_id": tare}
        answer = await client.post(url, data=data, headers=headers)
        assert answer.status_code == 400, weight
        assert 'class="field-error"' in answer.text, weight
        assert message in answer.text.replace("&#39;", "’"), (weight, re.findall(r"field-error[^<]*<", answer.text))
        if not tare:  # the cursor goes back to the weight to correct, not to the category
            assert re.findall(r'<input id="(\w+)"[^>]*\bautofocus', answer.text) == ["weight"], weight
    assert await IntakeLine.all().count() == 0


async def test_the_report_page_and_who_sees_it(client, login, org_a, staff_a, staff_b):
    await login(client, staff_a)
    page = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report")
    assert page.status_code == 200
    assert "Taux de réemploi" in page.text
    bad = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report?from=2026-13-01")
    assert bad.status_code == 400
    client.cookies.clear()
    await login(client, staff_b)
    assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/report")).status_code == 404
    assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/weighing")).status_code == 404


class UsbScale:
    """A module connecting a scale: its script is loaded on the weighing page."""

    @hookimpl
    def ressourcerie_scale_scripts(self, organization):
        return [f"/static/m/usbscale/reader.js?org={organization.slug}"]


async def test_a_module_connects_a_scale_to_the_weighing_page(client, login, org_a, staff_a):
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/weighing"
    plain = await client.get(url)
    assert "/static/m/ressourcerie/scale.js" in plain.text  # the seam is always there
    assert "reader.js" not in plain.text
    assert 'data-template="Lu sur la balance : {kg} kg"' in plain.text
    scale = UsbScale()
    plugin_manager().register(scale)
    try:
        page = await client.get(url)
    finally:
        plugin_manager().unregister(scale)
    assert f'<script src="/static/m/usbscale/reader.js?org={org_a.slug}" defer></script>' in page.text


async def test_the_weighing_station_names_categories_in_the_counters_language(client, login, org_a, staff_a):
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/weighing"
    token = await csrf(client, url)
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    await client.post(url, data={"mode_code": "apport_volontaire", "category": "15", "weight": "3"}, headers=headers)
    french = await client.get(url)
    assert "<td>Mobilier</td>" in french.text
    await client.post("/language", data={"csrf_token": token, "locale": "en", "next": url})
    english = await client.get(url)
    assert "<td>Furniture</td>" in english.text
    assert "Mobilier" not in english.text
    # an ambiguous abbreviation lists the English names too
    ambiguous = await client.post(
        url, data={"mode_code": "apport_volontaire", "category": "ch", "weight": "1"}, headers=headers
    )
    assert "Several categories match: 20 Childcare equipment, 24 Shoes." in ambiguous.text
    assert "Shoes" in ambiguous.text
    assert "Chaussures" not in ambiguous.text


async def test_a_receipt_names_a_weighed_lot_in_the_readers_language(client, login, org_a, staff_a):
    from modules.ressourcerie.services import record_sale

    sale = await record_sale(
        staff_a,
        org_a.id,
        {"payment_mode": "cash", "lines": [{"category_code": "C_22", "weight_kg": "1", "amount": "3"}]},
    )
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till/receipts/{sale.number}"
    assert "<td>Vêtements</td>" in (await client.get(url)).text
    token = await csrf(client, url)
    await client.post("/language", data={"csrf_token": token, "locale": "en", "next": url})
    assert "<td>Clothes</td>" in (await client.get(url)).text


async def test_the_undo_button_lasts_as_long_as_the_site_allows_undoing(client, login, org_a, staff_a, module_env):
    """FABCOM_RESSOURCERIE_UNDO_SECONDS sets how long the last weighing may be undone: the
    button is shown exactly as long (it stayed a minute whatever the setting)."""
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/weighing"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    weighing = {"mode_code": "apport_volontaire", "category": "15", "weight": "3"}
    assert 'name="undo"' in (await client.post(url, data=weighing, headers=headers)).text
    module_env("FABCOM_RESSOURCERIE_UNDO_SECONDS", "0")
    assert 'name="undo"' not in (await client.post(url, data=weighing, headers=headers)).text


async def test_the_weighing_station_refuses_a_category_that_has_sub_categories(client, login, org_a, staff_a):
    """As the API does: « appliances » (or its label) names three streams, the volunteer picks one."""
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/weighing"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    for typed in ("appliances", "Électroménager", "electromenager"):
        answer = await client.post(
            url, data={"mode_code": "apport_volontaire", "category": typed, "weight": "5"}, headers=headers
        )
        assert answer.status_code == 400, typed
        assert (
            "Électroménager a des sous-catégories : pesez sur l’une d’elles (01 Gros électroménager (froid), 02 Gros"
            in answer.text.replace("&#39;", "’")
        ), typed
        assert re.findall(r'<input id="(\w+)"[^>]*\bautofocus', answer.text) == ["category"], typed
    assert await IntakeLine.all().count() == 0


async def test_the_till_asks_to_choose_a_sub_category_named_as_the_list_shows_it(client, login, org_a, staff_a):
    await login(client, staff_a)
    url = f"/m/ressourcerie/o/{org_a.slug}/till"
    headers = {"X-CSRF-Token": await csrf(client, url), "HX-Request": "true"}
    answer = await client.post(url, data={"category": "Électroménager", "weight": "5", "price": "3"}, headers=headers)
    assert answer.status_code == 400
    assert (
        "Électroménager a des sous-catégories : choisissez l’une d’elles (01 Gros électroménager (froid),"
        " 02 Gros électroménager (hors froid), 03 Petit électroménager)." in answer.text.replace("&#39;", "’")
    )
    assert "C_0" not in answer.text.split("category-error", 1)[1].split("</p>", 1)[0]
