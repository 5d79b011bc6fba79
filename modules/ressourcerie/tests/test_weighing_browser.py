"""The weighing station in a real browser, keyboard only: five weighings, one undone,
the day's total right — against a real ``fabcom serve`` with the ressourcerie module."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from fabcom.testing.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium, wait_until_true


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("weighing"), "ressourcerie") as base:
        yield base


def test_five_weighings_by_keyboard_one_undone(server):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="fr-FR", viewport={"width": 800, "height": 1000}).new_page()  # a tablet
        page.goto(server + "/login")
        page.get_by_label("Adresse e-mail").fill("lucas@recyclerie-du-canal.example")
        page.get_by_label("Mot de passe").fill("fabcom-demo-2026")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Pesée").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Poste de pesée")
        violations = [
            v["id"] for v in Axe().run(page).response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        assert violations == []

        total = page.get_by_role("heading", name=re.compile("Aujourd’hui"))
        expect(total).to_have_text("Aujourd’hui : 0 kg")
        for category, weight, after in [
            ("15", "12,5", "12,5"),
            ("vêt", "4", "16,5"),
            ("11", "7,25", "23,75"),
            ("jou", "1,5", "25,25"),
            ("26", "14", "39,25"),
        ]:
            expect(page.get_by_label("Catégorie")).to_be_focused()  # back on the category after each Enter
            page.keyboard.type(category)
            page.keyboard.press("Tab")
            page.keyboard.type(weight)
            page.keyboard.press("Enter")
            expect(total).to_have_text(f"Aujourd’hui : {after} kg")
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no page reload

        undo = page.get_by_role("button", name=re.compile("Annuler la dernière pesée"))
        expect(undo).to_contain_text("Vélos, 14 kg")
        expect(page.get_by_label("Catégorie")).to_be_focused()  # htmx has settled the last swap
        undo.press("Enter")
        expect(total).to_have_text("Aujourd’hui : 25,25 kg")
        expect(page.locator("table")).to_contain_text("Mobilier")
        browser.close()


def _tab_to(page, wanted: str, limit: int = 40) -> None:
    """Press Tab until the focused element is ``wanted`` (``name=value`` or ``#id``): keyboard only."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("(() => { const e = document.activeElement; return [e.id, e.name, e.value]; })()")
        if wanted in (f"#{focused[0]}", f"{focused[1]}={focused[2]}", f"{focused[1]}"):
            return
    raise AssertionError(f"{wanted} never got the focus")


def test_a_sale_at_the_till_by_keyboard(server):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 800}).new_page()  # a phone
        page.goto(server + "/login")
        page.get_by_label("Adresse e-mail").fill("lucas@recyclerie-du-canal.example")
        page.get_by_label("Mot de passe").fill("fabcom-demo-2026")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")
        page.goto(server + "/m/ressourcerie/o/recyclerie-du-canal/till")
        expect(page.get_by_role("heading", level=1)).to_have_text("Caisse")
        violations = [
            v["id"] for v in Axe().run(page).response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        assert violations == []

        total = page.get_by_role("heading", name=re.compile("Total"))
        for category, weight, price, after in [("vêt", "3", "6", "6,00"), ("15", "12", "25", "31,00")]:
            expect(page.get_by_label("Catégorie")).to_be_focused()
            page.keyboard.type(category)
            page.keyboard.press("Tab")
            page.keyboard.type(weight)
            page.keyboard.press("Tab")
            page.keyboard.type(price)
            page.keyboard.press("Enter")
            expect(total).to_have_text(f"Total : {after}\u00a0€")
        expect(page.get_by_label("Catégorie")).to_be_focused()
        # the phone goes to sleep, the page is loaded again: the sale in progress is still there
        page.reload()
        expect(total).to_have_text("Total : 31,00\u00a0€")
        expect(page.locator(".till-sale tbody tr")).to_have_count(2)
        expect(page.get_by_role("status")).to_have_text("Vente en cours reprise : validez-la ou annulez-la.")
        expect(page.get_by_label("Catégorie")).to_be_focused()

        _tab_to(page, "#search")
        page.keyboard.type("Chaise en bois")
        result = page.locator("#till-items button").first
        expect(result).to_contain_text("Chaise en bois")
        # a phone: the lines are below the search, the total stays in sight (and leads to them)
        summary = page.locator(".till-summary")
        expect(summary).to_have_text("Total : 31,00\u00a0€ · Lignes : 2")
        expect(summary).to_be_in_viewport()
        assert [
            v["id"] for v in Axe().run(page).response["violations"] if v.get("impact") in ("serious", "critical")
        ] == []
        page.keyboard.press("Enter")  # to the first result
        expect(result).to_be_focused()
        page.keyboard.press("Enter")  # into the sale
        expect(page.locator(".till-sale tbody tr")).to_have_count(3)
        expect(page.locator(".till-sale tbody")).to_contain_text("Chaise en bois")

        _tab_to(page, "payment_mode=cash")
        with page.expect_response(lambda r: r.request.method == "POST" and r.status == 204):
            page.keyboard.press("ArrowRight")  # card: kept with the sale in progress at once
        expect(page.locator('input[name="payment_mode"][value="card"]')).to_be_focused()  # nothing swapped
        # the phone goes to sleep again before Validate: the card is still chosen
        page.reload()
        expect(page.locator('input[name="payment_mode"][value="card"]')).to_be_checked()
        expect(page.locator(".till-sale tbody tr")).to_have_count(3)
        _tab_to(page, "payment_mode=card")
        _tab_to(page, "action=validate")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")  # the receipt's header
        receipt = page.locator("article.receipt")
        expect(receipt).to_contain_text("Ticket n°")
        expect(receipt).to_contain_text("Payé par : Carte")
        for label in ("Vêtements", "Mobilier", "Chaise en bois"):
            expect(receipt).to_contain_text(label)
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # one load: the receipt
        browser.close()


def test_the_report_draws_its_charts_under_the_csp(server):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="fr-FR", viewport={"width": 800, "height": 1000}).new_page()
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(server + "/login")
        page.get_by_label("Adresse e-mail").fill("marie@recyclerie-du-canal.example")
        page.get_by_label("Mot de passe").fill("fabcom-demo-2026")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Rapport d’activité").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Rapport d’activité")
        wait_until_true(page, "typeof Chart !== 'undefined' && Chart.getChart('monthly-chart') !== undefined")
        assert page.evaluate("Chart.getChart('monthly-chart').data.datasets.length") == 4
        # each meaning named in the legend, and drawn with its pattern too (not colour alone)
        monthly = "Chart.getChart('monthly-chart')"
        legend = page.evaluate(f"{monthly}.legend.legendItems.map((i) => i.text)")
        assert legend == ["Collecté", "Réemployé", "Recyclé", "Déchet ultime"]
        patterned = page.evaluate(f"{monthly}.data.datasets.map((d) => d.backgroundColor instanceof CanvasPattern)")
        assert patterned == [False, True, True, True]  # collected is solid
        ring = "Chart.getChart('destinations-chart')"
        assert page.evaluate(f"{ring}.legend.legendItems.map((i) => i.text)") == [
            "Vendu (réemploi)",
            "Donné aux partenaires (réemploi)",
            "Recyclé",
            "Déchet ultime",
        ]
        expect(page.locator("#monthly-table tbody tr").first).to_be_visible()  # the chart's table
        assert refused == []
        violations = [
            v["id"] for v in Axe().run(page).response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        assert violations == []
        browser.close()


def test_a_scale_reading_fills_the_weight_and_enter_records_it(server):
    """The seam for a connected scale (hook ``ressourcerie_scale_scripts``): a reading
    dispatched as an event fills the gross weight; the volunteer still presses Enter."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="fr-FR", viewport={"width": 800, "height": 1000}).new_page()
        page.goto(server + "/login")
        page.get_by_label("Adresse e-mail").fill("lucas@recyclerie-du-canal.example")
        page.get_by_label("Mot de passe").fill("fabcom-demo-2026")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")
        page.goto(server + "/m/ressourcerie/o/recyclerie-du-canal/weighing")
        total = page.get_by_role("heading", name=re.compile("Aujourd’hui"))
        shown = total.inner_text()

        expect(page.get_by_label("Catégorie")).to_be_focused()
        page.keyboard.type("15")
        expect(page.locator('script[src*="scale.js"]')).to_have_count(1)
        page.evaluate("document.dispatchEvent(new CustomEvent('ressourcerie:scale-reading', {detail: {kg: 8.4}}))")
        expect(page.get_by_label("Poids brut (kg)")).to_have_value("8,4")
        expect(page.locator("#scale-status")).to_have_text("Lu sur la balance : 8,4 kg")
        page.keyboard.press("Enter")  # still in the category field: the form is sent
        expect(total).not_to_have_text(shown)
        assert kilograms(total.inner_text()) == pytest.approx(kilograms(shown) + 8.4)
        browser.close()


def kilograms(heading: str) -> float:
    """The number in "Aujourd’hui : 1 234,5 kg"."""
    return float(re.sub(r"[^\d,]", "", heading).replace(",", "."))
