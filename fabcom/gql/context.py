"""What every resolver receives, and the errors that may reach a client unmasked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from fabcom.permissions import Principal
from fabcom.settings import Settings


@dataclass
class Context:
    """Per request: who asks, in which language, and the instance settings."""

    principal: Principal
    locale: str
    settings: Settings
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.settings.public_url


class PublicError(GraphQLError):
    """An error whose message is meant for the client (bad ID, bad cursor, limits).
    Every other exception raised by a resolver is masked."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message, extensions={"code": code})
