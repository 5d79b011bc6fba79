"""Delivering webhooks."""

from __future__ import annotations

import json

from tortoise.expressions import F

from fabcom import clock
from fabcom.jobs.execution import HTTPStatusFailure, JobContext, PermanentError
from fabcom.jobs.registry import job
from fabcom.webhooks import signing
from fabcom.webhooks.models import WebhookDelivery
from fabcom.webhooks.services import resolves_to_private


@job()
async def deliver_webhook(ctx: JobContext, *, delivery_id: int) -> None:
    """POST one event to its endpoint, signed. 2xx: delivered. 5xx, 408, 429 and network
    errors: tried again with backoff. Other answers: dead at once. The ``webhook-id``
    header is the same on every try, so a receiver that saw it already can ignore it."""
    delivery = await WebhookDelivery.get_or_none(id=delivery_id).prefetch_related("endpoint")
    if delivery is None or delivery.delivered_at is not None:
        return  # endpoint deleted since, or already delivered by an earlier run
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return
    # The name may resolve elsewhere now than when it was registered (a resolver
    # failure raises OSError: transient).
    if not ctx.settings.webhooks_allow_private and await resolves_to_private(endpoint.url):
        raise PermanentError(f"{endpoint.url} resolves to a private or local address")
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = signing.headers(endpoint.secret, delivery.message_id, int(clock.now().timestamp()), body)
    await WebhookDelivery.filter(id=delivery.id).update(attempts=F("attempts") + 1)
    response = await ctx.http.post(endpoint.url, content=body, headers=headers)
    await WebhookDelivery.filter(id=delivery.id).update(last_status_code=response.status_code)
    if not response.is_success:
        raise HTTPStatusFailure(response.status_code, response.text[:200])
    await WebhookDelivery.filter(id=delivery.id).update(delivered_at=clock.now())
