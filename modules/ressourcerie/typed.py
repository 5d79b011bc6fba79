"""Reading the numbers a counter types (the till, the closing, the weighing station, the
lots): « 12,5 » or « 12.5 », a price with its « € ».

Written plainly only, by the rule every number fabcom reads follows
(``fabcom.validation.plain_number``): Python's ``Decimal`` would also read « 1e3 » as a
thousand, and a slip of the finger would count 1 000,00 € in the drawer."""

from __future__ import annotations

from decimal import Decimal

from fabcom.api import N_, ErrorCode, ValidationFailed, plain_number


def typed_number(text: str, field: str) -> Decimal:
    """The number typed in ``field``, or a refusal on that field: « Saisissez un nombre valide. »"""
    cleaned = text.strip().removesuffix("€").strip().replace(",", ".")
    if not plain_number(cleaned):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Enter a valid number."), field)
    return Decimal(cleaned)


def shown_number(value: Decimal, locale: str) -> str:
    """A number put back in a field the way it is typed there: « 20,00 » in French."""
    text = str(value)
    return text.replace(".", ",") if locale == "fr" else text
