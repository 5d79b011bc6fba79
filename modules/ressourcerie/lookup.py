"""Finding a category from what the counter typed (the weighing station and the till)."""

from __future__ import annotations

import unicodedata

from fabcom.api import N_, Category, ErrorCode, FieldError, ValidationFailed
from modules.ressourcerie.services import stream_refusal


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))


async def _refuse_parent(category: Category) -> None:
    """Weighings are on streams (a category without sub-categories), as the services say."""
    children = await Category.filter(parent_id=category.id).order_by("code")
    if children:
        raise ValidationFailed([stream_refusal(category, children, "category")])


async def resolve_category(typed: str, locale: str = "fr") -> Category:
    """A category from what the counter typed: its code (``C_15`` or ``15``) or the first
    letters of its French or English name. Ambiguous or unknown input is refused, and so is
    a category that has sub-categories (« Électroménager »): the message names them."""
    typed = typed.strip()
    if not typed:
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("This field is required."), "category")
    code = f"C_{int(typed):02d}" if typed.isdigit() else typed.upper()
    exact = await Category.get_or_none(code=code)
    if exact is not None:
        await _refuse_parent(exact)
        return exact
    wanted = _plain(typed)
    leaves = await Category.filter(code__startswith="C_")
    matches = [c for c in leaves if _plain(c.label_fr).startswith(wanted) or _plain(c.label_en).startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        # A parent named in full (« appliances », « Électroménager »): say which streams it holds.
        for parent in await Category.filter(children__id__isnull=False).distinct():
            if wanted in (_plain(parent.code), _plain(parent.label_fr), _plain(parent.label_en)):
                await _refuse_parent(parent)
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
