"""Finding a category from what the counter typed (the weighing station and the till)."""

from __future__ import annotations

import unicodedata

from fabcom.api import N_, Category, ErrorCode, FieldError, ValidationFailed


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))


async def resolve_category(typed: str, locale: str = "fr") -> Category:
    """A category from what the counter typed: its code (``C_15`` or ``15``) or the first
    letters of its French or English name. Ambiguous or unknown input is refused."""
    typed = typed.strip()
    if not typed:
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("This field is required."), "category")
    code = f"C_{int(typed):02d}" if typed.isdigit() else typed.upper()
    exact = await Category.get_or_none(code=code)
    if exact is not None:
        return exact
    wanted = _plain(typed)
    leaves = await Category.filter(code__startswith="C_")
    matches = [c for c in leaves if _plain(c.label_fr).startswith(wanted) or _plain(c.label_en).startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValidationFailed(
            [
                FieldError(
                    ErrorCode.INVALID,
                    N_("Several categories start like this: {names}."),
                    "category",
                    {"names": ", ".join(c.label(locale) for c in matches[:5])},
                )
            ]
        )
    raise ValidationFailed.single(ErrorCode.INVALID, N_("No category starts like this."), "category")
