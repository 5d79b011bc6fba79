"""Strawberry's ``DateTime`` and ``Date`` scalars, refusing years no one means.

A year such as 0001 or 9999 parses, then overflows where a service converts it to UTC or
adds a day to it: an internal error instead of a clear refusal, or a stock movement dated
in antiquity. The scalars keep Strawberry's names, descriptions and ISO parsing (the SDL
does not change) and refuse a year outside ``YEARS`` as a malformed value."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition, wrap_parser

YEARS = range(1900, 3000)


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


SCALAR_OVERRIDES: dict[object, Any] = {
    dt.datetime: _bounded(DateTimeDefinition, "DateTime"),
    dt.date: _bounded(DateDefinition, "Date"),
}
