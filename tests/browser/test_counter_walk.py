"""Regressions found walking the UI as a ressourcerie's counter volunteer and its staff, in a
real browser (Debian's chromium driven by Playwright) against a real ``fabcom serve`` with
the ressourcerie module: a refused weighing (a 400 fragment) shows its error instead of
being silently dropped by htmx, and wide tables scroll inside their box on a 360 px phone
instead of widening the whole page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fabcom.testing.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

PASSWORD = "fabcom-demo-2026"
ORG = "/o/recyclerie-du-canal"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("counter-var"), "bookings,ressourcerie") as base:
        yield base


def _login(page, server: str, email: str) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")


def test_a_refused_weighing_shows_its_error_and_wide_tables_do_not_widen_a_phone_page(server):
    from playwright.sync_api import expect, sync_playwright

    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 800})
        context.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        page = context.new_page()

        # the volunteer at the weighing station types a category that does not exist
        _login(page, server, "amina@recyclerie-du-canal.example")
        page.goto(server + "/m/ressourcerie/o/recyclerie-du-canal/weighing")
        expect(page).to_have_title("Pesée · La Recyclerie du Canal · fabcom")
        page.get_by_label("Catégorie").fill("zzz")
        page.get_by_label("Poids brut (kg)").fill("3,2")
        page.get_by_label("Poids brut (kg)").press("Enter")
        expect(page.locator("#category-error")).to_be_visible()
        expect(page.get_by_label("Catégorie")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Catégorie")).to_be_focused()
        # then a right one is recorded
        page.get_by_label("Catégorie").fill("1")
        page.get_by_label("Poids brut (kg)").fill("3,2")
        page.get_by_label("Poids brut (kg)").press("Enter")
        expect(page.locator("#category-error")).to_have_count(0)
        expect(page.locator("#weighing table")).to_contain_text("Gros électroménager (froid)")

        # staff pages with wide tables: the page itself does not scroll sideways on a phone
        context.clear_cookies()
        _login(page, server, "marie@recyclerie-du-canal.example")
        for path in (ORG + "/members", ORG + "/partners", "/m/ressourcerie" + ORG + "/report"):
            page.goto(server + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} is {overflow} px wider than a 360 px screen"
        browser.close()
    # the only console errors allowed are the refused weighing's 400 (the browser logs it)
    assert [e for e in console_errors if "400" not in e] == []
