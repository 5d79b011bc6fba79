"""The errors bookings' query fields raise (``PublicError``) carry the English message id
and its parameters, as the core's do, not a text translated in advance: the endpoint
answers each caller in their language, and logs and direct schema calls read English."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fabcom.api import PublicError, global_id, set_module_enabled
from fabcom.auth.models import User
from fabcom.auth.services import create_api_token
from fabcom.gql.context import Context
from fabcom.gql.schema import full_schema
from fabcom.inventory.services import create_item
from fabcom.permissions import known_scopes, system_principal
from modules.bookings.services import make_bookable

PARIS = ZoneInfo("Europe/Paris")
AVAILABILITY = (
    "query($id: ID!, $from: DateTime!, $to: DateTime!)"
    " { node(id: $id) { ... on Item { availability(from: $from, to: $to) { start } } } }"
)


def at(hour: int) -> str:
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), PARIS).isoformat()


@pytest.fixture
async def desk(org_a, staff_a):
    item = await create_item(staff_a, org_a.id, {"title": "Bureau partagé", "visibility": "public"})
    await make_bookable(staff_a, item.id, {"slot_minutes": 30})
    return item


async def ask(client, principal, locale: str, variables: dict[str, str]) -> dict:
    await User.filter(id=principal.user_id).update(locale=locale)  # an API token speaks its account's language
    _token, secret = await create_api_token(
        system_principal(), principal.user_id, {"name": "t", "scopes": [s.code for s in known_scopes()]}
    )
    response = await client.post(
        "/graphql",
        json={"query": AVAILABILITY, "variables": variables},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    return response.json()["errors"][0]


async def test_a_refusal_is_answered_in_each_callers_language(client, desk, staff_a):
    backwards = {"id": global_id("Item", desk.id), "from": at(12), "to": at(8)}
    french = await ask(client, staff_a, "fr", backwards)
    english = await ask(client, staff_a, "en", backwards)
    assert (french["message"], french["extensions"]["code"]) == ("La fin doit suivre le début.", "INVALID")
    assert (english["message"], english["extensions"]["code"]) == ("The end must come after the start.", "INVALID")


async def test_switched_off_is_answered_null_like_any_item_that_cannot_be_booked(client, desk, org_a, staff_a):
    await set_module_enabled(system_principal(), org_a.id, {"module": "bookings", "enabled": False})
    _token, secret = await create_api_token(
        system_principal(), staff_a.user_id, {"name": "t", "scopes": [s.code for s in known_scopes()]}
    )
    variables = {"id": global_id("Item", desk.id), "from": at(8), "to": at(12)}
    response = await client.post(
        "/graphql", json={"query": AVAILABILITY, "variables": variables}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.json()["data"] == {"node": {"availability": None}}
    assert "errors" not in response.json()
    # and a bad window is refused all the same, in the caller's language
    backwards = {**variables, "from": at(12), "to": at(8)}
    french = await ask(client, staff_a, "fr", backwards)
    assert (french["message"], french["extensions"]["code"]) == ("La fin doit suivre le début.", "INVALID")


async def test_the_error_keeps_the_message_id_whatever_the_request_locale(db, desk, staff_a):
    # when the schema is run directly for a French-speaking request
    context = Context(principal=staff_a, locale="fr", settings=db)
    variables = {"id": global_id("Item", desk.id), "from": at(12), "to": at(8)}
    result = await full_schema().execute(AVAILABILITY, variable_values=variables, context_value=context)

    # then the error is the English message id, translated only when answered
    assert result.errors is not None
    error = result.errors[0].original_error
    assert isinstance(error, PublicError)
    assert (error.message, error.message_id) == (
        "The end must come after the start.",
        "The end must come after the start.",
    )
    assert (error.text("fr"), error.text("en")) == (
        "La fin doit suivre le début.",
        "The end must come after the start.",
    )
