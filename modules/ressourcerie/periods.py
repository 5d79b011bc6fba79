"""Report periods as people and partners' tools write them: a year (``2026``), a month
(``2026-03``), a day (``2026-03-14``) or a custom range (``2026-01-01/2026-03-31``).
Days are local days of the site (Europe/Paris)."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from fabcom.api import N_, YEARS, ErrorCode, ValidationFailed

# ASCII digits only (``\d`` would take "２０２６"); days written out in full (Python reads
# "2026-W10" as an ISO date too); years no one means refused (0001 or 9999 overflow where
# a day is added or a local day turned into UTC).
YEAR = re.compile(r"^([0-9]{4})$")
MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _day(text: str) -> dt.date:
    if not DAY.match(text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def parse_period(text: str, field: str = "period") -> tuple[dt.date, dt.date]:
    """The first and last day (both included) of a period; refused with a translated
    message when it cannot be read or ends before it starts."""
    text = (text or "").strip()
    try:
        if match := YEAR.match(text):
            year = int(match.group(1))
            if year not in YEARS:
                raise ValueError(text)
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if match := MONTH.match(text):
            year, month = int(match.group(1)), int(match.group(2))
            if year not in YEARS:
                raise ValueError(text)
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        if "/" in text:
            first, _, last = text.partition("/")
            start, end = _day(first.strip()), _day(last.strip())
        else:
            start = end = _day(text)
        if start.year not in YEARS or end.year not in YEARS:
            raise ValueError(text)
    except ValueError:
        raise ValidationFailed.single(
            ErrorCode.INVALID,
            N_(
                "Give a period as a year (2026), a month (2026-03), a day (2026-03-14) or a range (2026-01-01/2026-03-31)."
            ),
            field,
        ) from None
    if end < start:
        raise ValidationFailed.single(ErrorCode.OUT_OF_RANGE, N_("The period ends before it starts."), field)
    return start, end


def months(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of each month the period touches."""
    found, day = [], start.replace(day=1)
    while day <= end:
        found.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return found
