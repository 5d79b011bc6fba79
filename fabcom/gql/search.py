"""Full-text search over items: SQLite FTS5 or a PostgreSQL tsvector with a GIN index
(tables and triggers in migration 0003_search). The user's text is reduced to word
tokens, each matched as a prefix; all tokens must match."""

from __future__ import annotations

import re
from typing import Any

from tortoise.expressions import RawSQL
from tortoise.models import Model
from tortoise.queryset import QuerySet

from fabcom.i18n import fold

MAX_TOKENS = 8
_WORD = re.compile(r"\w+", re.UNICODE)

# Accents do not count: "velo" finds "vélo" (people type without them, on a tablet
# especially). SQLite's index folds them itself (``remove_diacritics 2``); PostgreSQL's
# folds with ``translate()`` over these same letters (migration 0015_search_accents, which
# keeps its own copy: a migration must not change when this file does).
ACCENTED = "àáâãäåāăąçćčďèéêëēėęěìíîïīįñńňòóôõöōőŕřśšşťùúûüūůűųýÿźżž"
UNACCENTED = "aaaaaaaaacccdeeeeeeeeiiiiiinnnooooooorrssstuuuuuuuuyyzzz"
_FOLD = str.maketrans(ACCENTED, UNACCENTED)


# PostgreSQL's lower() folds ASCII letters only in a database of the C locale:
# ``folded_sql`` folds the accented capitals by name, with the small letters.
_SQL_ACCENTED = ACCENTED + ACCENTED.upper()
_SQL_UNACCENTED = UNACCENTED + UNACCENTED


def search_tokens(text: str) -> list[str]:
    return [t.lower().translate(_FOLD) for t in _WORD.findall(text)][:MAX_TOKENS]


def _literal(value: str) -> str:
    """A SQL string literal. The tokens hold only word characters; quotes are doubled anyway."""
    return "'" + value.replace("'", "''").replace("\x00", "") + "'"


def folded_sql(model: type[Model], column: str) -> str:
    """SQL of ``column`` of ``model``'s table in lower case and without accents (« Élodie »
    reads « elodie »), to compare it in SQL with a text folded by ``fabcom.i18n.fold``, as
    people type it: on SQLite, that very function (``fabcom_fold``, see ``fabcom.db``); on
    PostgreSQL, the letters of ``ACCENTED`` and their capitals, as the item search."""
    sql = f'"{model._meta.db_table}"."{column}"'
    if model._meta.db.capabilities.dialect == "sqlite":
        return f"fabcom_fold({sql})"
    return f"translate(lower({sql}), {_literal(_SQL_ACCENTED)}, {_literal(_SQL_UNACCENTED)})"


def rank_by_title(queryset: QuerySet[Any], text: str) -> QuerySet[Any]:
    """``queryset`` (of items) annotated with ``title_rank``: 0 for a title that is ``text``,
    1 for one that starts with it, 2 for the others, accents and case ignored as the search
    ignores them. Ordered by it first, a search for « velo » lists « Vélo de ville » before
    « Biclou (vélo cargo) », and keeps it when the list is cut."""
    wanted = fold(" ".join(text.split()))
    title, literal = folded_sql(queryset.model, "title"), _literal(wanted)
    rank = f"CASE WHEN {title} = {literal} THEN 0 WHEN substr({title}, 1, {len(wanted)}) = {literal} THEN 1 ELSE 2 END"
    return queryset.annotate(title_rank=RawSQL(rank))


# What a text with no word searches for: nothing (« ??? » is no request to list everything).
MATCHES_NOTHING = RawSQL("(1 = 0)")


def search_condition(text: str, is_sqlite: bool) -> RawSQL | None:
    """A SQL condition on ``fabcom_item.id`` matching ``text``: None when ``text`` is blank
    (nothing typed: no search), ``MATCHES_NOTHING`` when it holds no word (« ??? », « -- »)."""
    if not text.strip():
        return None
    tokens = search_tokens(text)
    if not tokens:
        return MATCHES_NOTHING
    if is_sqlite:
        match = " ".join(f'"{t}"*' for t in tokens)
        return RawSQL(
            f'"fabcom_item"."id" IN (SELECT rowid FROM fabcom_item_search WHERE fabcom_item_search MATCH {_literal(match)})'  # noqa: S608 - word tokens, quoted
        )
    query = " & ".join(f"{t}:*" for t in tokens)
    sql = f'"fabcom_item"."id" IN (SELECT item_id FROM fabcom_item_search WHERE document @@ to_tsquery(\'simple\', {_literal(query)}))'  # noqa: S608 - word tokens, quoted
    return RawSQL(sql)


def matching_items(queryset: QuerySet[Any], text: str) -> QuerySet[Any]:
    """``queryset`` (of items) narrowed to those matching ``text``: every word, as a prefix,
    accents ignored, in the title, description or category — what the API's
    ``filter.search``, the inventory page and the till all search with. Unchanged when
    ``text`` is blank; empty when it holds no word (only punctuation)."""
    condition = search_condition(text, queryset.model._meta.db.capabilities.dialect == "sqlite")
    return queryset if condition is None else queryset.annotate(_matches=condition).filter(_matches=True)


_ITEM_NUMBER = re.compile(r"^(?:n[°o]\.?|#)?\s*(\d{1,9})$", re.IGNORECASE)


def item_number(text: str) -> int | None:
    """The item number a person typed (« 322 », « n° 322 », « #322 »: what the labels
    print), or None for words: staff's searches look an item up by it."""
    found = _ITEM_NUMBER.match(text.strip())
    return int(found.group(1)) if found else None


def sharing_condition(mode: str, is_sqlite: bool) -> RawSQL:
    """Items whose JSON list ``sharing_modes`` holds ``mode`` (an enum value, never user text)."""
    column = '"fabcom_item"."sharing_modes"' if is_sqlite else '"fabcom_item"."sharing_modes"::text'
    pattern = '%"' + mode + '"%'
    return RawSQL(f"{column} LIKE {_literal(pattern)}")
