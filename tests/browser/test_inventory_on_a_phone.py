"""The inventory on a phone (360 px): quantity and status readable on each row, the
pager showing the new page from its top with the focus on it, and the language switch
warning before it drops a half-filled form. In a real browser against ``fabcom serve``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fabcom.testing.browser import demo_login, demo_server, require_chromium

ORG = "/o/recyclerie-du-canal"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("phone-var"), os.environ.get("FABCOM_MODULES", "")) as base:
        yield base


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the screenshots go: FABCOM_SCREENSHOTS to keep them and look at them."""
    return Path(os.environ.get("FABCOM_SCREENSHOTS") or tmp_path)


def serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_on_a_phone_each_row_shows_its_quantity_and_status(server, screenshots):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser, page = demo_login(pw, server, {"width": 360, "height": 740})
        page.goto(server + ORG + "/items")
        page.locator("#results").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / "inventory-360.png"))
        rows = page.locator("table.items tbody tr")
        assert rows.count() > 0
        for n in range(min(rows.count(), 5)):
            for cell in ("td.num", "td .badge"):
                box = rows.nth(n).locator(cell).bounding_box()
                assert box is not None, f"row {n}: {cell} is not shown"
                assert box["width"] > 0
                assert box["x"] >= 0
                assert box["x"] + box["width"] <= 360, f"row {n}: {cell} is off the screen"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
        assert serious(page) == []
        browser.close()


def test_the_next_page_is_shown_from_its_top_with_the_focus_on_it(server, screenshots):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = demo_login(pw, server, {"width": 360, "height": 740})
        page.goto(server + ORG + "/items")
        page.get_by_role("link", name="Suivant").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#results .count")).to_have_text(re.compile(r"^Objets 51 à \d+$"))
        expect(page.locator("#results")).to_be_focused()
        top = page.evaluate("document.getElementById('results').getBoundingClientRect().top")
        assert -2 <= top < 100, f"the new page starts {top} px from the top of the screen"
        page.screenshot(path=str(screenshots / "inventory-360-page-2.png"))
        browser.close()


def test_changing_the_language_asks_before_dropping_a_half_filled_form(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = demo_login(pw, server, {"width": 1280, "height": 900})
        page.goto(server + ORG + "/items/new")
        page.get_by_label("Titre").fill("Chaise en chêne")
        messages: list[str] = []

        def refuse(dialog) -> None:
            messages.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", refuse)
        page.get_by_role("button", name="English").click()
        assert len(messages) == 1
        assert messages[0].startswith("Vous avez commencé à remplir un formulaire")
        expect(page.get_by_label("Titre")).to_have_value("Chaise en chêne")  # still there, still French
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        # a page with nothing typed switches without asking
        page.on("dialog", lambda dialog: pytest.fail(f"unexpected question: {dialog.message}"))
        page.get_by_role("button", name="Français").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        browser.close()


def test_asking_a_partner_answers_on_the_row_and_keeps_the_search(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = demo_login(pw, server, {"width": 360, "height": 800}, "marie@recyclerie-du-canal.example")
        page.goto(server + ORG + "/network?q=fraiseuse")
        rows = page.locator("#mirror-results tbody tr")
        expect(rows).to_have_count(2)
        # the row by its id: htmx replaces the row element itself
        row_id = page.locator("#mirror-results tbody tr:has(.origin-local)").first.get_attribute("id")
        row = page.locator(f"#{row_id}")
        # on a phone the row is a card: its « Ask » button is on the screen, not off to the right
        button = row.get_by_role("button", name="Demander").bounding_box()
        assert button is not None
        assert button["x"] >= 0
        assert button["x"] + button["width"] <= 360
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        row.get_by_label("Quantité").fill("999")
        row.get_by_role("button", name="Demander").click()
        expect(row.locator("[role=alert]")).to_contain_text("Stock insuffisant")
        expect(row.get_by_label("Quantité")).to_have_value("999")  # as typed, and focused to correct it
        expect(row.get_by_label("Quantité")).to_be_focused()
        expect(page.get_by_label("Rechercher")).to_have_value("fraiseuse")  # the search stays
        expect(rows).to_have_count(2)
        row.get_by_label("Quantité").fill("1")
        row.get_by_role("button", name="Demander").click()
        expect(row.locator("[role=status]")).to_contain_text("Demande envoyée")
        expect(row).to_contain_text("Déjà demandé")  # no second request by a second click
        expect(row.get_by_role("button", name="Demander")).to_have_count(0)
        expect(rows).to_have_count(2)
        assert "q=fraiseuse" in page.url
        browser.close()


def test_a_form_sent_back_with_a_mistake_puts_the_focus_on_the_wrong_field(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = demo_login(pw, server, {"width": 1280, "height": 800})
        page.goto(server + ORG + "/items/new")
        page.get_by_label("Titre").fill("Chaise")
        page.get_by_label("Valeur d’une unité (€)").fill("douze")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.locator(".flash-error")).to_be_visible()
        # the field far down the form has the focus, so the browser scrolled to it
        wrong = page.get_by_label("Valeur d’une unité (€)")
        expect(wrong).to_be_focused()
        expect(wrong).to_be_in_viewport()
        browser.close()


def test_changing_the_language_keeps_the_search_typed_since_the_page_opened(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = demo_login(pw, server, {"width": 1280, "height": 900})
        page.goto(server + ORG + "/items")
        page.get_by_label("Rechercher").fill("chaise")
        expect(page).to_have_url(re.compile(r"q=chaise"))  # htmx put the search in the address
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page).to_have_url(re.compile(r"q=chaise"))
        expect(page.get_by_label("Search")).to_have_value("chaise")
        browser.close()
