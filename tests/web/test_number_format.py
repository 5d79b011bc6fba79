"""``number``: the fast path for small whole numbers writes what babel's pattern writes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel import Locale

from fabcom.web.templating import _NUMBER_PATTERN, format_month, format_number, format_quantity

VALUES = [0, 1, 7, 999, "4", "4.50", 3.0, Decimal("0.000"), Decimal("3.000"), Decimal("999.0"), Decimal("1E+2")]
VALUES += [Decimal("1000"), Decimal("12345.5"), Decimal("2.5"), Decimal("-3"), Decimal("-0"), Decimal("0.0001")]


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_format_number_writes_what_the_babel_pattern_writes(locale):
    for value in VALUES:
        assert format_number(value, locale) == _NUMBER_PATTERN.apply(Decimal(value), Locale.parse(locale)), value


def test_format_number_of_nothing_is_empty():
    assert format_number(None, "fr") == ""
    assert format_number("", "en") == ""
    assert format_number(Decimal("12345.5"), "fr") == "12\u202f345,5"


def test_quantity_agrees_its_unit_in_french_and_english():
    assert format_quantity(Decimal("1"), "piece", "fr") == "1 pièce"
    assert format_quantity(Decimal("0"), "piece", "fr") == "0 pièce"  # French: singular below 2
    assert format_quantity(Decimal("1.5"), "piece", "fr") == "1,5 pièces"
    assert format_quantity(Decimal("0"), "piece", "en") == "0 pieces"
    assert format_quantity(Decimal("1"), "set", "en") == "1 set"
    assert format_quantity(Decimal("2"), "m2", "en") == "2 m²"
    assert format_quantity(Decimal("3"), "no-such-unit", "fr") == "3"


def test_a_signed_quantity_agrees_its_unit_like_its_size():
    assert format_quantity(Decimal("-40"), "piece", "fr") == "-40 pièces"
    assert format_quantity(Decimal("-1"), "piece", "fr") == "-1 pièce"
    assert format_quantity(Decimal("-1"), "set", "en") == "-1 set"
    assert format_quantity(Decimal("-0.6"), "kg", "fr") == "-0,6 kg"


@pytest.mark.parametrize(("locale", "shown"), [("fr", "déc. 2026"), ("en", "Dec 2026")])
def test_a_report_month_is_written_in_words(locale, shown):
    assert format_month("2026-12", locale) == shown
    assert format_month("not a month", locale) == "not a month"
