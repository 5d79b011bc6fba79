"""The weighing station in a real browser, keyboard only: five weighings, one undone,
the day's total right — against a real ``fabcom serve`` with the ressourcerie module."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fabcom.testing.processes import free_port
from fabcom.testing.services import services_required

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FABCOM = [sys.executable, "-m", "fabcom"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        if services_required():
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    env = {
        **os.environ,
        "FABCOM_VAR_DIR": str(tmp_path_factory.mktemp("weighing")),
        "FABCOM_DATABASE_URL": "",
        "FABCOM_REDIS_URL": "",
        "FABCOM_MODULES": "ressourcerie",
    }
    for args in (["migrate"], ["demo"]):
        done = subprocess.run(FABCOM + args, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr
    port = free_port()
    process = subprocess.Popen(
        [*FABCOM, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_five_weighings_by_keyboard_one_undone(server):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
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
