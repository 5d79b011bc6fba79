"""The till (caisse): a counter page to ring up a sale, its receipt (to print, and as a
PDF) and the day's cash closing.

The sale being rung up lives in the page (hidden ``line`` fields the server re-reads on
every htmx post) and, so that a reload or a tablet gone to sleep loses nothing, in the
cashier's draft (``TillDraft``), which the page starts from. No sale, outflow or stock
movement is written before the cashier validates; then ``record_sale`` checks everything
again and writes the whole sale or nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import dates as babel_dates
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fabcom.api import (
    N_,
    Action,
    Category,
    ErrorCode,
    Item,
    ItemStatus,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
    archived_refusal,
    clock,
    item_number,
    matching_items,
    parse,
)
from fabcom.web.pages import confirmed, current_org, field_errors, page
from fabcom.web.templating import _, environment, render
from modules.ressourcerie import pdf
from modules.ressourcerie.labels import PAYMENT_MODES
from modules.ressourcerie.lookup import resolve_category
from modules.ressourcerie.models import CashClosing, PaymentMode, Sale, TillDraft
from modules.ressourcerie.services import (
    ClosingInput,
    SaleLineInput,
    cash_expected,
    close_till,
    discard_till_draft,
    local_day,
    local_day_bounds,
    record_sale,
    save_till_draft,
    settings,
)
from modules.ressourcerie.typed import shown_number, typed_number

MAX_LINES = 200


@dataclass
class CartLine:
    """A line of the sale being rung up: a weighed lot or an inventory item."""

    kind: str  # "lot" or "item"
    amount: Decimal
    category: Category | None = None
    weight_kg: Decimal | None = None
    item: Item | None = None

    @property
    def token(self) -> str:
        if self.item is not None:
            return f"item:{self.item.id}:{self.amount}"
        assert self.category is not None
        return f"lot:{self.category.code}:{self.weight_kg}:{self.amount}"

    def sale_line(self) -> dict[str, Any]:
        if self.item is not None:
            return {"item_id": self.item.id, "amount": self.amount}
        assert self.category is not None
        return {"category_code": self.category.code, "weight_kg": self.weight_kg, "amount": self.amount}


async def _cart(org_id: int, tokens: list[str]) -> list[CartLine]:
    """The sale's lines from the page's hidden fields; anything unreadable is dropped
    (the page only ever writes well-formed tokens)."""
    lines: list[CartLine] = []
    item_ids = [int(t.split(":")[1]) for t in tokens if t.startswith("item:") and t.split(":")[1].isdigit()]
    items = {i.id: i for i in await Item.filter(id__in=item_ids, organization_id=org_id, deleted_at__isnull=True)}
    codes = [t.split(":")[1] for t in tokens if t.startswith("lot:") and t.count(":") == 3]
    categories = {c.code: c for c in await Category.filter(code__in=codes)}
    for token in tokens[:MAX_LINES]:
        parts = token.split(":")
        try:
            if parts[0] == "item" and len(parts) == 3 and int(parts[1]) in items:
                lines.append(CartLine("item", Decimal(parts[2]), item=items[int(parts[1])]))
            elif parts[0] == "lot" and len(parts) == 4 and parts[1] in categories:
                lines.append(
                    CartLine("lot", Decimal(parts[3]), category=categories[parts[1]], weight_kg=Decimal(parts[2]))
                )
        except (ValueError, InvalidOperation):
            continue
    return lines


async def _add_lot(values: dict[str, str], locale: str) -> CartLine:
    category = await resolve_category(values.get("category", ""), locale, verb="choose")
    weight = typed_number(values.get("weight", ""), "weight")
    amount = typed_number(values.get("price", "") or "", "price") if values.get("price", "").strip() else None
    if amount is None:
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("Give the price of the lot."), "price")
    limit = settings().max_line_kg
    if weight > limit:
        raise ValidationFailed.single(
            ErrorCode.OUT_OF_RANGE,
            N_("{weight} kg on one line is more than the {limit} kg allowed: check the weight."),
            "weight",
            weight=weight,
            limit=limit,
        )
    # The same rules as the sale itself (a positive weight, a price between 0 and 100,000 €).
    parse(SaleLineInput, {"category_code": category.code, "weight_kg": weight, "amount": amount})
    return CartLine("lot", amount, category=category, weight_kg=weight)


async def _add_item(org_id: int, item_id: str, values: dict[str, str], cart: list[CartLine]) -> CartLine:
    item = (
        await Item.get_or_none(id=int(item_id), organization_id=org_id, deleted_at__isnull=True)
        if item_id.isdigit()
        else None
    )
    if item is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown item."), "search")
    if problem := archived_refusal(item, "search"):
        raise ValidationFailed([problem])
    in_cart = sum(1 for line in cart if line.item is not None and line.item.id == item.id)
    if item.quantity < in_cart + 1:  # one unit per line: a bulk item may be added again while in stock
        raise ValidationFailed.single(
            ErrorCode.INSUFFICIENT_STOCK, N_("{title} is already sold or out of stock."), "search", title=item.title
        )
    price = values.get("price", "").strip()
    amount = typed_number(price, "price") if price else item.unit_value
    if amount is None:
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("This item has no price: type it, then add it."), "price")
    return CartLine("item", Decimal(amount), item=item)


def _payment_mode(values: dict[str, str]) -> str | None:
    mode = values.get("payment_mode")
    return mode if mode in PAYMENT_MODES else None


def _errors(exc: ServiceError, locale: str) -> dict[str, str]:
    errors = field_errors(exc, locale)
    # Errors of the sale's lines ("lines.2.item_id") are shown above the lines.
    if "lines" in errors:
        errors["__all__"] = errors.pop("lines")
    for pydantic_name, field in (("weight_kg", "weight"), ("amount", "price")):
        if pydantic_name in errors:
            errors[field] = errors.pop(pydantic_name)
    return errors


@page()
async def till(request: Request) -> Response:
    """Ring up a sale: weighed lots (category, weight, price, Enter) and inventory items
    (search), then the payment mode and Validate. No reload between lines (htmx)."""
    org = await current_org(request)
    principal = request.state.principal
    if not principal.can(Action.INVENTORY_WRITE, org.id):
        raise PermissionDenied()
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    cart: list[CartLine] = []
    status = 200
    restored = False
    confirm_cancel = False
    notice = ""
    # A closed day's totals are final (record_sale refuses it): said as soon as the page
    # opens, not after a whole sale has been rung up.
    closed = await CashClosing.exists(organization_id=org.id, day=local_day(clock.now()))
    if request.method == "GET":
        draft = await TillDraft.get_or_none(organization_id=org.id, user_id=principal.user_id)
        if draft is not None:
            # The lines are read again as the page's own: an item sold since drops out.
            cart = await _cart(org.id, [str(token) for token in draft.lines])
            values = {"payment_mode": draft.payment_mode}
            restored = bool(cart)
    if request.method == "POST":
        form = await request.form()
        tokens = [str(v) for v in form.getlist("line")]
        values = {k: str(v) for k, v in form.items() if k != "line"}
        cart = await _cart(org.id, tokens)
        action = values.get("action", "add")
        try:
            removing = values.get("remove", "").isdigit()
            if closed and (values.get("add_item") or (action in ("add", "validate") and not removing)):
                raise ValidationFailed.single(
                    ErrorCode.INVALID, N_("Today's till is closed: no more sales can be recorded today."), None
                )
            if values.get("add_item"):
                cart.append(await _add_item(org.id, values["add_item"], values, cart))
                values = {"payment_mode": values.get("payment_mode", ""), "focus": "search"}  # the next item
            elif removing:
                index = int(values["remove"])
                if 0 <= index < len(cart):
                    cart.pop(index)
                values = {"payment_mode": values.get("payment_mode", "")}
            elif action == "payment":
                # The payment mode chosen alone (its radio posts it): kept with the sale,
                # and the page left as it is; without htmx it comes back with what was typed.
                await save_till_draft(
                    principal,
                    org.id,
                    {"lines": [line.token for line in cart], "payment_mode": _payment_mode(values)},
                )
                if request.headers.get("hx-request") == "true":
                    return Response(status_code=204)
                values.pop("action", None)
            elif action == "cancel":
                # A sale of several lines is not emptied by one click next to Validate: asked once more.
                confirm_cancel = bool(cart)
            elif action == "cancel_confirmed":
                await discard_till_draft(principal, org.id)
                cart, values = [], {}
                notice = _(request, N_("Sale cancelled."))
            elif action == "back":
                pass  # the sale as it was
            elif action == "validate":
                if not cart:
                    raise ValidationFailed.single(ErrorCode.REQUIRED, N_("Add at least one line to the sale."), None)
                sale = await record_sale(
                    principal,
                    org.id,
                    {"payment_mode": values.get("payment_mode", ""), "lines": [line.sale_line() for line in cart]},
                )
                # After the sale, not with it: a draft left behind by a failure here would
                # only offer lines the till then refuses (items already sold), never a lost sale.
                await discard_till_draft(principal, org.id)
                target = f"/m/ressourcerie/o/{org.slug}/till/receipts/{sale.number}"
                if request.headers.get("hx-request") == "true":
                    return Response(status_code=204, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            else:
                cart.append(await _add_lot(values, request.state.locale))
                values = {"payment_mode": values.get("payment_mode", "")}
            if action not in ("cancel", "cancel_confirmed", "back", "payment"):
                await save_till_draft(
                    principal, org.id, {"lines": [line.token for line in cart], "payment_mode": _payment_mode(values)}
                )
        except ServiceError as exc:
            errors = _errors(exc, request.state.locale)
            status = 400
    context = {
        "cart": cart,
        "restored": restored,
        "closed": closed,
        "confirm_cancel": confirm_cancel,
        "notice": notice,
        "total": sum((line.amount for line in cart), Decimal(0)),
        "modes": PAYMENT_MODES,
        "errors": errors,
        "values": values,
        "categories": await Category.filter(code__startswith="C_").order_by("code"),
    }
    return render(request, "ressourcerie/till.html", context, fragment="ressourcerie/_till.html", status_code=status)


@page()
async def item_search(request: Request) -> Response:
    """Inventory items in stock matching what the cashier typed (title or number)."""
    org = await current_org(request, Action.INVENTORY_WRITE)
    query = request.query_params.get("search", "").strip()[:100]
    items: list[Item] = []
    if query:
        qs = Item.filter(organization_id=org.id, deleted_at__isnull=True, quantity__gt=0).exclude(
            status=ItemStatus.ARCHIVED
        )
        number = item_number(query)
        qs = qs.filter(id=number) if number is not None else matching_items(qs, query)
        items = await qs.order_by("title", "id").limit(8)
    return render(request, "ressourcerie/_till_items.html", {"items": items, "query": query})


async def _sale(request: Request) -> tuple[Any, Sale]:
    org = await current_org(request, Action.INVENTORY_READ)
    number = request.path_params["number"]
    sale = await Sale.get_or_none(organization_id=org.id, number=number).prefetch_related("lines__category", "cashier")
    if sale is None:
        raise NotFound("sale")
    return org, sale


@page()
async def receipt(request: Request) -> Response:
    """A receipt, made to print (the layout's header and menu are not printed)."""
    _org, sale = await _sale(request)
    return render(request, "ressourcerie/receipt.html", {"sale": sale, "modes": PAYMENT_MODES, "pdf": pdf.available()})


@page()
async def receipt_pdf(request: Request) -> Response:
    """The same receipt as a PDF."""
    org, sale = await _sale(request)
    if not pdf.available():
        return Response(_(request, N_("PDF is not available on this server: print the page instead.")), status_code=503)
    html = (
        environment(request.state.locale)
        .get_template("ressourcerie/receipt_pdf.html")
        .render({"sale": sale, "org": org, "modes": PAYMENT_MODES})
    )
    body = await pdf.html_to_pdf(html)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="ticket-{org.slug}-{sale.number}.pdf"'},
    )


@page()
async def closing(request: Request) -> Response:
    """The day's cash closing: totals per payment mode, the cash counted and the gap."""
    org = await current_org(request, Action.INVENTORY_READ)
    principal = request.state.principal
    errors: dict[str, str] = {}
    status = 200
    try:
        day = dt.date.fromisoformat(request.query_params.get("day", "")) if request.query_params.get("day") else None
    except ValueError:
        day = None
        errors["day"] = _(request, N_("Enter a valid date."))
        status = 400
    day = day or clock.today()
    values: dict[str, str] = {}
    confirming = False
    counted_value: Decimal | None = None
    float_value: Decimal | None = None
    if request.method == "POST":
        form = await request.form()
        values = {k: str(v) for k, v in form.items()}
        try:
            amounts = {
                name: typed_number(text, name) if (text := values.get(name, "").strip()) else None
                for name in ("cash_float", "cash_counted")
            }
            float_value, counted_value = amounts["cash_float"], amounts["cash_counted"]
            data = {"day": day, **amounts}
            if not confirmed(form):
                # Closing cannot be undone: the page shows the figures and asks once more —
                # after the service's own rules (a negative float…), so that the confirmation
                # never shows figures the closing would refuse.
                if not principal.can(Action.INVENTORY_DELETE, org.id):
                    raise PermissionDenied()
                parse(ClosingInput, data)
                confirming = True
            else:
                await close_till(principal, org.id, data)
                return RedirectResponse(
                    f"/m/ressourcerie/o/{org.slug}/till/closing?day={day.isoformat()}", status_code=303
                )
        except PermissionDenied:
            raise  # the 403 page
        except ServiceError as exc:
            errors = field_errors(exc, request.state.locale)
            status = 400
    done = await CashClosing.get_or_none(organization_id=org.id, day=day).prefetch_related("closed_by")
    start, end = local_day_bounds(day)
    sales = await Sale.filter(organization_id=org.id, occurred_at__gte=start, occurred_at__lt=end).order_by("number")
    if done is not None:
        totals = {mode: Decimal(amount) for mode, amount in done.totals.items()}
    else:
        totals = {}
        for sale in sales:
            if sale.closing_id is None:  # type: ignore[attr-defined]
                totals[sale.payment_mode.value] = totals.get(sale.payment_mode.value, Decimal(0)) + sale.total
    cash_sales = totals.get(PaymentMode.CASH.value, Decimal(0))
    if done is None and request.method != "POST":
        # Most sites start each day with the same float: the last one is offered again.
        last = await CashClosing.filter(organization_id=org.id, cash_float__isnull=False).order_by("-day").first()
        if last is not None:
            values["cash_float"] = shown_number(last.cash_float, request.state.locale)
    context = {
        "day": day,
        "done": done,
        "sales": sales,
        "totals": [(mode, totals[mode]) for mode in PAYMENT_MODES if mode in totals],
        "grand_total": sum(totals.values(), Decimal(0)),
        "cash_sales": cash_sales,
        "cash_expected": cash_expected(cash_sales, done.cash_float if done is not None else float_value),
        "cash_float": float_value,
        "modes": PAYMENT_MODES,
        "errors": errors,
        "values": values,
        "can_close": principal.can(Action.INVENTORY_DELETE, org.id),
        "confirming": confirming and done is None,
        "cash_counted": counted_value,
        # The day is in the title: the receipts' table gives their time only (it fits a phone).
        "time": lambda moment: babel_dates.format_time(
            moment, format="short", tzinfo=babel_dates.get_timezone("Europe/Paris"), locale=request.state.locale
        ),
    }
    return render(request, "ressourcerie/closing.html", context, status_code=status)
