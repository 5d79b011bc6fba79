"""A webhook receiver for tests: a tiny HTTP server on a free loopback port that answers
with scripted status codes and, like a well-behaved receiver, performs the effect of a
message once per ``webhook-id`` however often it is delivered."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class WebhookReceiver:
    """``statuses`` are answered in order, then ``default``. With ``hold_first``, the
    first request is read, its effect performed, and no answer sent until ``release()``
    (to kill a worker while it waits)."""

    statuses: list[int] = field(default_factory=list)
    default: int = 200
    hold_first: bool = False
    requests: list[Received] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)  # webhook-ids acted upon, once each
    got_first: asyncio.Event = field(default_factory=asyncio.Event)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None
    port: int = 0  # 0: a free port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def __aenter__(self) -> WebhookReceiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def release(self) -> None:
        self._release.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            index = len(self.requests)
            status = self.statuses[index] if index < len(self.statuses) else self.default
            self.requests.append(Received(headers, body, status))
            message_id = headers.get("webhook-id", "")
            if status < 300 and message_id not in self.effects:
                self.effects.append(message_id)
            if index == 0 and self.hold_first:
                self.got_first.set()
                await self._release.wait()
                return  # the connection is dropped without an answer
            self.got_first.set()
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
