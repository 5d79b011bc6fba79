"""Jinja2 rendering for the staff UI: one environment per locale (Babel catalogues through
the i18n extension), locale-aware formatting, flash messages, and the htmx rule of the
house (Takahē): an htmx request gets the fragment, a normal request the whole page,
from the same view."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fabcom.i18n import LOCALES, N_, gettext, translations
from fabcom.inventory.models import OUT_OF_STOCK, ItemStatus, shown_status
from fabcom.module_system.contributions import module_template_dirs, static_url
from fabcom.web.security import CONTENT_SECURITY_POLICY


def _templates_dir() -> Path:
    """The core's templates: the checkout's ``templates/`` (source and editable installs),
    else where a wheel installs them (``<prefix>/share/fabcom/templates``)."""
    checkout = Path(__file__).resolve().parent.parent.parent / "templates"
    return checkout if checkout.is_dir() else Path(sys.prefix) / "share" / "fabcom" / "templates"


TEMPLATES_DIR = _templates_dir()
TIMEZONE = "Europe/Paris"
FLASH_COOKIE = "fabcom_flash"

# Pages are same-origin only: no CDN, no inline script, no third party.
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


_NUMBER_PATTERN = babel_numbers.parse_pattern("#,##0.###")


@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)


def format_number(value: Any, locale: str) -> str:
    """A quantity or weight: up to three decimals, no trailing zeros, local separators.
    (The pattern and the locale are parsed once: a list page formats hundreds of numbers.)"""
    if value is None or value == "":
        return ""
    number = Decimal(value)
    if not number.is_signed() and number < 1000 and number == number.to_integral_value():
        # The common case of a list (3 pieces, 12 kg): no separator, no decimals, the same
        # digits in French and English, without babel's pattern machinery (~30 µs a cell).
        return str(int(number))
    return _NUMBER_PATTERN.apply(number, _babel_locale(locale))


# Each unit's name for one and for several (French puts 0 and 1 in the singular).
UNITS = {
    "piece": (N_("piece"), N_("pieces")),
    "kg": (N_("kg"), N_("kg")),
    "m": (N_("m"), N_("m")),
    "m2": (N_("m²"), N_("m²")),
    "l": (N_("l"), N_("l")),
    "set": (N_("set"), N_("sets")),
}


@cache
def unit_names(locale: str) -> dict[str, tuple[str, str]]:
    return {code: (gettext(locale, one), gettext(locale, many)) for code, (one, many) in UNITS.items()}


def unit_name(unit: str, quantity: Any, locale: str) -> str:
    """The unit's name agreeing with ``quantity`` (empty for an unknown unit)."""
    names = unit_names(locale).get(unit)
    if names is None:
        return ""
    # A movement's quantity is signed: "-40 pièces" agrees like "40 pièces".
    size = abs(quantity) if quantity is not None else None
    several = size is not None and (size > 1 if locale == "fr" else size != 1)
    return names[several]


def format_quantity(value: Any, unit: str, locale: str) -> str:
    """ "3 pièces", "1 kg": a filter rather than a template macro, since a list page shows
    a hundred of them (a macro call costs about five times as much)."""
    name = unit_name(unit, value, locale)
    return f"{format_number(value, locale)} {name}" if name else format_number(value, locale)


def format_money(value: Any, locale: str) -> str:
    if value is None or value == "":
        return ""
    return babel_numbers.format_currency(Decimal(value), "EUR", locale=locale)


def format_date(value: dt.date | None, locale: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(babel_dates.get_timezone(TIMEZONE)).date()
    return babel_dates.format_date(value, format="medium", locale=locale)


def format_month(key: str, locale: str) -> str:
    """A month key as reports store it (``2026-12``) the way people read it: « déc. 2026 »,
    "Dec 2026". Anything else is shown as it is."""
    try:
        month = dt.date.fromisoformat(f"{key}-01")
    except (TypeError, ValueError):
        return str(key)
    return babel_dates.format_skeleton("yMMM", month, locale=locale)


def format_datetime(value: dt.datetime | None, locale: str) -> str:
    if value is None:
        return ""
    return babel_dates.format_datetime(value, format="short", tzinfo=babel_dates.get_timezone(TIMEZONE), locale=locale)


def notification_subject(notification: Any, locale: str) -> str:
    """A notification's one-line text in ``locale``, as its e-mail's subject."""
    from fabcom.notifications.messages import render as render_notification

    return render_notification(notification.kind, notification.data, locale)[0]


@cache
def environment(locale: str) -> Environment:
    """The Jinja2 environment of one locale (templates are compiled once per locale)."""
    env = Environment(
        loader=FileSystemLoader([str(TEMPLATES_DIR), *map(str, module_template_dirs)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = lambda v: format_number(v, locale)
    env.filters["quantity"] = lambda v, unit: format_quantity(v, unit, locale)
    env.filters["unit_name"] = lambda unit, quantity: unit_name(unit, quantity, locale)
    env.filters["shown_status"] = lambda item: shown_status(item.status, item.quantity)
    # The statuses as the code names them, so that a template compares with the enum, not
    # with a string of its own ("out_of_stock" written in three templates drifted apart).
    env.globals["ItemStatus"] = ItemStatus
    env.globals["OUT_OF_STOCK"] = OUT_OF_STOCK
    env.globals["UNIT_NAMES"] = {code: one for code, (one, _many) in unit_names(locale).items()}
    env.filters["money"] = lambda v: format_money(v, locale)
    env.filters["date"] = lambda v: format_date(v, locale)
    env.filters["datetime"] = lambda v: format_datetime(v, locale)
    env.filters["month"] = lambda v: format_month(v, locale)
    env.filters["notification_subject"] = lambda n: notification_subject(n, locale)
    env.globals["LOCALES"] = LOCALES
    env.globals["locale"] = locale
    env.globals["static_url"] = static_url
    return env


def labels(locale: str) -> Any:
    """The enumerations' names in ``locale`` (``labels("fr").STATUS["available"]`` is
    « Disponible »), from ``_labels.html``: the pages, the exports and the imports share them."""
    return environment(locale).get_template("_labels.html").module


def is_htmx(request: Request) -> bool:
    """An htmx request that is not a history restore (which wants the whole page)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def see_other(request: Request, url: str) -> Response:
    """Go to ``url`` after a form: a 303 for the browser; for htmx, ``HX-Redirect`` (a whole
    new page), since htmx would follow a 303 itself and swap the whole page into its target."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


# --- flash messages: a short signed cookie read once by the next page ---------------------


def _sign(request: Request, payload: bytes) -> str:
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:32]


def flash(request: Request, response: Response, message: str, level: str = "success") -> None:
    """Show ``message`` (already translated) on the next page this browser loads."""
    messages = [*getattr(request.state, "flash_out", []), [level, message]]
    request.state.flash_out = messages
    payload = base64.urlsafe_b64encode(json.dumps(messages).encode()).decode()
    response.set_cookie(
        FLASH_COOKIE,
        f"{payload}.{_sign(request, payload.encode())}",
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE, "")
    payload, _, signature = raw.partition(".")
    if not payload or not hmac.compare_digest(signature, _sign(request, payload.encode())):
        return []
    request.state.flash_read = True
    try:
        return [(str(level), str(text)) for level, text in json.loads(base64.urlsafe_b64decode(payload))][:5]
    except (ValueError, TypeError):
        return []


def _(request: Request, message: str, **params: Any) -> str:
    return gettext(request.state.locale, message, **params)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``fragment`` for an htmx request when given, else the page ``template``."""
    locale = request.state.locale
    env = environment(locale)
    name = fragment if fragment and is_htmx(request) else template
    flashes = pop_flashes(request) if name == template else []
    ctx = {
        "request": request,
        "principal": request.state.principal,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "flashes": flashes,
        "url_for": request.url_for,
        **(request.state.web_context if hasattr(request.state, "web_context") else {}),
        **(context or {}),
    }
    body = env.get_template(name).render(ctx)
    response = HTMLResponse(body, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})})
    response.headers["Vary"] = "HX-Request, Cookie"
    response.headers["Cache-Control"] = "no-store"
    if flashes:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response
