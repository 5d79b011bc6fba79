"""Who is asking: resolves ``request.state.principal`` from a bearer token or the
session cookie, once per request, for every route (pages, GraphQL, downloads)."""

from __future__ import annotations

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from fabcom.auth.services import principal_for_token, session_and_principal
from fabcom.i18n import accepted_locale, negotiate_locale
from fabcom.permissions import ANONYMOUS

SESSION_COOKIE = "fabcom_session"
LOCALE_COOKIE = "fabcom_locale"


class AuthMiddleware:
    """Sets ``scope["state"]``: ``principal`` (anonymous when nobody is logged in),
    ``session`` (the ``LiveSession`` or None), ``auth_error`` (``invalid_token``, or
    ``not_bearer`` for another scheme: the API answers 401 rather than silently treating the
    caller as anonymous), and ``locale``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        state = scope.setdefault("state", {})
        state["principal"] = ANONYMOUS
        state["session"] = None
        state["auth_error"] = None
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer":
                state["auth_error"] = "not_bearer"
            elif (principal := await principal_for_token(secret.strip())) is None:
                state["auth_error"] = "invalid_token"
            else:
                state["principal"] = principal
        else:
            key = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE, "")
            found = await session_and_principal(key) if key else None
            if found is not None:
                state["session"], state["principal"] = found
        preferred = state["principal"].locale if state["principal"].is_authenticated else None
        if authorization:
            # A program's Accept-Language is chosen by its author (a browser's is not the
            # person's choice, their setting is): it wins over the token's account.
            preferred = accepted_locale(headers.get("accept-language")) or preferred
        elif preferred is None:  # the language switch of someone not logged in is a cookie
            preferred = cookie_parser(headers.get("cookie", "")).get(LOCALE_COOKIE) or None
        state["locale"] = negotiate_locale(headers.get("accept-language"), preferred)
        await self.app(scope, receive, send)
