"""Strawberry's ``DateTime``, ``Date`` and ``Decimal`` scalars, refusing values no one means.

A year such as 0001 or 9999 parses, then overflows where a service converts it to UTC or
adds a day to it: an internal error instead of a clear refusal, or a stock movement dated
in antiquity. Python's ``Decimal`` reads "1e3" as a thousand and "NaN" as a number: a
slip in a quantity. The scalars keep Strawberry's names, descriptions and parsing (the SDL
does not change) and refuse those as malformed values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from typing import Any

from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition, DecimalDefinition, wrap_parser

from fabcom.validation import YEARS, plain_number


def _in_years(value: Any) -> Any:
    if value.year not in YEARS:
        raise ValueError(f"the year must be between {YEARS.start} and {YEARS.stop - 1}")
    return value


def _bounded(definition: Any, name: str) -> Any:
    parse = definition.parse_value

    def parse_in_years(value: object) -> object:
        return _in_years(parse(value))

    # Strawberry's own parser first (its error for a malformed string), then the years.
    return dataclasses.replace(definition, parse_value=wrap_parser(parse_in_years, name, exceptions=(ValueError,)))


def _plain_decimal(text: str) -> decimal.Decimal:
    if not plain_number(text):
        raise ValueError("write it with digits, a sign and a decimal point only")
    return decimal.Decimal(text.strip())


SCALAR_OVERRIDES: dict[object, Any] = {
    # JSON numbers are accepted as Strawberry accepts them (as their text: 1000.0 stays plain).
    decimal.Decimal: dataclasses.replace(
        DecimalDefinition, parse_value=wrap_parser(_plain_decimal, "Decimal", accept_non_string=True)
    ),
    dt.datetime: _bounded(DateTimeDefinition, "DateTime"),
    dt.date: _bounded(DateDefinition, "Date"),
}
