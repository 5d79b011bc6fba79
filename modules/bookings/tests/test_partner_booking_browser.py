"""Booking for a partner's member, walked through in a real browser (Debian's chromium
driven by Playwright) against a real ``fabcom serve`` with the demo data and a remote
partner whose member consented (received through the mirror's ingest path): the staff
type part of the name, the htmx search shows the member, they book a machine for them,
see them on the desk, and an overlapping booking is refused with the translated message.
Every page passes axe with no serious or critical violation, and no request leaves the
instance's origin."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fabcom.testing.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

PASSWORD = "fabcom-demo-2026"
STAFF = "julie@fablab-des-pentes.example"
PARIS = ZoneInfo("Europe/Paris")
OPEN_DAYS = {1, 2, 3, 4, 5}  # the demo machines open Tuesday to Saturday, 10:00-19:00

# Run against the server's database: a remote partner of the fablab and one of its
# members' profiles, received as a partner's Create would be.
SEED = """
import datetime as dt
from fabcom import clock
from fabcom.cli import run_with_db, settings_or_exit
from fabcom.federation import mirror, vocab  # noqa: F401 - registers the mirror's handlers
from fabcom.federation.handlers import Sender, dispatch
from fabcom.federation.models import Audience
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization

ACTOR = "https://atelier.example/ap/o/atelier"


async def seed():
    fablab = await Organization.get(slug="fablab-des-pentes")
    remote = await Organization.create(
        slug="atelier-remote", name="Atelier Partagé", is_local=False, remote_uri=ACTOR
    )
    await Partnership.create(organization=fablab, partner=remote, status=PartnershipStatus.ACCEPTED)
    obj = vocab.member_profile(
        token="t-camille", actor=ACTOR, display_name="Camille Martin", organization_name="Atelier Partagé",
        valid_from=clock.today() - dt.timedelta(days=30), valid_until=clock.today() + dt.timedelta(days=300),
        updated=clock.now(), base="https://atelier.example",
    )
    activity = vocab.activity(
        "Create", actor=ACTOR, obj=obj, audience=Audience.PARTNERS, published=clock.now(),
        base="https://atelier.example",
    )
    await dispatch(activity, Sender(actor_uri=ACTOR, organization_id=remote.id))


run_with_db(settings_or_exit(), seed)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    var_dir: Path = tmp_path_factory.mktemp("partner-booking-browser")
    with demo_server(var_dir, "bookings") as base:
        env = {**os.environ, "FABCOM_VAR_DIR": str(var_dir), "FABCOM_DATABASE_URL": "", "FABCOM_MODULES": "bookings"}
        done = subprocess.run(
            [sys.executable, "-c", SEED], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        yield base


def next_open_day() -> dt.date:
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=2)
    while day.weekday() not in OPEN_DAYS:
        day += dt.timedelta(days=1)
    return day


def test_the_staff_book_a_machine_for_a_partners_member(server):
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

    day = next_open_day()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()

        page.goto(server + "/login")
        page.get_by_label("Adresse e-mail").fill(STAFF)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Fablab des Pentes")
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Réservations").click()
        section = page.locator(
            "section", has=page.get_by_role("heading", name="Réserver pour un membre d’une structure partenaire")
        )
        expect(section).to_be_visible()
        audit(page, "desk")

        # typing part of the name shows the member (htmx), with organization and membership end
        section.get_by_label("Nom du membre").press_sequentially("cami", delay=50)
        member = section.get_by_role("radio", name="Camille Martin")
        expect(member).to_be_visible()
        expect(section.locator("#partner-members")).to_contain_text("Atelier Partagé")
        expect(member).to_be_checked()  # the only match
        audit(page, "desk (search results)")

        # the staff book the first machine open to partners' members for her
        machine = section.get_by_label("Ressource").locator("option").first.inner_text()
        section.get_by_label("Jour").fill(day.isoformat())
        section.get_by_label("Début").fill("14:00")
        section.get_by_label("Fin").fill("15:00")
        section.get_by_role("button", name="Réserver pour ce membre").click()
        expect(page.get_by_role("status").first).to_contain_text("Réservé pour le membre du partenaire.")
        row = page.get_by_role("table").get_by_role("row").filter(has_text="Camille Martin")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Atelier Partagé")
        expect(row).to_contain_text(machine.strip())
        audit(page, "desk (booked)")

        # the same slot again is refused, with the message, and the form kept
        section.get_by_label("Nom du membre").press_sequentially("cami", delay=50)
        expect(section.get_by_role("radio", name="Camille Martin")).to_be_checked()
        section.get_by_label("Jour").fill(day.isoformat())
        section.get_by_label("Début").fill("14:30")
        section.get_by_label("Fin").fill("15:30")
        section.get_by_role("button", name="Réserver pour ce membre").click()
        expect(page.get_by_role("alert").first).to_have_text(
            "Ce créneau est déjà réservé : choisissez un autre horaire."  # partners' members have no waiting list
        )
        expect(section.get_by_label("Début")).to_have_value("14:30")
        audit(page, "desk (refused)")
        browser.close()

    assert {name: bad for name, bad in audited.items() if bad} == {}
    assert len(audited) == 4
    assert [url for url in requests if not url.startswith(server)] == []


def test_the_desks_pick_lists_put_each_radio_left_of_its_label_and_the_message_in_view(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900}).new_page()
        page.goto(server + "/login")
        page.get_by_label("Adresse e-mail").fill(STAFF)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Réservations").click()
        section = page.locator("section", has=page.get_by_role("heading", name="Rendre un objet réservable"))
        radios = section.get_by_role("radio")
        expect(radios.first).to_be_visible()
        section.screenshot(path=tmp_path / "make-bookable.png")  # to look at

        # each radio is a small box left of its text, on the text's first line
        for index in range(min(radios.count(), 3)):
            radio = radios.nth(index).bounding_box()
            text = section.locator(".choices li label span").nth(index).bounding_box()
            assert radio is not None
            assert text is not None
            assert radio["width"] < 30
            assert radio["x"] + radio["width"] <= text["x"]
            assert text["y"] <= radio["y"] + radio["height"] / 2 <= text["y"] + 30

        # making one bookable lands where the message is
        radios.first.check()
        section.get_by_role("button", name="Rendre réservable").click()
        message = page.get_by_role("status").filter(has_text="L’objet peut maintenant être réservé.")
        expect(message).to_be_in_viewport()
        browser.close()
