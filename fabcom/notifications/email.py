"""Sending e-mail with aiosmtplib (async: never blocks a job)."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import urlsplit

import aiosmtplib

from fabcom.jobs.execution import PermanentError, TransientError
from fabcom.settings import Settings


async def send_email(settings: Settings, to: str, subject: str, body: str, idempotency_key: str) -> bool:
    """Send a plain-text e-mail; False when no SMTP server is configured. The message id
    is derived from the job's key, so a repeated send can be recognised as such."""
    if not settings.smtp_host:
        return False
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = to
    message["Subject"] = subject
    domain = urlsplit(settings.public_url).hostname or "localhost"
    message["Message-ID"] = f"<{idempotency_key.replace(':', '.')}@{domain}>"
    message["X-Fabcom-Key"] = idempotency_key
    message.set_content(body)
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_tls == "starttls",
            use_tls=settings.smtp_tls == "tls",
            timeout=settings.job_http_timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refusal.code for refusal in exc.recipients]
        if any(400 <= code < 500 for code in codes):  # 4xx: the server asks to try later
            raise TransientError(str(exc)) from exc
        raise PermanentError(str(exc)) from exc
    except aiosmtplib.SMTPResponseException as exc:
        if 400 <= exc.code < 500:
            raise TransientError(str(exc)) from exc
        raise PermanentError(str(exc)) from exc
    return True
