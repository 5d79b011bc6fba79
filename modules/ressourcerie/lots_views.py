"""Surplus lots offered to partners ("40 kg de textile", "12 chaises"): the list and the
form. A lot is a core item given away and visible to partners; partners ask for it through
the core exchange requests, and its hand-over records the outflow here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.api import N_, Action, Category, Item, ServiceError
from fabcom.web.pages import current_org, field_errors, page
from fabcom.web.templating import _, flash, render
from modules.ressourcerie.lookup import resolve_category
from modules.ressourcerie.services import LOT_ATTRIBUTE, offer_lot


def _number(text: str) -> str:
    # The decimal comma read; anything else (« 1e3 », « douze ») the service refuses with a
    # translated message, as it refuses every number not written plainly.
    return text.strip().replace(",", ".")


@page()
async def lots(request: Request) -> Response:
    """The lots on offer (and those already given), and the form to offer a new one."""
    org = await current_org(request, Action.INVENTORY_READ)
    principal = request.state.principal
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not principal.can(Action.INVENTORY_WRITE, org.id):
            return render(request, "error.html", {"status": 403}, status_code=403)
        form = await request.form()
        values = {k: str(v) for k, v in form.items()}
        try:
            category = await resolve_category(values.get("category", ""), request.state.locale, verb="choose")
            item = await offer_lot(
                principal,
                org.id,
                {
                    "title": values.get("title", ""),
                    "category_code": category.code,
                    "quantity": _number(values.get("quantity", "")),
                    "unit": values.get("unit", "kg"),
                    "weight_kg": _number(values["weight_kg"]) if values.get("weight_kg", "").strip() else None,
                    "description": values.get("description", ""),
                },
            )
            response = RedirectResponse(f"/m/ressourcerie/o/{org.slug}/lots", status_code=303)
            flash(request, response, _(request, N_("“{title}” is offered to your partners."), title=item.title))
            return response
        except ServiceError as exc:
            errors = {
                k.replace("category_code", "category"): v for k, v in field_errors(exc, request.state.locale).items()
            }
            status = 400
    found = (
        await Item.filter(organization_id=org.id, deleted_at__isnull=True)
        .order_by("-id")
        .limit(500)
        .prefetch_related("category")
    )
    offered = [item for item in found if (item.attributes or {}).get(LOT_ATTRIBUTE)][:100]
    context = {
        "lots": offered,
        "errors": errors,
        "values": values,
        "categories": await Category.filter(code__startswith="C_").order_by("code"),
        "can_write": principal.can(Action.INVENTORY_WRITE, org.id),
    }
    return render(request, "ressourcerie/lots.html", context, status_code=status)
