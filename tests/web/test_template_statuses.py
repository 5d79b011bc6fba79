"""The item statuses have one source of truth, the code (``ItemStatus``, ``OUT_OF_STOCK``):
the core's templates name them through the globals, never as strings of their own."""

from __future__ import annotations

import re

from fabcom.web.templating import TEMPLATES_DIR, environment, labels

# "out_of_stock" anywhere, or a comparison with a stored status written as a string.
LITERAL = re.compile(r"""["']out_of_stock["']|[=!]=\s*["'](available|reserved|unavailable|archived)["']""")


def test_no_core_template_spells_an_item_status_itself():
    found = {
        path.name: LITERAL.findall(path.read_text(encoding="utf-8"))
        for path in sorted(TEMPLATES_DIR.glob("*.html"))
        if LITERAL.search(path.read_text(encoding="utf-8"))
    }
    assert found == {}


def test_the_status_names_are_keyed_by_the_code_s_values():
    assert labels("fr").STATUS == {
        "available": "Disponible",
        "reserved": "Réservé",
        "unavailable": "Indisponible",
        "archived": "Archivé",
        "out_of_stock": "Épuisé",
    }
    assert environment("fr").globals["OUT_OF_STOCK"] == "out_of_stock"
