"""Global IDs (``strawberry.relay``'s base64 "Type:pk") and opaque keyset cursors.

Malformed values raise ``PublicError``: a clean error, never a 500."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

import orjson
from strawberry import relay

from fabcom.gql.context import PublicError
from fabcom.i18n import N_

MAX_PK = 2**31 - 1
INVALID_ID = N_("Invalid ID: {value}.")


def global_id(type_name: str, pk: int) -> str:
    return relay.to_base64(type_name, pk)


def decode_global_id(value: str) -> tuple[str, int]:
    """``(type name, primary key)``; a malformed ID is a ``PublicError``."""
    try:
        type_name, raw = relay.from_base64(str(value))
        pk = int(raw)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise PublicError(INVALID_ID, value=repr(str(value)[:100])) from None
    if not type_name or not 0 < pk <= MAX_PK:
        raise PublicError(INVALID_ID, value=repr(str(value)[:100]))
    return type_name, pk


def encode_cursor(key: tuple[Any, int]) -> str:
    value, pk = key
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(orjson.dumps([value, pk])).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> tuple[Any, int]:
    """The sort key a cursor points after; ``kind`` is "int", "str" or "datetime"."""
    # The usual slip: a cursor reused after changing the list's orderBy (its key is another field's).
    message = N_("Invalid cursor: {value}. A cursor works only with the orderBy of the page that gave it.")
    error = PublicError(message, value=repr(cursor[:100]))
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, UnicodeError, orjson.JSONDecodeError):
        raise error from None
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk <= MAX_PK:
        raise error
    if kind == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
        raise error
    if kind == "str" and not isinstance(value, str):
        raise error
    if kind == "datetime":
        try:
            value = dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise error from None
        if value.tzinfo is None:
            raise error
    return value, pk


SLUG_MAX = 64


def possible_slug(value: str) -> bool:
    """Could ``value`` be an organization's slug? Anything longer than the column or holding
    a NUL byte (PostgreSQL refuses it) is answered "unknown" without asking the database,
    whose driver would otherwise raise on it."""
    return len(value) <= SLUG_MAX and "\x00" not in value
