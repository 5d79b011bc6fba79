"""Keyboard focus after htmx swaps, the inventory's filters after Back, and its width on a
tablet, in a real browser against a real ``fabcom serve`` with the demo data."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from fabcom.testing.browser import demo_login, demo_server, require_chromium

ORG = "/o/recyclerie-du-canal"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("focus-var"), os.environ.get("FABCOM_MODULES", "")) as base:
        yield base


def logged_in(pw, server: str):
    return demo_login(pw, server, {"width": 1280, "height": 900})


def test_moving_a_task_by_keyboard_keeps_the_focus_on_the_board(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = logged_in(pw, server)
        page.goto(server + ORG + "/projects")
        page.locator("main a[href*='/projects/']").first.click()
        move = page.get_by_role("button", name=re.compile("^→")).first
        move.focus()
        page.keyboard.press("Enter")  # the board is swapped: the focused button is gone
        expect(page.locator("#board")).to_be_focused()
        page.keyboard.press("Tab")  # on into the board, not back to the top of the page
        assert page.evaluate("document.getElementById('board').contains(document.activeElement)")
        browser.close()


def test_back_shows_the_filters_of_the_list_shown(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = logged_in(pw, server)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server + ORG + "/items")
        page.get_by_label("Trier par").select_option("title")
        expect(page).to_have_url(re.compile(r"sort=title"))
        page.get_by_label("Visibilité").select_option("public")
        expect(page).to_have_url(re.compile(r"visibility=public"))
        page.go_back()
        expect(page).to_have_url(re.compile(r"sort=title(?!.*visibility=public)"))
        expect(page.get_by_label("Trier par")).to_have_value("title")
        expect(page.get_by_label("Visibilité")).to_have_value("")
        page.go_back()
        expect(page.get_by_label("Trier par")).to_have_value("-updated")
        assert errors == []
        browser.close()


def test_the_inventory_fits_a_tablet_without_scrolling_sideways(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser, page = logged_in(pw, server)
        page.set_viewport_size({"width": 800, "height": 1000})
        page.goto(server + ORG + "/items")
        overflow = page.eval_on_selector("#results .table-wrap", "e => e.scrollWidth - e.clientWidth")
        assert overflow <= 0, f"the list is {overflow} px wider than a tablet"
        browser.close()
