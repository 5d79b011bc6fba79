"""Partnerships between organizations and exchange requests for items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.errors import ErrorCode, FieldError, NotFound, PermissionDenied, ValidationFailed
from fabcom.federation import partnerships as federation_partnerships
from fabcom.federation.exchanges import exchange_request_changed
from fabcom.i18n import N_
from fabcom.inventory.models import Item, ItemStatus, MovementKind, SharingMode, Visibility
from fabcom.inventory.services import _apply_movement, _weight_of, fraction_refusal, get_item_for
from fabcom.module_system.hooks import call_async, plugin_manager
from fabcom.network.models import ExchangeKind, ExchangeRequest, ExchangeStatus, Partnership, PartnershipStatus
from fabcom.orgs.models import Organization
from fabcom.permissions import Action, Principal
from fabcom.validation import Input, parse
from fabcom.webhooks.services import WebhookEvent, emit


async def partnership_between(a: int, b: int) -> Partnership | None:
    return await Partnership.get_or_none(Q(organization_id=a, partner_id=b) | Q(organization_id=b, partner_id=a))


async def are_partners(a: int, b: int) -> bool:
    link = await partnership_between(a, b)
    return link is not None and link.status == PartnershipStatus.ACCEPTED


class PartnershipRequestInput(Input):
    partner_slug: str = Field(default="", max_length=64)
    # A partner on another server: ``slug@host`` (found through WebFinger) or its actor URL.
    partner_address: str = Field(default="", max_length=500)
    message: str = Field(default="", max_length=500)


async def _remote_partner(address: str) -> Organization:
    """The local mirror of the organization at ``address`` on another server."""
    from fabcom.federation import discovery, remote

    try:
        actor = await remote.fetch_actor(await discovery.resolve_address(address))
    except (remote.FetchError, remote.Refused):
        raise ValidationFailed.single(
            ErrorCode.INVALID,
            N_("No fabcom organization answers at this address (use name@server or the address of its actor)."),
            "partner_address",
        ) from None
    return await Organization.get(id=actor.organization_id)  # type: ignore[attr-defined]


async def request_partnership(
    actor: Principal, organization_id: int, data: dict[str, Any] | PartnershipRequestInput
) -> Partnership:
    """Ask another organization to become partners."""
    if not actor.can(Action.NETWORK_WRITE, organization_id):
        raise PermissionDenied()
    payload = parse(PartnershipRequestInput, data)
    if not payload.partner_slug and not payload.partner_address:
        raise ValidationFailed.single(ErrorCode.REQUIRED, N_("Enter the partner's address."), "partner_address")
    partner: Organization | None
    if payload.partner_address:
        partner = await _remote_partner(payload.partner_address)
    else:
        partner = await Organization.get_or_none(slug=payload.partner_slug)
    if partner is None:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("Unknown organization."), "partner_slug")
    if partner.id == organization_id:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("An organization cannot partner with itself."), "partner_slug"
        )
    existing = await partnership_between(organization_id, partner.id)
    if existing is not None and existing.status != PartnershipStatus.REFUSED:
        raise ValidationFailed.single(
            ErrorCode.ALREADY_EXISTS, N_("A partnership with this organization already exists."), "partner_slug"
        )
    async with in_transaction():
        if existing is not None:  # asking again after a refusal
            await existing.delete()
        link = await Partnership.create(
            organization_id=organization_id,
            partner_id=partner.id,
            message=payload.message,
            requested_by_id=actor.user_id,
        )
        await record(actor, "partnership.request", link, organization_id=organization_id, after=snapshot(link))
        await federation_partnerships.partnership_requested(link, payload.message)
    return link


RESPONSES = {
    "accept": PartnershipStatus.ACCEPTED,
    "refuse": PartnershipStatus.REFUSED,
    "block": PartnershipStatus.BLOCKED,
}


async def respond_partnership(actor: Principal, partnership_id: int, response: str) -> Partnership:
    """Accept, refuse or block a partnership request addressed to one's organization.
    Either side may block an accepted partnership, which ends it."""
    link = await Partnership.get_or_none(id=partnership_id)
    sides = (link.organization_id, link.partner_id) if link else ()  # type: ignore[attr-defined]
    if link is None or not any(actor.can(Action.NETWORK_READ, side) for side in sides):
        raise NotFound("partnership")
    status = RESPONSES.get(response)
    if status is None:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("Choose one of: {choices}."), "response", choices=", ".join(RESPONSES)
        )
    if status == PartnershipStatus.BLOCKED:
        allowed = any(actor.can(Action.NETWORK_WRITE, side) for side in sides)
    else:
        allowed = actor.can(Action.NETWORK_WRITE, link.partner_id) and link.status == PartnershipStatus.REQUESTED  # type: ignore[attr-defined]
        if actor.can(Action.NETWORK_WRITE, link.partner_id) and not allowed:  # type: ignore[attr-defined]
            raise ValidationFailed.single(
                ErrorCode.INVALID_STATE, N_("This request has already been answered."), "response"
            )
    if not allowed:
        raise PermissionDenied()
    before = snapshot(link)
    async with in_transaction():
        await Partnership.filter(id=link.id).update(
            status=status, responded_by_id=actor.user_id, responded_at=clock.now(), updated_at=clock.now()
        )
        await link.refresh_from_db()
        await record(
            actor,
            f"partnership.{response}",
            link,
            organization_id=link.partner_id,  # type: ignore[attr-defined]
            before=before,
            after=snapshot(link),
        )
        await federation_partnerships.partnership_answered(link, response)
    return link


# --- exchange requests ----------------------------------------------------------------

MODE_FOR_KIND = {
    ExchangeKind.BORROW: SharingMode.LEND,
    ExchangeKind.RECEIVE: SharingMode.GIVE,
    ExchangeKind.BUY: SharingMode.SELL,
}
MOVEMENT_FOR_KIND = {
    ExchangeKind.BORROW: MovementKind.LOAN,
    ExchangeKind.RECEIVE: MovementKind.GIFT,
    ExchangeKind.BUY: MovementKind.SALE,
}


class ExchangeRequestInput(Input):
    item_id: int
    kind: ExchangeKind
    quantity: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)] = Decimal(1)
    message: str = Field(default="", max_length=1000)
    due_back_on: dt.date | None = None


OPEN_STATUSES = (ExchangeStatus.PENDING, ExchangeStatus.ACCEPTED)


async def open_request_item_ids(requester_organization_id: int, item_ids: list[int]) -> set[int]:
    """Which of ``item_ids`` the organization has asked for and not yet received, been
    refused or given up (pending or accepted requests): the ones not to ask for again."""
    rows = await ExchangeRequest.filter(
        requester_organization_id=requester_organization_id, item_id__in=item_ids, status__in=OPEN_STATUSES
    ).values("item_id")
    return {row["item_id"] for row in rows}


def return_date_refusal(kind: str, due_back_on: dt.date | None) -> FieldError | None:
    """Why ``due_back_on`` does not fit the request, or None: only a loan comes back, and
    not before today. (A gift or a sale with a return date would promise what never happens.)"""
    if due_back_on is None:
        return None
    if kind != ExchangeKind.BORROW:
        return FieldError(ErrorCode.INVALID, N_("Only a loan has a return date."), "due_back_on")
    if due_back_on < clock.today():
        return FieldError(ErrorCode.INVALID, N_("The return date cannot be in the past."), "due_back_on")
    return None


async def create_exchange_request(
    actor: Principal, requester_organization_id: int, data: dict[str, Any] | ExchangeRequestInput
) -> ExchangeRequest:
    """A partner organization asks for an item it can see, in a way the owner offers."""
    if not actor.can(Action.NETWORK_WRITE, requester_organization_id):
        raise PermissionDenied()
    payload = parse(ExchangeRequestInput, data)
    item = await get_item_for(actor, payload.item_id)
    owner_id = item.organization_id  # type: ignore[attr-defined]
    if owner_id == requester_organization_id:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("This item already belongs to your organization."), "item_id"
        )
    if not await are_partners(owner_id, requester_organization_id):
        raise ValidationFailed.single(
            ErrorCode.NOT_PARTNER, N_("Only partner organizations can ask for items."), "item_id"
        )
    if item.visibility == Visibility.PRIVATE:
        raise NotFound("item")
    if MODE_FOR_KIND[payload.kind].value not in item.sharing_modes:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("This item is not offered that way."), "kind")
    if item.id in await open_request_item_ids(requester_organization_id, [item.id]):
        # A second click on « Ask » (or a reload) would send the owner the same request twice.
        raise ValidationFailed.single(
            ErrorCode.ALREADY_EXISTS,
            N_("Your organization has already asked for this item."),
            "item_id",
        )
    if item.status != ItemStatus.AVAILABLE or payload.quantity > item.quantity:
        raise ValidationFailed.single(
            ErrorCode.INSUFFICIENT_STOCK,
            N_("Not enough stock: only {available} left."),
            "quantity",
            available=item.quantity,
        )
    if refusal := fraction_refusal(item.unit, payload.quantity):
        raise ValidationFailed([refusal])
    if refusal := return_date_refusal(payload.kind, payload.due_back_on):
        raise ValidationFailed([refusal])
    async with in_transaction():
        request = await ExchangeRequest.create(
            item_id=item.id,
            owner_organization_id=owner_id,
            requester_organization_id=requester_organization_id,
            requested_by_id=actor.user_id,
            kind=payload.kind,
            quantity=payload.quantity,
            message=payload.message,
            due_back_on=payload.due_back_on,
        )
        await record(actor, "exchange_request.create", request, organization_id=owner_id, after=snapshot(request))
        await _announce_exchange(request, item, "exchange_request.created", notify_org=owner_id)
    return request


# Which side may move a request from one state to the next.
TRANSITIONS: dict[str, tuple[set[ExchangeStatus], ExchangeStatus, str]] = {
    "accept": ({ExchangeStatus.PENDING}, ExchangeStatus.ACCEPTED, "owner"),
    "decline": ({ExchangeStatus.PENDING, ExchangeStatus.ACCEPTED}, ExchangeStatus.DECLINED, "owner"),
    "cancel": ({ExchangeStatus.PENDING, ExchangeStatus.ACCEPTED}, ExchangeStatus.CANCELLED, "requester"),
    "hand_over": ({ExchangeStatus.ACCEPTED}, ExchangeStatus.HANDED_OVER, "owner"),
    "return": ({ExchangeStatus.HANDED_OVER}, ExchangeStatus.RETURNED, "owner"),
}


async def respond_exchange_request(
    actor: Principal, request_id: int, action: str, message: str = ""
) -> ExchangeRequest:
    """Move an exchange request on: the owner accepts, declines, hands the item over and
    takes a loan back; the requester may cancel. Handing over and returning write the
    stock movements on both sides."""
    request = await ExchangeRequest.get_or_none(id=request_id)
    owner_id: Any = request.owner_organization_id if request else None  # type: ignore[attr-defined]
    requester_id: Any = request.requester_organization_id if request else None  # type: ignore[attr-defined]
    if request is None or not (
        actor.can(Action.NETWORK_READ, owner_id) or actor.can(Action.NETWORK_READ, requester_id)
    ):
        raise NotFound("exchange_request")
    if action not in TRANSITIONS:
        raise ValidationFailed.single(
            ErrorCode.INVALID, N_("Choose one of: {choices}."), "action", choices=", ".join(TRANSITIONS)
        )
    sources, target, side = TRANSITIONS[action]
    if not actor.can(Action.NETWORK_WRITE, owner_id if side == "owner" else requester_id):
        # Say which side may, rather than a bare refusal: a partner's script (or a volunteer)
        # learns whom to ask.
        raise PermissionDenied(
            N_("Only the staff of the organization that owns the item can do this.")
            if side == "owner"
            else N_("Only the staff of the organization that asked can cancel the request.")
        )
    if request.status not in sources:
        raise ValidationFailed.single(
            ErrorCode.INVALID_STATE, N_("This request can no longer be changed that way."), "action"
        )
    if action == "return" and request.kind != ExchangeKind.BORROW:
        raise ValidationFailed.single(ErrorCode.INVALID_STATE, N_("Only a loan can be returned."), "action")
    before = snapshot(request)
    async with in_transaction():
        item = await Item.get(id=request.item_id)  # type: ignore[attr-defined]
        if action == "hand_over":
            await _hand_over(actor, request, item)
        elif action == "return":
            await _apply_movement(
                actor,
                item,
                MovementKind.RETURN,
                request.quantity,
                weight_kg=_weight_of(item, request.quantity),
                occurred_at=clock.now(),
                counterparty_organization_id=requester_id,
                exchange_request_id=request.id,
            )
        await ExchangeRequest.filter(id=request.id).update(
            status=target,
            responded_by_id=actor.user_id,
            updated_at=clock.now(),
            **({"response_message": message[:1000]} if message else {}),
        )
        await request.refresh_from_db()
        await record(
            actor,
            f"exchange_request.{action}",
            request,
            organization_id=owner_id,
            before=before,
            after=snapshot(request),
        )
        other_side: int = request.requester_organization_id if side == "owner" else request.owner_organization_id  # type: ignore[attr-defined]
        await _announce_exchange(request, item, "exchange_request.changed", notify_org=other_side)
        await exchange_request_changed(request, action)
    return request


async def _announce_exchange(request: ExchangeRequest, item: Item, kind: str, notify_org: int) -> None:
    """Tell the other side's staff (in-app, e-mail by preference) and both sides' webhooks."""
    from fabcom.notifications.services import notify, staff_of

    owner_id = request.owner_organization_id  # type: ignore[attr-defined]
    requester_id = request.requester_organization_id  # type: ignore[attr-defined]
    requester = await Organization.get(id=requester_id)
    data = {
        "exchange_request_id": request.id,
        "item": item.title,
        "organization": requester.name,
        "quantity": str(request.quantity.normalize()),
        "status": request.status.value,
    }
    slug = (await Organization.get(id=notify_org)).slug
    url = f"/o/{slug}/partners#ex-h"  # where the request is answered
    await notify(await staff_of(notify_org), kind, data, organization_id=notify_org, url=url)
    event = snapshot(request)
    for organization_id in (owner_id, requester_id):
        await emit(organization_id, WebhookEvent.EXCHANGE_REQUEST_CHANGED, event)


async def _hand_over(actor: Principal, request: ExchangeRequest, item: Item) -> None:
    """The owner's stock goes out; a local requester that receives or buys the item gets
    it in its own inventory with a matching incoming movement."""
    requester_id = request.requester_organization_id  # type: ignore[attr-defined]
    weight = _weight_of(item, request.quantity)
    await _apply_movement(
        actor,
        item,
        MOVEMENT_FOR_KIND[request.kind],
        request.quantity,
        weight_kg=weight,
        occurred_at=clock.now(),
        counterparty_organization_id=requester_id,
        exchange_request_id=request.id,
    )
    requester = await Organization.get(id=requester_id)
    await call_async(
        plugin_manager().hook.fabcom_exchange_handed_over,
        actor=actor,
        request=request,
        item=item,
        quantity=request.quantity,
        weight_kg=weight,
    )
    if request.kind != ExchangeKind.BORROW and requester.is_local:
        received = await Item.create(
            organization_id=requester_id,
            title=item.title,
            description=item.description,
            category_id=item.category_id,  # type: ignore[attr-defined]
            unit=item.unit,
            unit_weight_kg=item.unit_weight_kg,
            condition=item.condition,
            visibility=Visibility.PRIVATE,
            created_by_id=actor.user_id,
            attributes={"received_from_item": item.id},
        )
        await record(actor, "item.create", received, organization_id=requester_id, after=snapshot(received))
        await _apply_movement(
            actor,
            received,
            MovementKind.TRANSFER_IN,
            request.quantity,
            weight_kg=weight,
            occurred_at=clock.now(),
            counterparty_organization_id=item.organization_id,  # type: ignore[attr-defined]
            exchange_request_id=request.id,
        )
