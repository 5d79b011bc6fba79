"""The text of each kind of notification, in French and English (Babel catalogues).

A kind maps to a subject and a body, both English message ids with ``{params}`` filled
from the notification's ``data``. A module adds its kinds to ``KINDS``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fabcom.i18n import N_, gettext


@dataclass(frozen=True)
class Kind:
    subject: str
    body: str


KINDS: dict[str, Kind] = {
    "exchange_request.created": Kind(
        N_("New request for “{item}”"),
        N_("{organization} asks for “{item}” (quantity {quantity})."),
    ),
    "exchange_request.changed": Kind(
        N_("Request for “{item}”: {status}"),
        N_("The request of {organization} for “{item}” is now: {status}."),
    ),
    "membership.expiring": Kind(
        N_("Your membership ends on {date}"),
        N_("Your membership of {organization} ends on {date}. Renew it to stay a member."),
    ),
    "task.due": Kind(
        N_("Task due on {date}: {task}"),
        N_("The task “{task}” of the project {project} is due on {date}."),
    ),
}
FALLBACK = Kind(N_("New notification"), N_("You have a new notification."))


def render(kind: str, data: dict[str, Any], locale: str) -> tuple[str, str]:
    """The subject and body of a notification in ``locale``."""
    spec = KINDS.get(kind, FALLBACK)
    try:
        return gettext(locale, spec.subject, **data), gettext(locale, spec.body, **data)
    except (KeyError, IndexError):
        return gettext(locale, FALLBACK.subject), gettext(locale, FALLBACK.body)


def email_text(locale: str, name: str, lines: list[str], preferences_url: str) -> str:
    """The whole e-mail body: greeting, the notification(s), how to change the channel."""
    parts = [gettext(locale, N_("Hello {name},"), name=name), "", *lines, ""]
    parts.append(gettext(locale, N_("To change how fabcom notifies you: {url}"), url=preferences_url))
    return "\n".join(parts) + "\n"


def digest_subject(locale: str, count: int) -> str:
    return gettext(locale, N_("Your fabcom digest: {count} new notification(s)"), count=count)
