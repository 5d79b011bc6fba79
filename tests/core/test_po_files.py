"""The translation catalogues parse cleanly: a merge that drops a msgstr or glues two entries
together makes babel skip messages with only a warning on the server's console."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parents[2] / "fabcom" / "locale"


@pytest.mark.parametrize(
    "path",
    [*sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")), LOCALE_DIR / "messages.pot"],
    ids=lambda p: p.parts[-3] if p.suffix == ".po" else "template",
)
def test_every_catalogue_parses_without_a_problem(path: Path) -> None:
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=path.parts[-3] if path.suffix == ".po" else None, abort_invalid=True)
    assert len(catalog) > 100
