"""E-mailing password-reset links."""

from __future__ import annotations

import datetime as dt
import secrets

from fabcom import clock
from fabcom.auth.models import User
from fabcom.i18n import N_, gettext
from fabcom.jobs.execution import JobContext
from fabcom.jobs.registry import job
from fabcom.notifications.email import send_email

RESET_VALIDITY = dt.timedelta(hours=1)


@job()
async def send_password_reset(ctx: JobContext, *, user_id: int) -> None:
    """E-mail a single-use link, valid one hour, to set a new password. The token is made
    here (never stored in the job's arguments) and only its SHA-256 is kept."""
    from fabcom.auth.services import _digest
    from fabcom.web.models import PasswordReset

    user = await User.get_or_none(id=user_id, is_active=True)
    if user is None:
        return
    token = secrets.token_urlsafe(32)
    await PasswordReset.create(user_id=user.id, token_hash=_digest(token), expires_at=clock.now() + RESET_VALIDITY)
    url = f"{ctx.settings.public_url}/password/reset/{token}"
    locale = user.locale
    body = "\n".join(
        [
            gettext(locale, N_("Hello {name},"), name=user.display_name),
            "",
            gettext(
                locale,
                N_(
                    "Someone asked to reset the password of your fabcom account. To choose a new one, open this link within an hour:"
                ),
            ),
            url,
            "",
            gettext(locale, N_("If you did not ask for it, ignore this e-mail: your password stays the same.")),
        ]
    )
    await send_email(ctx.settings, user.email, gettext(locale, N_("Reset your fabcom password")), body + "\n", ctx.key)
