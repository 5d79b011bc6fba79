"""Bookings walked through in a real browser (Debian's chromium driven by Playwright)
against a real ``fabcom serve`` with the bookings module and the demo data: a member
books a machine slot from its resource page, finds it in "my bookings", a second
overlapping booking is refused with the translated message, and the staff see it on
the desk. Every page passes axe with no serious or critical violation, and no request
leaves the instance's origin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from fabcom.testing.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

PASSWORD = "fabcom-demo-2026"
MEMBER = "lea@example.org"
STAFF = "julie@fablab-des-pentes.example"
PARIS = ZoneInfo("Europe/Paris")
OPEN_DAYS = {1, 2, 3, 4, 5}  # the demo machines open Tuesday to Saturday, 10:00-19:00
ADD_MEMBER = ["user", "add", MEMBER, "--org", "fablab-des-pentes", "--role", "member", "--name", "Léa Martin"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    setup = [([*ADD_MEMBER, "--password-stdin"], PASSWORD + "\n")]
    with demo_server(tmp_path_factory.mktemp("bookings-browser"), "bookings", setup) as base:
        yield base


def next_open_day() -> dt.date:
    """An open day at least two days ahead (and within the desk's two weeks)."""
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=2)
    while day.weekday() not in OPEN_DAYS:
        day += dt.timedelta(days=1)
    return day


def test_a_member_books_a_machine_and_the_staff_see_it(server):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    axe = Axe()
    audited: dict[str, list[str]] = {}
    requests: list[str] = []

    def audit(page, name: str) -> None:
        results = axe.run(page)
        audited[name] = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]

    def log_in(page, email: str) -> None:
        page.goto(server + "/login")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Fablab des Pentes")

    day = next_open_day()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()

        # the member opens the bookings from the menu, then a machine's page
        log_in(page, MEMBER)
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Réservations").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Réservations")
        audit(page, "desk (member)")
        machine = page.locator("#bookable-h + ul").get_by_role("link").first
        title = machine.inner_text()
        machine.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        resource_url = page.url
        audit(page, "resource")

        # books a slot
        page.locator("#day").fill(day.isoformat())
        page.locator("#start").fill("10:30")
        page.locator("#end").fill("11:30")
        page.locator("#note").fill("Découpe du contreplaqué")
        page.get_by_role("button", name="Réserver", exact=True).click()
        expect(page.get_by_role("status").first).to_contain_text("Réservé.")
        booked = page.locator("#booked-h + ul")
        expect(booked).to_contain_text("10:30")
        audit(page, "resource (booked)")

        # finds it in "my bookings"
        page.get_by_role("link", name="Réservations", exact=True).first.click()
        page.get_by_role("link", name="Mes réservations").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Mes réservations")
        expect(page.locator("main")).to_contain_text(title)
        expect(page.locator("main")).to_contain_text("Confirmée")
        audit(page, "mine")

        # a second, overlapping booking is refused with the translated message
        page.goto(resource_url)
        page.locator("#day").fill(day.isoformat())
        page.locator("#start").fill("11:00")
        page.locator("#end").fill("12:00")
        page.get_by_role("button", name="Réserver", exact=True).click()
        expect(page.get_by_role("alert").first).to_have_text(
            "Ce créneau est déjà réservé. Vous pouvez rejoindre la liste d’attente."
        )
        expect(page.locator("#start")).to_have_value("11:00")  # what was typed is kept
        expect(page.locator("#start")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#start-error")).to_have_text(
            "Ce créneau est déjà réservé. Vous pouvez rejoindre la liste d’attente."
        )
        audit(page, "resource (refused)")
        # as the message offers, the member joins the waiting list for that slot
        page.get_by_role("button", name="Rejoindre la liste d’attente").click()
        expect(page.get_by_role("status").first).to_contain_text("Vous êtes sur la liste d’attente")
        page.get_by_role("button", name="Se déconnecter").click()

        # the staff see it on the desk, with who booked it
        log_in(page, STAFF)
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Réservations").click()
        upcoming = page.get_by_role("table")
        row = upcoming.get_by_role("row").filter(has_text="Léa Martin")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(title)
        expect(row).to_contain_text("Confirmée")
        audit(page, "desk (staff)")
        browser.close()

    assert {name: bad for name, bad in audited.items() if bad} == {}
    assert len(audited) == 6
    assert [url for url in requests if not url.startswith(server)] == []
