"""Regressions found walking the UI as a new French volunteer and staff (issue #5), in a
real browser against a real ``fabcom serve`` with the demo: one network search finds the
partners' items as you type (htmx) with where they come from, and a failed live search
says so; ending a partnership asks
first, and going back changes nothing; an unknown address is a page in the layout whose
language switch works; the weighing station in English names categories in English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fabcom.testing.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

PASSWORD = "fabcom-demo-2026"
ORG = "/o/recyclerie-du-canal"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    var: Path = tmp_path_factory.mktemp("partner-walk-var")
    with demo_server(var, modules="bookings,ressourcerie") as base:
        yield base


def _login(page, server: str, email: str) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")


def test_a_new_volunteer_finds_partners_items_asks_before_blocking_and_gets_help_on_a_bad_link(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 800})
        page = context.new_page()
        _login(page, server, "marie@recyclerie-du-canal.example")

        # the partners page sends the search to the one network search
        page.goto(server + ORG + "/partners")
        page.get_by_role("link", name="Chercher dans le réseau").click()
        expect(page).to_have_title("Recherche dans le réseau · La Recyclerie du Canal · fabcom")
        page.get_by_label("Rechercher").fill("fraiseuse")  # live search (htmx), no button pressed
        rows = page.locator("#mirror-results tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("Fraiseuse CNC")
        expect(rows.first).to_contain_text("Fablab des Pentes")
        expect(rows.first.locator(".origin-local")).to_have_text("ce site")
        assert "q=fraiseuse" in page.url  # the search is in the address, to share or go back to

        # a live search that fails (here: a stale address) says so instead of doing nothing
        page.evaluate(
            """() => { const input = document.querySelector('#mirror-q');
                       input.setAttribute('hx-get', '/o/recyclerie-du-canal/no-such-search');
                       htmx.process(input); }"""
        )
        page.get_by_label("Rechercher").fill("perceuse")
        expect(page.locator("#flashes [role=alert]")).to_contain_text("Page introuvable")
        expect(page.locator("#mirror-results tbody tr")).to_have_count(2)  # the last results stay

        # ending the partnership asks first; going back changes nothing
        page.goto(server + ORG + "/partners")
        page.get_by_role("button", name="Mettre fin et bloquer").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Bloquer Fablab des Pentes ?")
        page.get_by_role("link", name="Non, revenir en arrière").click()
        expect(page.get_by_role("button", name="Mettre fin et bloquer")).to_have_count(1)

        # a mistyped address: a page in the layout, with the menu and a way back, in both languages
        page.goto(server + ORG + "/inventaire")
        expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
        expect(page.get_by_role("navigation", name="Menu principal")).to_be_visible()
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        page.get_by_role("link", name="Back to the dashboard").click()
        expect(page).to_have_url(server + ORG + "/")

        # the weighing station in English names the categories in English
        page.goto(server + "/m/ressourcerie" + ORG + "/weighing")
        page.get_by_label("Category").fill("15")
        page.get_by_label("Gross weight (kg)").fill("2")
        page.get_by_label("Gross weight (kg)").press("Enter")
        expect(page.locator("#weighing table")).to_contain_text("Furniture")
        expect(page.locator("#weighing table")).not_to_contain_text("Mobilier")
        browser.close()
