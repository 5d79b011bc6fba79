"""CSRF protection for every state-changing request.

A logged-in browser proves it with its session's ``csrf_token``; a browser without a
session (the login form, the language switch) with a random ``fabcom_csrf`` cookie
(double submit). The token travels in the ``X-CSRF-Token`` header (htmx sends it from
``hx-headers`` on ``<body>``) or in the ``csrf_token`` form field. Requests that a
browser cannot forge across sites are exempt: a bearer token (``Authorization``) or a
JSON body (a cross-site JSON POST needs a CORS preflight, which is never granted)."""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fabcom.i18n import N_, gettext

CSRF_COOKIE = "fabcom_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


CSRF_REFUSED = N_("The form has expired or did not come from this site. Reload the page and try again.")


async def refusal(request: Request) -> Response:
    """403: a page in the layout for a person (their form simply expired, most of the time),
    a line of text for a program."""
    from fabcom.web.pages import error_page, wants_page  # pages → templating → security

    state = request.scope.get("state", {})
    message = gettext(state.get("locale", "fr"), CSRF_REFUSED)
    if not wants_page(request):
        return PlainTextResponse(message, status_code=403)
    return await error_page(
        request, 403, text=message, title=gettext(state.get("locale", "fr"), N_("This form has expired"))
    )


class CSRFMiddleware:
    """Sets ``request.state.csrf_token`` and refuses (403) a mutating request without it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        state = scope.setdefault("state", {})
        session = state.get("session")
        cookie_token = cookie_parser(headers.get("cookie", "")).get(CSRF_COOKIE, "")
        new_cookie = ""
        if session is not None:
            expected = session.csrf_token
        else:
            if len(cookie_token) < 32:
                cookie_token = new_cookie = secrets.token_urlsafe(32)
            expected = cookie_token
        state["csrf_token"] = expected
        # ActivityPub inboxes authenticate each request by its HTTP Signature, never by cookie.
        federation = str(scope.get("path", "")).startswith("/ap/")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and new_cookie:
                secure = "; Secure" if scope.get("scheme") == "https" else ""
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"set-cookie", f"{CSRF_COOKIE}={new_cookie}; Path=/; HttpOnly; SameSite=Lax{secure}".encode()),
                ]
            await send(message)

        # The API runs only application/json bodies (which a browser cannot send to another
        # site without a CORS preflight fabcom never grants) and answers any other 415 itself;
        # without a session there is no cookie to abuse, so a program that sent the wrong
        # type is told that, not "this form has expired".
        anonymous_api = session is None and scope.get("path") == "/graphql"
        if scope["method"] not in SAFE_METHODS and not federation and not anonymous_api and not self._exempt(headers):
            supplied = headers.get(CSRF_HEADER, "")
            if not supplied:
                supplied, receive = await self._form_token(scope, receive, headers)
            if new_cookie or not supplied or not hmac.compare_digest(supplied.encode(), expected.encode()):
                await (await refusal(Request(scope, receive)))(scope, receive, send_with_cookie)
                return

        await self.app(scope, receive, send_with_cookie)

    @staticmethod
    def _exempt(headers: Headers) -> bool:
        if headers.get("authorization"):
            return True
        return headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"

    @staticmethod
    async def _form_token(scope: Scope, receive: Receive, headers: Headers) -> tuple[str, Receive]:
        """Read the body (kept to replay it to the view) and find the form's token."""
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return "", receive
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)

        def replay() -> Receive:
            sent = False

            async def _receive() -> Message:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            return _receive

        token = ""
        try:
            async with Request(scope, replay()).form() as form:
                value = form.get(CSRF_FIELD)
                token = value if isinstance(value, str) else ""
        except Exception:
            token = ""
        return token, replay()
