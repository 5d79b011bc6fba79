"""An SMTP sink for tests: aiosmtpd on a free loopback port, keeping every message."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from fabcom.testing.processes import free_port


class _Handler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


class SmtpSink:
    """``with SmtpSink() as sink:`` then ``sink.messages`` (parsed, in arrival order)."""

    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self._handler.messages

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
