"""Exchanges across sites, as FEP-0837 agreements.

On the requester's side, asking for a mirrored item records a ``FederatedExchange``
(outgoing) and publishes ``Offer(Agreement)`` to the owner only. On the owner's side,
the ``Offer`` becomes a core ``ExchangeRequest`` (requester = the partner's mirror
organization), so staff answer it on the usual pages; each answer travels back:
``Accept`` / ``Reject`` of the agreement, then ``Update`` with ``exchangeStatus``
``handed_over`` / ``returned``. Handing over writes the owner's ledger (core service)
and, for a gift or a sale, the requester's (the item enters its inventory). The
requester may cancel while the request is pending or accepted (``Update`` with
``cancelled``).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ServiceError, ValidationFailed
from fabcom.federation import vocab
from fabcom.federation.handlers import Activity, Sender, handles
from fabcom.federation.mirror_models import ExchangeDirection, FederatedExchange, MirrorItem
from fabcom.federation.models import Audience
from fabcom.federation.publish import publish
from fabcom.i18n import N_
from fabcom.orgs.models import Organization
from fabcom.permissions import Action, Principal, system_principal
from fabcom.validation import Input, parse

log = logging.getLogger("fabcom.federation.exchanges")

MODE_FOR_KIND = {"borrow": "lend", "receive": "give", "buy": "sell"}
# What the owner's answer (a core ExchangeRequest action) sends back to the requester.
ANSWERS = {
    "accept": ("Accept", "accepted"),
    "decline": ("Reject", "declined"),
    "hand_over": ("Update", "handed_over"),
    "return": ("Update", "returned"),
}
# On the requester's side: which state a received answer may move an exchange from.
RECEIVED: dict[str, tuple[set[str], str]] = {
    "accepted": ({"pending"}, "accepted"),
    "declined": ({"pending", "accepted"}, "declined"),
    # From pending too: the owner's Accept and its "handed over" are separate deliveries,
    # not ordered, and only an owner that accepted can hand over (a late Accept is ignored).
    "handed_over": ({"pending", "accepted"}, "handed_over"),
    "returned": ({"handed_over"}, "returned"),
}


def _agreement_activity(kind: str, exchange: FederatedExchange, actor: str, recipient: str, **extra: Any) -> dict:
    obj: dict[str, Any] = {"id": exchange.agreement_uri, "type": "Agreement", **extra}
    return vocab.activity(
        kind,
        actor=actor,
        obj=obj,
        audience=Audience.DIRECT,
        recipients=[recipient],
        published=clock.now(),
        extra={"inReplyTo": exchange.offer_uri},
    )


# --- the requester's side ---------------------------------------------------------------------------


class RemoteRequestInput(Input):
    mirror_item_id: int
    kind: str = Field(pattern=r"^(borrow|receive|buy)$")
    quantity: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)] = Decimal(1)
    message: str = Field(default="", max_length=1000)
    due_back_on: dt.date | None = None


async def request_mirrored_item(
    actor: Principal, organization_id: int, data: dict[str, Any] | RemoteRequestInput
) -> FederatedExchange:
    """Ask a partner site for one of the items it shares with us: the agreement is sent
    to the owner only; its staff answer on their own site."""
    from fabcom.inventory.services import fraction_refusal
    from fabcom.network.services import are_partners, return_date_refusal

    if not actor.can(Action.NETWORK_WRITE, organization_id):
        raise PermissionDenied()
    payload = parse(RemoteRequestInput, data)
    mirror = await MirrorItem.get_or_none(id=payload.mirror_item_id)
    if mirror is None or not await are_partners(organization_id, mirror.organization_id):  # type: ignore[attr-defined]
        raise NotFound("item")
    local = await Organization.get(id=organization_id)
    owner = await Organization.get(id=mirror.organization_id)  # type: ignore[attr-defined]
    if MODE_FOR_KIND[payload.kind] not in (mirror.sharing_modes or []):
        raise ValidationFailed.single(ErrorCode.INVALID, N_("This item is not offered that way."), "kind")
    if await FederatedExchange.exists(
        local_organization_id=organization_id,
        mirror_item_id=mirror.id,
        direction=ExchangeDirection.OUTGOING,
        status__in=("pending", "accepted"),
    ):  # a second click on « Ask » would send the partner the same offer twice
        raise ValidationFailed.single(
            ErrorCode.ALREADY_EXISTS,
            N_("Your organization has already asked for this item."),
            "mirror_item_id",
        )
    if mirror.status != "available" or payload.quantity > mirror.quantity:
        raise ValidationFailed.single(
            ErrorCode.INSUFFICIENT_STOCK,
            N_("Not enough stock: only {available} left."),
            "quantity",
            available=mirror.quantity,
        )
    if refusal := fraction_refusal(mirror.unit, payload.quantity):
        raise ValidationFailed([refusal])
    if refusal := return_date_refusal(payload.kind, payload.due_back_on):
        raise ValidationFailed([refusal])
    agreement_uri = vocab.new_agreement_id()
    actor_uri = vocab.actor_id(local.slug)
    offer = vocab.activity(
        "Offer",
        actor=actor_uri,
        obj=vocab.agreement_object(
            uri=agreement_uri,
            actor=actor_uri,
            item_uri=mirror.uri,
            kind=payload.kind,
            quantity_value=payload.quantity,
            unit=mirror.unit,
            message=payload.message,
            due_back_on=payload.due_back_on,
        ),
        audience=Audience.DIRECT,
        recipients=[owner.remote_uri or ""],
        published=clock.now(),
    )
    async with in_transaction():
        exchange = await FederatedExchange.create(
            agreement_uri=agreement_uri,
            offer_uri=offer["id"],
            direction=ExchangeDirection.OUTGOING,
            local_organization_id=organization_id,
            remote_organization_id=owner.id,
            mirror_item_id=mirror.id,
            item_uri=mirror.uri,
            item_title=mirror.title,
            kind=payload.kind,
            quantity=payload.quantity,
            unit=mirror.unit,
            message=payload.message,
            due_back_on=payload.due_back_on,
            requested_by_id=actor.user_id,
        )
        await record(
            actor, "federated_exchange.request", exchange, organization_id=organization_id, after=snapshot(exchange)
        )
        await publish(organization_id, offer, audience=Audience.DIRECT, recipients=[owner.remote_uri or ""])
    return exchange


async def cancel_mirrored_request(actor: Principal, exchange_id: int) -> FederatedExchange:
    """The requester withdraws its request while it is pending or accepted."""
    exchange = await FederatedExchange.get_or_none(id=exchange_id, direction=ExchangeDirection.OUTGOING)
    org_id: Any = exchange.local_organization_id if exchange else None  # type: ignore[attr-defined]
    if exchange is None or not actor.can(Action.NETWORK_READ, org_id):
        raise NotFound("exchange_request")
    if not actor.can(Action.NETWORK_WRITE, org_id):
        raise PermissionDenied()
    if exchange.status not in ("pending", "accepted"):
        raise ValidationFailed.single(
            ErrorCode.INVALID_STATE, N_("This request can no longer be changed that way."), "action"
        )
    local = await Organization.get(id=org_id)
    remote = await Organization.get(id=exchange.remote_organization_id)  # type: ignore[attr-defined]
    before = snapshot(exchange)
    async with in_transaction():
        await FederatedExchange.filter(id=exchange.id).update(status="cancelled", updated_at=clock.now())
        await exchange.refresh_from_db()
        await record(
            actor,
            "federated_exchange.cancel",
            exchange,
            organization_id=org_id,
            before=before,
            after=snapshot(exchange),
        )
        activity = _agreement_activity(
            "Update", exchange, vocab.actor_id(local.slug), remote.remote_uri or "", exchangeStatus="cancelled"
        )
        await publish(org_id, activity, audience=Audience.DIRECT, recipients=[remote.remote_uri or ""])
    return exchange


# --- the owner's side -------------------------------------------------------------------------------


class _Commitment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    resourceInventoriedAs: str = Field(default="", max_length=600)
    satisfies: str = Field(default="", max_length=600)
    resourceQuantity: vocab.ReceivedQuantity
    due: dt.date | None = None


class _Agreement(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(max_length=500)
    type: str = Field(max_length=40)
    attributedTo: str = Field(max_length=500)
    exchangeKind: str = Field(pattern=r"^(borrow|receive|buy)$")
    content: str = Field(default="", max_length=5000)
    stipulates: _Commitment


@handles("Offer")
async def receive_offer(activity: Activity, sender: Sender) -> bool:
    """A partner asks for one of our items: it becomes a core exchange request that our
    staff answer; a request we cannot take is rejected at once."""
    from fabcom.network.services import create_exchange_request

    raw = activity.get("object")
    if not isinstance(raw, dict) or raw.get("type") != "Agreement":
        return False
    try:
        if activity.get("actor") != sender.actor_uri:
            raise vocab.Refused("the activity's actor is not the sender")
        agreement = _Agreement.model_validate(raw)
        vocab.check_origin(agreement.id, sender.actor_uri)
        if agreement.attributedTo != sender.actor_uri:
            raise vocab.Refused("the agreement is not attributed to the sender")
    except (ValidationError, vocab.Refused) as exc:
        log.warning("refused Offer %s from %s: %s", vocab.object_uri(activity), sender.actor_uri, exc)
        return True
    if await FederatedExchange.exists(agreement_uri=agreement.id):
        return True  # a duplicate delivery
    item_uri = (agreement.stipulates.resourceInventoriedAs or agreement.stipulates.satisfies).split("#")[0]
    pk = vocab.local_pk(item_uri, "items")
    from fabcom.inventory.models import Item

    item = await Item.get_or_none(id=pk) if pk is not None else None
    if item is None:
        log.warning("refused Offer %s from %s: unknown item %s", agreement.id, sender.actor_uri, item_uri)
        return True
    owner = await Organization.get(id=item.organization_id)  # type: ignore[attr-defined]
    data = {
        "item_id": item.id,
        "kind": agreement.exchangeKind,
        "quantity": agreement.stipulates.resourceQuantity.hasNumericalValue,
        "message": vocab.text_of(agreement.content)[:1000],
        "due_back_on": agreement.stipulates.due,
    }
    try:
        async with in_transaction():
            request = await create_exchange_request(system_principal(), sender.organization_id, data)
            await FederatedExchange.create(
                agreement_uri=agreement.id,
                offer_uri=str(activity.get("id", ""))[:500],
                direction=ExchangeDirection.INCOMING,
                local_organization_id=owner.id,
                remote_organization_id=sender.organization_id,
                exchange_request_id=request.id,
                item_uri=item_uri,
                item_title=item.title,
                kind=agreement.exchangeKind,
                quantity=request.quantity,
                unit=str(item.unit),
                message=request.message,
                due_back_on=request.due_back_on,
            )
    except ServiceError as error:
        # Not a partner, not offered that way, not enough stock...: say no at once.
        log.info("rejected Offer %s from %s: %s", agreement.id, sender.actor_uri, error)
        async with in_transaction():
            reject = vocab.activity(
                "Reject",
                actor=vocab.actor_id(owner.slug),
                obj={"id": agreement.id, "type": "Agreement"},
                audience=Audience.DIRECT,
                recipients=[sender.actor_uri],
                published=clock.now(),
                extra={"inReplyTo": activity.get("id"), "summary": error.text("en")[:500]},
            )
            await publish(owner.id, reject, audience=Audience.DIRECT, recipients=[sender.actor_uri])
    return True


async def exchange_request_changed(request: Any, action: str) -> None:
    """Called by the core's ``respond_exchange_request`` in its transaction: tell a
    remote requester about our answer, and partners about the item's new quantity."""
    from fabcom.federation.sharing import share_item
    from fabcom.inventory.models import Item

    exchange = await FederatedExchange.get_or_none(exchange_request_id=request.id, direction=ExchangeDirection.INCOMING)
    if exchange is not None and action in ANSWERS:
        await _answer(exchange, request, action)
    if action in ("hand_over", "return"):
        item = await Item.get(id=request.item_id)
        await share_item(item, str(item.visibility), refresh=True)


async def _answer(exchange: FederatedExchange, request: Any, action: str) -> None:
    kind, status = ANSWERS[action]
    owner = await Organization.get(id=exchange.local_organization_id)  # type: ignore[attr-defined]
    remote = await Organization.get(id=exchange.remote_organization_id)  # type: ignore[attr-defined]
    extra = {"exchangeStatus": status} if kind == "Update" else {}
    activity = _agreement_activity(kind, exchange, vocab.actor_id(owner.slug), remote.remote_uri or "", **extra)
    if request.response_message:
        activity["summary"] = request.response_message
    await FederatedExchange.filter(id=exchange.id).update(status=status, updated_at=clock.now())
    await publish(owner.id, activity, audience=Audience.DIRECT, recipients=[remote.remote_uri or ""])


# --- answers, both sides ----------------------------------------------------------------------------


def _agreement_uri(activity: Activity) -> str:
    obj = activity.get("object")
    if isinstance(obj, dict):
        if obj.get("type") not in ("Agreement", None):
            return ""
        obj = obj.get("id")
    return obj if isinstance(obj, str) else ""


@handles("Accept", "Reject", "Update")
async def receive_answer(activity: Activity, sender: Sender) -> bool:
    """The other side of an exchange moved it on. Declines what is not about one of our
    agreements with the sender (an Accept of a Follow, an Update of an item...)."""
    uri = _agreement_uri(activity)
    if not uri or activity.get("actor") != sender.actor_uri:
        return False
    exchange = await FederatedExchange.get_or_none(agreement_uri=uri, remote_organization_id=sender.organization_id)
    if exchange is None:
        return False
    obj = activity.get("object")
    status = {"Accept": "accepted", "Reject": "declined"}.get(str(activity.get("type")))
    if status is None:
        status = str(obj.get("exchangeStatus", "")) if isinstance(obj, dict) else ""
    if exchange.direction == ExchangeDirection.INCOMING:
        await _requester_cancelled(exchange, status)
    else:
        await _owner_answered(exchange, status, str(activity.get("summary", ""))[:1000])
    return True


async def _requester_cancelled(exchange: FederatedExchange, status: str) -> None:
    from fabcom.network.services import respond_exchange_request

    if status != "cancelled" or exchange.exchange_request_id is None:  # type: ignore[attr-defined]
        return
    try:
        async with in_transaction():
            await respond_exchange_request(system_principal(), exchange.exchange_request_id, "cancel")  # type: ignore[attr-defined]
            await FederatedExchange.filter(id=exchange.id).update(status="cancelled", updated_at=clock.now())
    except ServiceError as error:
        log.info("ignored the cancellation of %s: %s", exchange.agreement_uri, error)


async def _owner_answered(exchange: FederatedExchange, status: str, message: str) -> None:
    from fabcom.inventory.services import create_item
    from fabcom.notifications.services import notify, staff_of

    sources, target = RECEIVED.get(status, (set(), ""))
    if exchange.status not in sources:
        log.info("ignored %s for %s (it is %s)", status, exchange.agreement_uri, exchange.status)
        return
    system = system_principal()
    org_id = exchange.local_organization_id  # type: ignore[attr-defined]
    owner = await Organization.get(id=exchange.remote_organization_id)  # type: ignore[attr-defined]
    before = snapshot(exchange)
    async with in_transaction():
        received_id = None
        if target == "handed_over" and exchange.kind in ("receive", "buy"):
            mirror = await MirrorItem.get_or_none(id=exchange.mirror_item_id) if exchange.mirror_item_id else None  # type: ignore[attr-defined]
            received = await create_item(
                system,
                org_id,
                {
                    "title": exchange.item_title,
                    "description": vocab.text_of(mirror.content) if mirror else "",
                    "category_code": await _known_category(mirror.category_code if mirror else None),
                    "unit": exchange.unit,
                    "initial_quantity": exchange.quantity,
                    "initial_kind": "transfer_in",
                    "counterparty": owner.name[:200],
                    "attributes": {"received_from": exchange.item_uri},
                },
            )
            received_id = received.id
        await FederatedExchange.filter(id=exchange.id).update(
            status=target,
            updated_at=clock.now(),
            **({"received_item_id": received_id} if received_id else {}),
        )
        await exchange.refresh_from_db()
        if target == "handed_over":
            await _tell_modules(org_id, exchange, received_id)
        await record(
            system,
            f"federated_exchange.{target}",
            exchange,
            organization_id=org_id,
            before=before,
            after=snapshot(exchange),
        )
        data = {
            "exchange_request_id": exchange.id,
            "item": exchange.item_title,
            "organization": owner.name,
            "quantity": str(Decimal(exchange.quantity).normalize()),
            "status": target,
            "message": message,
        }
        slug = (await Organization.get(id=org_id)).slug
        await notify(
            await staff_of(org_id),
            "exchange_request.changed",
            data,
            organization_id=org_id,
            url=f"/o/{slug}/partners#ex-h",
        )


async def _tell_modules(organization_id: int, exchange: FederatedExchange, received_id: int | None) -> None:
    """The modules' ``fabcom_exchange_received`` (the ressourcerie records an intake)."""
    from fabcom.inventory.models import Item
    from fabcom.module_system.hooks import call_async, plugin_manager

    item = await Item.get_or_none(id=received_id) if received_id else None
    weight = Decimal(exchange.quantity) if exchange.unit == "kg" else None
    await call_async(
        plugin_manager().hook.fabcom_exchange_received,
        organization_id=organization_id,
        exchange=exchange,
        item=item,
        weight_kg=weight,
    )


async def _known_category(code: str | None) -> str | None:
    from fabcom.inventory.models import Category

    return code if code and await Category.exists(code=code) else None
