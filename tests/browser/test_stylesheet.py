"""The stylesheet as chromium applies it: combinations of classes the templates use."""

from __future__ import annotations

from pathlib import Path

from fabcom.testing.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

STYLESHEET = Path(__file__).resolve().parents[2] / "fabcom" / "static" / "fabcom.css"


def test_a_plain_list_drawn_as_a_card_keeps_the_card_padding():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        # The projects list is a `plain card`; a bare `plain` list stays flush with its box.
        page.set_content(
            '<section id="card" class="card">Stock</section>'
            '<ul id="projects" class="plain card"><li>Atelier</li></ul>'
            '<ul id="bare" class="plain"><li>Atelier</li></ul>'
        )
        page.add_style_tag(content=STYLESHEET.read_text())

        def style(selector: str, name: str) -> str:
            return page.eval_on_selector(selector, f"e => getComputedStyle(e).{name}")

        card = {name: style("#card", name) for name in ("padding", "marginBottom")}
        projects = {name: style("#projects", name) for name in ("padding", "marginBottom", "listStyleType")}
        bare = {name: style("#bare", name) for name in ("paddingLeft", "marginBottom", "listStyleType")}
        browser.close()
    assert card["padding"] != "0px"
    assert projects == {**card, "listStyleType": "none"}
    assert bare == {"paddingLeft": "0px", "marginBottom": "0px", "listStyleType": "none"}
