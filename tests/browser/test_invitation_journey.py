"""Accepting an invitation in a real browser: an admin invites an address from the
members page, the embedded job runner e-mails the link (to a local SMTP sink), the
newcomer opens it, creates an account and lands on the organization's dashboard; the
pages pass axe and no request leaves the instance's origin."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator

import pytest

from fabcom.testing.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium
from fabcom.testing.smtp import SmtpSink

PASSWORD = "fabcom-demo-2026"
ADMIN = "marie@recyclerie-du-canal.example"
FABCOM = [sys.executable, "-m", "fabcom"]


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as smtp:
        yield smtp


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink) -> Iterator[str]:
    require_chromium()
    smtp = {"FABCOM_SMTP_HOST": "127.0.0.1", "FABCOM_SMTP_PORT": str(sink.port), "FABCOM_SMTP_TLS": "none"}
    with demo_server(tmp_path_factory.mktemp("invitation-var"), os.environ.get("FABCOM_MODULES", ""), env=smtp) as base:
        yield base


def _wait_for_mail(sink: SmtpSink, to: str, limit_s: float = 30) -> str:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        for message in sink.messages:
            if message["To"] == to:
                match = re.search(r"https?://\S+(/invitations/\S+)", message.get_content())
                assert match is not None
                return match.group(1)
        time.sleep(0.2)
    pytest.fail(f"no invitation e-mail to {to} within {limit_s} s")


def test_an_invited_person_creates_an_account_and_joins(server, sink):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    axe = Axe()
    requests: list[str] = []
    audited: dict[str, list[str]] = {}

    def audit(page, name: str) -> None:
        results = axe.run(page)
        audited[name] = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        admin_context = browser.new_context(locale="fr-FR")
        admin_context.on("request", lambda request: requests.append(request.url))
        page = admin_context.new_page()
        page.goto(server + "/login")
        page.get_by_label("Adresse e-mail").fill(ADMIN)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")
        page.goto(server + "/o/recyclerie-du-canal/members")
        invite = page.locator("#invite-form")
        invite.get_by_label("Adresse e-mail").fill("nour@example.org")
        invite.get_by_label("Rôle").select_option("volunteer")
        invite.get_by_role("button", name="Envoyer l’invitation").click()
        expect(page.get_by_role("status").first).to_contain_text("Invitation envoyée à nour@example.org.")
        expect(page.locator("#invitations")).to_contain_text("nour@example.org")
        audit(page, "member_list with an invitation")

        link = _wait_for_mail(sink, "nour@example.org")
        newcomer = browser.new_context(locale="fr-FR").new_page()
        newcomer.on("request", lambda request: requests.append(request.url))
        newcomer.goto(server + link)
        expect(newcomer.locator("#invitation-what")).to_have_text(
            "Vous êtes invité·e à rejoindre La Recyclerie du Canal comme Bénévole."
        )
        audit(newcomer, "invitation")
        newcomer.get_by_label("Votre nom").fill("Nour")
        newcomer.locator("#password").fill("une phrase de passe assez longue")
        newcomer.locator("#password_again").fill("une phrase de passe assez longue")
        newcomer.get_by_role("button", name="Créer mon compte et rejoindre").click()
        expect(newcomer.get_by_role("heading", level=1)).to_have_text("La Recyclerie du Canal")
        expect(newcomer.get_by_role("status").first).to_contain_text("Bienvenue à La Recyclerie du Canal !")

        newcomer.goto(server + link)  # the link worked once
        expect(newcomer.locator("#invitation-invalid")).to_contain_text("Ce lien d’invitation n’est pas valable")
        page.reload()
        expect(page.locator("#invitations")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("Nour")
        browser.close()

    assert audited == {name: [] for name in audited}
    assert [url for url in requests if not url.startswith(server)] == []
