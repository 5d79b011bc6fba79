"""Registering webhook endpoints: only admins, only public addresses (unless allowed)."""

from __future__ import annotations

import pytest

from fabcom.errors import PermissionDenied, ValidationFailed
from fabcom.members.models import Role
from fabcom.webhooks.models import WebhookEndpoint
from fabcom.webhooks.services import create_endpoint


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.1.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[fe80::1]/hooks",
        "http://0.0.0.0/hooks",
    ],
)
async def test_a_private_or_local_address_is_refused_with_a_clear_message(org_a, make_member, url):
    admin = await make_member(org_a, role=Role.ADMIN)

    with pytest.raises(ValidationFailed) as refused:
        await create_endpoint(admin, org_a.id, {"url": url, "events": ["item.created"]}, allow_private=False)

    (error,) = refused.value.errors
    assert (error.code, error.field) == ("invalid", "url")
    assert error.text("fr") == (
        "Cette adresse est sur un réseau privé ou local : les webhooks ne peuvent être envoyés qu’à des adresses publiques."
    )
    assert error.text("en") == (
        "This address is on a private or local network: webhooks can only be sent to public addresses."
    )
    assert await WebhookEndpoint.all().count() == 0


async def test_a_private_address_is_accepted_when_the_admin_setting_allows_it(org_a, make_member):
    admin = await make_member(org_a, role=Role.ADMIN)

    endpoint = await create_endpoint(
        admin, org_a.id, {"url": "http://127.0.0.1:8000/hooks", "events": ["item.created"]}, allow_private=True
    )

    assert endpoint.events == ["item.created"]
    assert endpoint.secret.startswith("whsec_")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"url": "ftp://example.org/x", "events": ["item.created"]},
            "url",
            "Enter an absolute http:// or https:// address.",
        ),
        ({"url": "https://example.org/x", "events": []}, "events", "Give at least 1 of them."),
        ({"url": "https://example.org/x", "events": ["item.eaten"]}, "events.0", None),
    ],
)
async def test_bad_endpoints_are_refused_and_nothing_is_created(org_a, make_member, data, field, message):
    admin = await make_member(org_a, role=Role.ADMIN)

    with pytest.raises(ValidationFailed) as refused:
        await create_endpoint(admin, org_a.id, data, allow_private=True)

    assert refused.value.errors[0].field == field
    if message:
        assert refused.value.errors[0].text("en") == message
    assert await WebhookEndpoint.all().count() == 0


@pytest.mark.parametrize("role", [Role.STAFF, Role.VOLUNTEER, Role.MEMBER])
async def test_only_owners_and_admins_register_endpoints(org_a, make_member, role):
    someone = await make_member(org_a, role=role)

    with pytest.raises(PermissionDenied):
        await create_endpoint(someone, org_a.id, {"url": "https://example.org/x", "events": ["item.created"]})

    assert await WebhookEndpoint.all().count() == 0


async def test_an_admin_of_another_organization_cannot_register_for_it(org_a, org_b, make_member):
    admin_b = await make_member(org_b, role=Role.ADMIN)

    with pytest.raises(PermissionDenied):
        await create_endpoint(admin_b, org_a.id, {"url": "https://example.org/x", "events": ["item.created"]})

    assert await WebhookEndpoint.all().count() == 0
