"""Webhook endpoints: registering them, and emitting an organization's events to them.

``emit`` is called by services inside their transaction: it writes one delivery and one
outbox job per subscribed endpoint, so an event is sent if and only if the change commits.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from fabcom.i18n import N_
from fabcom.jobs.outbox import enqueue
from fabcom.permissions import Action, Principal
from fabcom.validation import Input, InputError, parse
from fabcom.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from fabcom.webhooks.signing import new_secret


class EndpointInput(Input):
    url: str = Field(min_length=1, max_length=500)
    events: list[WebhookEvent] = Field(min_length=1)
    description: str = Field(default="", max_length=200)

    @field_validator("url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(N_("Enter an absolute http:// or https:// address."))
        return value


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


async def resolves_to_private(url: str) -> bool:
    """Does the URL's host resolve to any non-public address? (OSError when it does not resolve.)"""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname or "", port)
    return any(_is_private(str(info[4][0])) for info in infos)


async def check_public_url(url: str, allow_private: bool) -> None:
    """Refuse a URL whose host resolves to a loopback, private or link-local address
    (a webhook must not become a way into the instance's own network)."""
    try:
        private = await resolves_to_private(url)
    except OSError:
        raise ValidationFailed.single(ErrorCode.INVALID, N_("This address cannot be resolved."), "url") from None
    if private and not allow_private:
        raise ValidationFailed.single(
            ErrorCode.INVALID,
            N_("This address is on a private or local network: webhooks can only be sent to public addresses."),
            "url",
        )


def _allow_private(allow_private: bool | None) -> bool:
    if allow_private is not None:
        return allow_private
    from fabcom.settings import load_settings

    return load_settings().webhooks_allow_private


async def create_endpoint(
    actor: Principal,
    organization_id: int,
    data: dict[str, Any] | EndpointInput,
    *,
    allow_private: bool | None = None,
) -> WebhookEndpoint:
    """Register a URL that receives the organization's events; its signing secret is
    generated and shown to the admin (it is readable again by the organization's admins)."""
    if not actor.can(Action.ORG_MANAGE, organization_id):
        raise PermissionDenied()
    payload = parse(EndpointInput, data)
    await check_public_url(payload.url, _allow_private(allow_private))
    async with in_transaction():
        endpoint = await WebhookEndpoint.create(
            organization_id=organization_id,
            url=payload.url,
            events=sorted({e.value for e in payload.events}),
            description=payload.description,
            secret=new_secret(),
            created_by_id=actor.user_id,
        )
        after = snapshot(endpoint)
        after.pop("secret")
        await record(actor, "webhook_endpoint.create", endpoint, organization_id=organization_id, after=after)
    return endpoint


async def delete_endpoint(actor: Principal, endpoint_id: int) -> None:
    endpoint = await WebhookEndpoint.get_or_none(id=endpoint_id)
    if endpoint is None or not actor.can(Action.ORG_MANAGE, endpoint.organization_id):  # type: ignore[attr-defined]
        raise NotFound("webhook_endpoint")
    before = snapshot(endpoint)
    before.pop("secret")
    async with in_transaction():
        await endpoint.delete()
        await record(
            actor,
            "webhook_endpoint.delete",
            endpoint,
            organization_id=endpoint.organization_id,  # type: ignore[attr-defined]
            before=before,
        )


async def emit(organization_id: int, event: WebhookEvent, data: dict[str, Any]) -> int:
    """Queue ``event`` for every active endpoint of the organization subscribed to it.
    Call inside the service's transaction; returns the number of deliveries queued."""
    endpoints = await WebhookEndpoint.filter(organization_id=organization_id, is_active=True)
    count = 0
    for endpoint in endpoints:
        if event.value not in endpoint.events:
            continue
        delivery = await WebhookDelivery.create(
            endpoint_id=endpoint.id,
            event=event.value,
            payload={"type": event.value, "timestamp": clock.now().isoformat(), "data": data},
            message_id=f"msg_{uuid.uuid4().hex}",
        )
        await enqueue("deliver_webhook", key=f"webhook:{delivery.message_id}", delivery_id=delivery.id)
        count += 1
    return count


TEST_EVENT = "webhook.test"


async def _endpoint_for(actor: Principal, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint, when the actor manages its organization (else answered as missing)."""
    endpoint = await WebhookEndpoint.get_or_none(id=endpoint_id)
    if endpoint is None or not actor.can(Action.ORG_MANAGE, endpoint.organization_id):  # type: ignore[attr-defined]
        raise NotFound("webhook_endpoint")
    return endpoint


async def set_endpoint_active(actor: Principal, endpoint_id: int, active: bool) -> WebhookEndpoint:
    """Disable an endpoint (no new deliveries; queued ones are skipped) or enable it again."""
    endpoint = await _endpoint_for(actor, endpoint_id)
    if endpoint.is_active == active:
        return endpoint
    async with in_transaction():
        await WebhookEndpoint.filter(id=endpoint.id).update(is_active=active, updated_at=clock.now())
        await endpoint.refresh_from_db()
        await record(
            actor,
            "webhook_endpoint.enable" if active else "webhook_endpoint.disable",
            endpoint,
            organization_id=endpoint.organization_id,  # type: ignore[attr-defined]
            after={"is_active": active},
        )
    return endpoint


async def send_test_event(actor: Principal, endpoint_id: int) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to this endpoint only, signed like any other, so
    the partner can check their receiver."""
    endpoint = await _endpoint_for(actor, endpoint_id)
    if not endpoint.is_active:
        raise ValidationFailed.single(
            ErrorCode.INVALID_STATE, N_("This endpoint is disabled: enable it to send a test event."), "id"
        )
    async with in_transaction():
        delivery = await WebhookDelivery.create(
            endpoint_id=endpoint.id,
            event=TEST_EVENT,
            payload={
                "type": TEST_EVENT,
                "timestamp": clock.now().isoformat(),
                "data": {"endpoint_id": endpoint.id, "organization_id": endpoint.organization_id},  # type: ignore[attr-defined]
            },
            message_id=f"msg_{uuid.uuid4().hex}",
        )
        await enqueue("deliver_webhook", key=f"webhook:{delivery.message_id}", delivery_id=delivery.id)
        await record(
            actor,
            "webhook_endpoint.test",
            endpoint,
            organization_id=endpoint.organization_id,  # type: ignore[attr-defined]
            after={"message_id": delivery.message_id},
        )
    return delivery


async def list_endpoints(actor: Principal, organization_id: int) -> list[WebhookEndpoint]:
    if not actor.can(Action.ORG_MANAGE, organization_id):
        raise PermissionDenied()
    return await WebhookEndpoint.filter(organization_id=organization_id).order_by("id")


async def recent_deliveries(actor: Principal, endpoint_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The endpoint's latest deliveries with their state: delivered, pending, retrying or
    dead (from the delivery job), attempts, last HTTP status and last error."""
    from fabcom.jobs.models import Job, JobStatus

    endpoint = await _endpoint_for(actor, endpoint_id)
    deliveries = await WebhookDelivery.filter(endpoint_id=endpoint.id).order_by("-id").limit(limit)
    keys = [f"webhook:{d.message_id}" for d in deliveries]
    jobs = {j.key: j for j in await Job.filter(key__in=keys)} if keys else {}
    rows = []
    for d in deliveries:
        found = jobs.get(f"webhook:{d.message_id}")
        if d.delivered_at is not None:
            state = "delivered"
        elif found is None or found.status in (JobStatus.PENDING, JobStatus.RUNNING):
            state = "pending"
        elif found.status == JobStatus.FAILED:
            state = "retrying"
        elif found.status == JobStatus.DEAD:
            state = "dead"
        else:
            state = "skipped"  # done without delivery: the endpoint was disabled
        rows.append(
            {
                "delivery": d,
                "state": state,
                "attempts": d.attempts,
                "status_code": d.last_status_code,
                "last_error": found.last_error if found else "",
                "next_try_at": found.next_try_at if found and found.status == JobStatus.FAILED else None,
            }
        )
    return rows
