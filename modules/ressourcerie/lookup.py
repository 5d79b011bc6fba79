"""Finding a category from what the counter typed (the weighing station and the till)."""

from __future__ import annotations

import re

from fabcom.api import (
    N_,
    Category,
    ErrorCode,
    FieldError,
    ValidationFailed,
    fold,  # as the network search compares names
)

# The parent refused, in the counter's words: one weighs at the weighing station, one
# chooses at the till (the API names the codes, ``stream_refusal``).
_PARENT_REFUSALS = {
    "weigh": N_("{category_en} has sub-categories: weigh on one of them ({streams_en})."),
    "choose": N_("{category_en} has sub-categories: choose one of them ({streams_en})."),
}


def shown_code(category: Category) -> str:
    """A category's code as the counter types it and the list shows it: « 15 » for ``C_15``."""
    return category.code.removeprefix("C_")


def _shown(categories: list[Category], locale: str) -> str:
    names = [f"{shown_code(c)} {c.label(locale)}" for c in categories[:6]]
    return ", ".join(names) + (", …" if len(categories) > 6 else "")


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"\W+", fold(text)) if word]


async def _refuse_parent(category: Category, verb: str) -> None:
    """Weighings and sales are on streams (a category without sub-categories), as the
    services say; the message names them as the page shows them (« 01 Gros électroménager »)."""
    children = await Category.filter(parent_id=category.id).order_by("code")
    if children:
        raise ValidationFailed.single(
            ErrorCode.INVALID,
            _PARENT_REFUSALS[verb],
            "category",
            category_fr=category.label_fr,
            category_en=category.label_en,
            streams_fr=_shown(children, "fr"),
            streams_en=_shown(children, "en"),
        )


async def resolve_category(typed: str, locale: str = "fr", *, verb: str = "weigh") -> Category:
    """A category from what the counter typed: its code (``C_15`` or ``15``), the first
    letters of its French or English name, or else the first letters of words inside it
    (« élec » finds « Petit électroménager »), accents and case ignored. Ambiguous or
    unknown input is refused, and so is a category that has sub-categories
    (« Électroménager »): the message names them. ``verb``: ``"weigh"`` or ``"choose"``."""
    typed = typed.strip()
    if not typed:
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("This field is required."), "category")
    code = f"C_{int(typed):02d}" if typed.isdigit() else typed.upper()
    exact = await Category.get_or_none(code=code)
    if exact is not None:
        await _refuse_parent(exact, verb)
        return exact
    wanted = fold(typed)
    leaves = await Category.filter(code__startswith="C_").order_by("code")
    matches = [c for c in leaves if fold(c.label_fr).startswith(wanted) or fold(c.label_en).startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        # A parent named in full (« appliances », « Électroménager »): say which streams it holds.
        for parent in await Category.filter(children__id__isnull=False).distinct():
            if wanted in (fold(parent.code), fold(parent.label_fr), fold(parent.label_en)):
                await _refuse_parent(parent, verb)
        # Then words inside the names: each word typed starts a word of the name.
        typed_words = _words(typed)
        matches = [
            c
            for c in leaves
            if typed_words
            and any(
                all(any(word.startswith(t) for word in _words(label)) for t in typed_words)
                for label in (c.label_fr, c.label_en)
            )
        ]
        if len(matches) == 1:
            return matches[0]
    if matches:
        raise ValidationFailed(
            [
                FieldError(
                    ErrorCode.INVALID,
                    N_("Several categories match: {names}. Type the number of the one you mean."),
                    "category",
                    {"names": _shown(matches, locale)},
                )
            ]
        )
    raise ValidationFailed.single(
        ErrorCode.INVALID, N_("No category matches: type its number or a word of its name."), "category"
    )
