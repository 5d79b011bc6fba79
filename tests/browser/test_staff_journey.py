"""A staff member's day in a real browser (Debian's chromium driven by Playwright)
against a real ``fabcom serve`` process: log in, record a donation with a photo, find
it with live search, edit it, print its label sheet, export the list as XLSX, switch to
English; a member of another organization cannot see it. Every page visited passes axe
with no serious or critical violation, and no request leaves the instance's origin."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from fabcom.testing.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

PASSWORD = "fabcom-demo-2026"
STAFF = "lucas@recyclerie-du-canal.example"
OTHER_ORG_STAFF = "julie@fablab-des-pentes.example"  # Fablab des Pentes: a partner, but the item is private
DOCS = Path(__file__).resolve().parents[2] / "docs"
FABCOM = [sys.executable, "-m", "fabcom"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("browser-var"), os.environ.get("FABCOM_MODULES", "")) as base:
        yield base


def shoot(page, name: str, full_page: bool) -> None:
    """Refresh the screenshots in docs/ only when asked (FABCOM_SCREENSHOTS=1), so that a
    test run leaves the checkout as it found it."""
    if os.environ.get("FABCOM_SCREENSHOTS") == "1":
        page.screenshot(path=str(DOCS / name), full_page=full_page)


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "fauteuil.jpg"
    image = Image.new("RGB", (320, 240), (180, 120, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_staff_member_records_finds_edits_labels_exports_and_the_other_org_sees_nothing(server, tmp_path):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    axe = Axe()
    audited: dict[str, list[str]] = {}
    requests: list[str] = []
    console_errors: list[str] = []

    def audit(page, name: str) -> None:
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        audited[name] = bad

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", accept_downloads=True, viewport={"width": 1280, "height": 900})
        context.on("request", lambda request: requests.append(request.url))
        # A Content-Security-Policy violation (an inline script or style the policy refused) is
        # reported on the console: the pages must cause none.
        context.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        page = context.new_page()

        # log in
        page.goto(server + "/")
        expect(page).to_have_url(re.compile(r"/login\?next=/$"))
        audit(page, "login")
        page.get_by_label("Adresse e-mail").fill(STAFF)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")
        audit(page, "dashboard")
        shoot(page, "screenshot-dashboard.png", full_page=True)

        # record a donation with a photo
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Enregistrer un don").click()
        audit(page, "item_create")
        page.get_by_label("Titre").fill("Fauteuil crapaud velours")
        page.get_by_label("Quantité reçue").fill("1")
        page.get_by_label("Valeur d’une unité (€)").fill("45,00")
        page.get_by_label("Donné par (facultatif)").fill("Mme Martin")
        page.get_by_label("Ajouter une photo (JPEG, PNG, WebP ou GIF)").set_input_files(str(_photo(tmp_path)))
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Fauteuil crapaud velours")
        expect(page.get_by_role("status").first).to_contain_text("Objet « Fauteuil crapaud velours » enregistré.")
        expect(page.get_by_role("img", name="Photo de Fauteuil crapaud velours")).to_be_visible()
        item_url = page.url
        audit(page, "item_detail")

        # find it with live search
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Inventaire").click()
        expect(page.locator("#results")).to_contain_text("Résultats")
        audit(page, "item_list")
        shoot(page, "screenshot-inventory.png", full_page=False)
        page.get_by_label("Rechercher").press_sequentially("crapaud", delay=30)
        expect(page.locator("#results")).to_contain_text("Résultats : 1")
        expect(page).to_have_url(re.compile(r"q=crapaud"))

        # edit it
        page.locator("#results").get_by_role("link", name="Fauteuil crapaud velours").click()
        page.get_by_role("link", name="Modifier").click()
        audit(page, "item_edit")
        page.get_by_label("Titre").fill("Fauteuil crapaud velours vert")
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Fauteuil crapaud velours vert")

        # sell it from its page: the stock and the status line change without a reload
        stock = page.locator("#stock")
        stock.get_by_label("Mouvement").select_option(label="Vente")
        stock.get_by_label("Quantité").fill("1")
        stock.get_by_role("button", name="Enregistrer", exact=True).click()
        expect(stock).to_contain_text("Mouvement enregistré.")
        expect(page.locator("#item-status")).to_contain_text("Épuisé")
        assert page.url == item_url

        # print its label sheet
        page.get_by_role("link", name="Imprimer l'étiquette").click()
        expect(page.locator(".labels svg")).to_have_count(1)
        expect(page.locator(".labels")).to_contain_text("Fauteuil crapaud velours vert")
        audit(page, "item_labels")
        page.emulate_media(media="print")
        expect(page.locator(".site-header")).to_be_hidden()
        page.emulate_media(media="screen")

        # export the current list as XLSX
        page.goto(server + "/o/recyclerie-du-canal/items?q=crapaud")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="XLSX").click()
        assert download_info.value.suggested_filename == "recyclerie-du-canal-inventaire.xlsx"
        book = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
        rows = list(book.active.values)
        assert [r[1] for r in rows[1:]] == ["Fauteuil crapaud velours vert"]

        # the other pages of the day, each audited
        nav = page.get_by_role("navigation", name="Menu principal")
        nav.get_by_role("link", name="Projets").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Projets")
        audit(page, "project_list")
        page.locator("main ul a").first.click()
        expect(page.get_by_role("heading", name="Tâches")).to_be_visible()
        audit(page, "project_detail")
        shoot(page, "screenshot-project.png", full_page=True)
        # axe runs only once the next page is there (it failed on a page still loading)
        nav.get_by_role("link", name="Adhérent·es").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Adhérent·es")
        audit(page, "member_list")
        nav.get_by_role("link", name="Partenaires").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Partenaires")
        audit(page, "partners")
        shoot(page, "screenshot-partners.png", full_page=False)
        page.goto(server + "/o/recyclerie-du-canal/items/import")
        audit(page, "item_import")
        page.goto(server + "/account/tokens")
        audit(page, "tokens")

        # a phone, 360 px wide: nothing wider than the screen
        page.set_viewport_size({"width": 360, "height": 740})
        page.goto(server + "/o/recyclerie-du-canal/items")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # the menu is one row that scrolls sideways (it took four to seven rows), and an entry
        # reached by the keyboard is scrolled into view whole
        nav_box = page.get_by_role("navigation", name="Menu principal").bounding_box()
        assert nav_box is not None
        assert nav_box["height"] < 60
        settings_link = page.get_by_role("navigation", name="Menu principal").get_by_role("link").last
        settings_link.focus()
        link_box = settings_link.bounding_box()
        assert link_box is not None
        assert link_box["x"] >= 0
        assert link_box["x"] + link_box["width"] <= 360
        shoot(page, "screenshot-inventory-phone.png", full_page=False)
        page.set_viewport_size({"width": 1280, "height": 900})

        # switch to English
        page.goto(server + "/o/recyclerie-du-canal/items?q=crapaud")
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("navigation", name="Main menu")).to_contain_text("Inventory")
        audit(page, "item_list_en")
        page.get_by_role("button", name="Français").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        page.get_by_role("button", name="Se déconnecter").click()
        expect(page).to_have_url(re.compile(r"/login$"))

        # a member of another organization cannot see it
        page.get_by_label("Adresse e-mail").fill(OTHER_ORG_STAFF)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Fablab des Pentes")
        response = page.goto(item_url)
        assert response is not None
        assert response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
        audit(page, "not_found")
        page.goto(server + "/o/fablab-des-pentes/items?q=crapaud")
        expect(page.locator("#results")).to_contain_text("Résultats : 0")
        context.close()
        browser.close()

    foreign = [url for url in requests if not url.startswith(server + "/") and not url.startswith(("data:", "blob:"))]
    assert foreign == []
    assert [text for text in console_errors if "Content Security Policy" in text] == []
    assert {name: bad for name, bad in audited.items() if bad} == {}
    assert len(audited) == 15
