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
        self.refusals: dict[str, str] = {}  # recipient -> SMTP answer, e.g. "550 No such user"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

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

    def refuse(self, address: str, answer: str) -> None:
        """Answer ``answer`` (e.g. "451 Try later" or "550 No such user") to mail for ``address``."""
        self._handler.refusals[address] = answer

    def accept(self, address: str) -> None:
        self._handler.refusals.pop(address, None)

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
