"""The names shown for the module's codes (English message ids, translated when shown)."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path

import fabcom
from fabcom.api import N_, gettext

DESTINATIONS = {
    "sale": N_("Sold (re-use)"),
    "partner_gift": N_("Given to partners (re-use)"),
    # The same word as the monthly series "recycled" (report_views.SERIES): one meaning,
    # one name in the charts, the tables and the exports.
    "recycling": N_("Recycled"),
    "waste": N_("Ultimate waste"),
}
PAYMENT_MODES = {
    "cash": N_("Cash"),
    "card": N_("Card"),
    "cheque": N_("Cheque"),
    "local_currency": N_("Local currency"),
    "other": N_("Other"),
}
# The shared taxonomy names the REP channels (filières) in both languages.
TAXONOMY = Path(fabcom.__file__).resolve().parent / "inventory" / "data" / "taxonomy.json"


@cache
def _channels() -> dict[str, dict[str, str]]:
    return json.loads(TAXONOMY.read_text(encoding="utf-8"))["rep_channels"]


def channel_label(code: str, locale: str) -> str:
    """``DEA — Éléments d'ameublement``; kg of a category without channel are "none"."""
    if code == "none":
        return gettext(locale, N_("No REP channel"))
    if code.startswith("buyer:"):
        return gettext(locale, N_("Buyer: {name}"), name=code[6:])
    names = _channels().get(code)
    return f"{code} — {names['en' if locale == 'en' else 'fr']}" if names else code


def channel_key(code: str) -> tuple[int, str]:
    """Where a channel stands wherever channels are listed (the report's table, the exports,
    the API): the REP channels by code, then the buyers by name, then « No REP channel »
    last, rather than sorted among the channels by its code "none"."""
    rank = 2 if code == "none" else 1 if code.startswith("buyer:") else 0
    return rank, code.casefold()


def by_channel(totals: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    """``totals`` (kg per channel code) in the order of ``channel_key``."""
    return sorted(totals.items(), key=lambda pair: channel_key(pair[0]))


def destination_label(code: str, locale: str) -> str:
    return gettext(locale, DESTINATIONS[code]) if code in DESTINATIONS else code


def payment_label(code: str, locale: str) -> str:
    return gettext(locale, PAYMENT_MODES[code]) if code in PAYMENT_MODES else code
