"""What every resolver receives, and the errors that may reach a client unmasked."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from graphql import GraphQLError

from fabcom.i18n import gettext
from fabcom.permissions import Principal
from fabcom.settings import Settings


@dataclass
class Context:
    """Per request: who asks, in which language, and the instance settings."""

    principal: Principal
    locale: str
    settings: Settings
    # The request's loaders and what they read: under a name, or a name with what the
    # loader is kept per (its place in the answer, its arguments).
    cache: dict[Hashable, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.settings.public_url


def public_text(locale: str, message: str, **params: Any) -> str:
    """``message`` (an English message id) in ``locale``, its numbers written the local way
    (10,000 in English, 10 000 in French)."""
    local = {
        key: format_decimal(value, locale=locale)
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        else value
        for key, value in params.items()
    }
    return gettext(locale, message, **local)


class PublicError(GraphQLError):
    """An error whose message is meant for the client (bad ID, bad cursor, limits, a
    missing scope). Every other exception raised by a resolver is masked.

    ``message`` is an English message id (mark it with ``N_``) with its ``{params}``: the
    endpoint answers it in the caller's language (``text``), like a mutation's errors;
    ``message`` itself stays English (logs, direct schema calls)."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT", **params: Any) -> None:
        super().__init__(public_text("en", message, **params), extensions={"code": code})
        self.message_id = message
        self.params = params

    def text(self, locale: str) -> str:
        return public_text(locale, self.message_id, **self.params)
