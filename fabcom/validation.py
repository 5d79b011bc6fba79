"""Service input: pydantic models whose failures become translated ``FieldError``s.

Services receive plain data (a form, GraphQL arguments, an imported row, a remote
activity), parse it with ``parse(Model, data)`` and get typed values or one
``ValidationFailed`` listing every bad field, before anything is written.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from fabcom.errors import ErrorCode, FieldError, ValidationFailed
from fabcom.i18n import N_

M = TypeVar("M", bound=BaseModel)


class InputError(ValueError):
    """Raised by input validators: a message id marked with ``N_`` and its parameters.
    A check of several fields (a model validator) names the one to correct with
    ``field``, so that the form shows the message next to it and the API's payload
    says which (``None``: the input as a whole)."""

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params


# The years a date given to fabcom may fall in: 0001 or 9999 parse, then overflow where a
# day is added or a local time turned into UTC (the API's date scalars, report periods).
YEARS = range(1900, 3000)

# A number given as text: a sign, digits, a decimal point. Python's ``Decimal`` also reads
# "1e3" (a thousand), "1_000" and "NaN": a slip of the finger in a quantity would record
# a thousand pieces.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def plain_number(text: str) -> bool:
    return _PLAIN_NUMBER.fullmatch(text.strip()) is not None


def _is_decimal(annotation: Any) -> bool:
    """``Decimal``, ``Decimal | None``, ``Annotated[Decimal, …] | None``."""
    if annotation is Decimal:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_decimal(typing.get_args(annotation)[0])
    return any(_is_decimal(arg) for arg in typing.get_args(annotation))


@functools.cache
def _decimal_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for name, field in model.model_fields.items() if _is_decimal(field.annotation))


class Input(BaseModel):
    """Base of every service input: strips strings, refuses unknown fields, and reads a
    number given as text only when it is written plainly."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and info.field_name in _decimal_fields(cls) and not plain_number(value):
            raise InputError(N_("Enter a valid number."))
        return value


def _translate(detail: ErrorDetails) -> FieldError:
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    field = ".".join(str(p) for p in detail["loc"]) or None
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return FieldError(ErrorCode.REQUIRED, N_("This field is required."), field)
    if kind == "string_too_short":
        return FieldError(ErrorCode.TOO_SHORT, N_("At least {min} characters."), field, {"min": ctx.get("min_length")})
    if kind == "string_pattern_mismatch":
        return FieldError(ErrorCode.INVALID, N_("This value is not in the expected format."), field)
    if kind == "string_too_long":
        return FieldError(ErrorCode.TOO_LONG, N_("At most {max} characters."), field, {"max": ctx.get("max_length")})
    if kind == "too_short":  # a list (lines, scopes, events) with fewer entries than it needs
        return FieldError(
            ErrorCode.TOO_SHORT, N_("Give at least {min} of them."), field, {"min": ctx.get("min_length")}
        )
    if kind == "too_long":
        return FieldError(ErrorCode.TOO_LONG, N_("Give at most {max} of them."), field, {"max": ctx.get("max_length")})
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        limit = next(iter(ctx.values()), "")
        messages = {
            "greater_than": N_("Must be greater than {limit}."),
            "greater_than_equal": N_("Must be at least {limit}."),
            "less_than": N_("Must be less than {limit}."),
            "less_than_equal": N_("Must be at most {limit}."),
        }
        return FieldError(ErrorCode.OUT_OF_RANGE, messages[kind], field, {"limit": limit})
    if kind == "enum" or kind == "literal_error":
        return FieldError(
            ErrorCode.INVALID, N_("Choose one of: {choices}."), field, {"choices": ctx.get("expected", "")}
        )
    if kind == "decimal_max_places":
        places = ctx.get("decimal_places")
        return FieldError(ErrorCode.INVALID, N_("At most {places} decimal places."), field, {"places": places})
    if kind in ("decimal_whole_digits", "decimal_max_digits"):
        return FieldError(ErrorCode.OUT_OF_RANGE, N_("This number is too large."), field)
    if kind.startswith("decimal") or kind.startswith("int") or kind.startswith("float"):
        return FieldError(ErrorCode.INVALID, N_("Enter a valid number."), field)
    if kind.startswith("date") or kind.startswith("datetime"):
        return FieldError(ErrorCode.INVALID, N_("Enter a valid date."), field)
    if kind == "extra_forbidden":
        return FieldError(ErrorCode.INVALID, N_("Unknown field."), field)
    if kind == "value_error" and isinstance(ctx.get("error"), InputError):
        error: InputError = ctx["error"]
        if error.field is not None:
            field = ".".join(str(p) for p in (*detail["loc"], error.field))
        return FieldError(ErrorCode.INVALID, error.message, field, error.params)
    return FieldError(ErrorCode.INVALID, N_("This value is not valid."), field)


def parse(model: type[M], data: Mapping[str, Any] | M) -> M:
    """Validate ``data`` into ``model`` or raise ``ValidationFailed`` with one error per field."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ValidationFailed([_translate(d) for d in exc.errors()]) from None
