"""Translations: French and English from Babel catalogues (``fabcom/locale/*/LC_MESSAGES/*.po``).

Message ids are English. Code marks a string for extraction with ``N_`` where it is
defined and translates it with ``gettext(locale, ...)`` where it is shown, so one
service error can be answered in French to one user and in English to another.
The ``.po`` files are read directly at start-up (no compile step to forget).
"""

from __future__ import annotations

import io
import unicodedata
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
LOCALE_DIR = Path(__file__).parent / "locale"
_extra_dirs: list[Path] = []


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet."""
    return message


def add_catalog_dir(path: Path) -> None:
    """Let a module contribute its own catalogues (merged over the core's)."""
    if path not in _extra_dirs:
        _extra_dirs.append(path)
        translations.cache_clear()


def _load(path: Path, locale: str) -> Translations | None:
    po = path / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return None
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


@cache
def translations(locale: str) -> NullTranslations:
    """The merged catalogue for ``locale`` (English message ids fall through untranslated)."""
    merged: NullTranslations = NullTranslations()
    for directory in [LOCALE_DIR, *_extra_dirs]:
        loaded = _load(directory, locale)
        if loaded is None:
            continue
        if isinstance(merged, Translations):
            merged.merge(loaded)
        else:
            merged = loaded
    return merged


def negotiate_locale(accept_language: str | None, preferred: str | None = None) -> str:
    """The user's own setting wins, then the browser's ``Accept-Language``, then French."""
    if preferred in LOCALES:
        return preferred
    return accepted_locale(accept_language) or DEFAULT_LOCALE


def accepted_locale(accept_language: str | None) -> str | None:
    """The language of ``Accept-Language`` (by its weights) that fabcom speaks, if any."""
    weighted = []
    for part in (accept_language or "").split(","):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        weighted.append((weight, lang.split("-")[0].lower()))
    for _, lang in sorted(weighted, key=lambda pair: -pair[0]):
        if lang in LOCALES:
            return lang
    return None


def gettext(locale: str, message: str, **params: object) -> str:
    """Translate ``message`` into ``locale`` and fill its ``{placeholders}``."""
    text = translations(locale).gettext(message)
    return text.format(**params) if params else text


def ngettext(locale: str, singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(locale).ngettext(singular, plural, n)
    return text.format(n=n, **params)


def fold(text: str) -> str:
    """``text`` as the network search compares it: accents dropped, case folded (« Théière »
    and « THEIERE » are both « theiere »); letters without accents, in any script, stay."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
