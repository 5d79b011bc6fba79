"""Security headers on every response: pages, API, static files, errors.

The Content-Security-Policy allows only this instance's own scripts, styles, images
and connections: no inline script, no inline style attribute, no third party (DESIGN:
no CDN, no trackers). htmx is configured from a ``<meta>`` tag and fabcom's few lines
of behaviour live in ``/static/fabcom.js``. A response that sets its own policy
(GraphiQL needs inline styles) keeps it, with ``frame-ancestors 'none'`` added.

HSTS is sent only when the instance's public URL (``FABCOM_BASE_URL``) is https: a
plain-http development instance must not teach browsers to refuse it later.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    """The headers every response carries (the CSP is handled apart: a response may set its own)."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response without overriding those a view set."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.extra = security_headers(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = with_security_headers(list(message.get("headers", [])), self.extra)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # A crash answers 500 with the same headers (a page in the layout for people,
            # never a traceback); the exception goes on up to be logged.
            if not started:
                from fabcom.web.pages import server_error  # pages → templating → this module

                try:
                    response = await server_error(Request(scope), exc)
                except Exception:  # the error page itself failed: plain text
                    response = PlainTextResponse("Internal Server Error", status_code=500)
                await response(scope, receive, send_with_headers)
            raise


def with_security_headers(headers: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]) -> list:
    present = {name.lower() for name, _ in headers}
    out = list(headers)
    for i, (name, value) in enumerate(out):
        if name.lower() == b"content-security-policy" and b"frame-ancestors" not in value:
            out[i] = (name, value + b"; frame-ancestors 'none'")
    if b"content-security-policy" not in present:
        out.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    out += [(name, value) for name, value in extra if name not in present]
    return out
