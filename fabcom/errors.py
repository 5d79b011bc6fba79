"""The errors services raise. Each carries a machine code, the field it concerns and an
English message id translated when shown (web form, GraphQL payload, CLI)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from babel.numbers import format_decimal

from fabcom.i18n import N_, gettext


class ErrorCode(StrEnum):
    """Stable codes partners can branch on (exposed as the GraphQL ``ErrorCode`` enum)."""

    REQUIRED = "required"
    INVALID = "invalid"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    OUT_OF_RANGE = "out_of_range"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    ALREADY_EXISTS = "already_exists"
    INSUFFICIENT_STOCK = "insufficient_stock"
    INVALID_STATE = "invalid_state"
    CONFLICT = "conflict"
    NOT_PARTNER = "not_partner"
    RATE_LIMITED = "rate_limited"
    INSUFFICIENT_SCOPE = "insufficient_scope"  # the API token lacks a scope (fabcom.gql.scopes)


@dataclass(frozen=True)
class FieldError:
    code: ErrorCode
    message: str  # English message id, translated by ``text``
    field: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def text(self, locale: str) -> str:
        """The message in ``locale``, numbers written the local way (2,5 in French)."""
        params = {
            key: format_decimal(value, locale=locale) if isinstance(value, Decimal | float) else value
            for key, value in self.params.items()
        }
        return gettext(locale, self.message, **params)


class ServiceError(Exception):
    """A refused operation. Nothing was written when a service raises it."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field or '-'}: {e.text('en')}" for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, error_code: ErrorCode, message: str, field: str | None = None, /, **params: Any) -> ServiceError:
        # Positional-only, so that a message may have a ``{code}`` parameter of its own.
        return cls([FieldError(error_code, message, field, params)])

    def text(self, locale: str, with_fields: bool = False) -> str:
        """All messages in ``locale``; ``with_fields`` prefixes each with its field (CLI)."""
        return " ".join(
            f"{e.field}: {e.text(locale)}" if with_fields and e.field else e.text(locale) for e in self.errors
        )


class ValidationFailed(ServiceError):
    """The input is malformed or breaks a business rule."""


class NotFound(ServiceError):
    """The object does not exist, or the actor may not see it (answered the same way)."""

    def __init__(self, what: str = "object") -> None:
        super().__init__([FieldError(ErrorCode.NOT_FOUND, N_("Not found."), None, {})])
        self.what = what


class PermissionDenied(ServiceError):
    """The actor may see the object but not do this to it."""

    def __init__(self, message: str = N_("You are not allowed to do this.")) -> None:
        super().__init__([FieldError(ErrorCode.PERMISSION_DENIED, message)])
