"""The account page's "Download my data" and "Erase my account"."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fabcom import clock
from fabcom.auth.middleware import SESSION_COOKIE
from fabcom.errors import ServiceError
from fabcom.i18n import N_
from fabcom.privacy.services import erase_own_account, member_data
from fabcom.web.pages import field_errors, page
from fabcom.web.templating import _, flash, render


@page()
async def my_data(request: Request) -> Response:
    """Everything stored about the signed-in person, as a JSON file."""
    principal = request.state.principal
    data = await member_data(principal, principal.user_id)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    filename = f"fabcom-my-data-{clock.today().isoformat()}.json"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@page()
async def erase_account(request: Request) -> Response:
    """Confirm with the password, then erase: the person is logged out for good."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        uploads = request.app.state.settings.uploads_dir
        try:
            await erase_own_account(request.state.principal, {"password": str(form.get("password", ""))}, uploads)
        except ServiceError as error:
            errors = field_errors(error, request.state.locale)
        else:
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            flash(request, response, _(request, N_("Your account and your personal data were erased.")))
            return response
    return render(request, "account_erase.html", {"errors": errors}, status_code=400 if errors else 200)


def privacy_routes() -> list[BaseRoute]:
    return [
        Route("/account/data", my_data, name="web:my_data"),
        Route("/account/erase", erase_account, methods=["GET", "POST"], name="web:erase_account"),
    ]
