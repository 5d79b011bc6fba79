"""How the report's charts show what they count: one colour and one pattern per meaning,
the same in every chart, in its legend and in the printed annual report.

A meaning is what a figure counts: kg collected, re-used (sold, or given to partners),
recycled, or ultimate waste. The monthly series ``recycled`` and the destination
``recycling`` count the same kg, so they are one meaning with one colour.

Not colour alone: each colour keeps a contrast of at least 3:1 with the background the
charts are drawn on (WCAG 2.1 AA for graphics, 1.4.11), segments are separated by a line
of that background, and each meaning has its own pattern, so that a chart reads without
telling colours apart (colour-blind staff, a black-and-white printer); the legends name
every meaning and every chart has its table.
"""

from __future__ import annotations

from dataclasses import dataclass

# The cards (and the printed page) the charts are drawn on; the colours are measured against it.
BACKGROUND = "#ffffff"


@dataclass(frozen=True)
class Style:
    colour: str  # "#rrggbb"
    pattern: str  # a key of PATTERNS: lines of the background colour over the colour


STYLES = {
    "in": Style("#1d5e3a", "solid"),  # collected: the site's green
    # re-use in blues: the whole, and its two destinations (never in the same chart as the whole)
    "reused": Style("#2f6fad", "diagonal"),
    "sale": Style("#0b4f8a", "vertical"),
    "partner_gift": Style("#4b86c5", "back-diagonal"),
    "recycling": Style("#b35900", "cross"),
    "waste": Style("#737373", "horizontal"),
}
# The monthly series whose key differs from the destination counting the same kg.
SAME_AS = {"recycled": "recycling"}

# Stripes for the printed report (WeasyPrint draws CSS gradients); report-charts.js draws
# the same lines on the screen's canvas.
# One position per colour stop: WeasyPrint ignores the two-position form ("#fff 0 1pt").
_STRIPES = f"{BACKGROUND} 0, {BACKGROUND} 1pt, transparent 1pt, transparent 3.5pt"
PATTERNS = {
    "solid": "none",
    "diagonal": f"repeating-linear-gradient(-45deg, {_STRIPES})",  # /
    "back-diagonal": f"repeating-linear-gradient(45deg, {_STRIPES})",  # \
    "vertical": f"repeating-linear-gradient(90deg, {_STRIPES})",
    "horizontal": f"repeating-linear-gradient(0deg, {_STRIPES})",
    "cross": f"repeating-linear-gradient(45deg, {_STRIPES}), repeating-linear-gradient(-45deg, {_STRIPES})",
}


def style(key: str) -> Style:
    """The style of a monthly series (``in``, ``reused``, ``recycled``, ``waste``) or of a
    destination (``sale``, ``partner_gift``, ``recycling``, ``waste``)."""
    return STYLES[SAME_AS.get(key, key)]


def css(key: str) -> str:
    """The style of ``key`` as a CSS declaration, for the printed report's bars and legend."""
    found = style(key)
    return f"background-color: {found.colour}; background-image: {PATTERNS[found.pattern]}"
