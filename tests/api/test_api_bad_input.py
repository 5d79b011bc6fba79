"""Values a partner's tool may send by mistake: each is a clear error, never an internal
one, writes nothing, and does not fill the server's log."""

from __future__ import annotations

import logging

import pytest

from fabcom.gql.ids import global_id
from fabcom.inventory.models import StockMovement
from fabcom.inventory.services import create_item

MOVEMENT = """mutation($input: StockMovementRecordInput!) {
  stockMovementRecord(input: $input) { stockMovement { id } errors { field message code } } }"""


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:00:00Z"])
async def test_a_date_no_one_means_is_refused_before_anything_runs(api, token_for, staff_a, org_a, moment):
    item = await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "1"})
    before = await StockMovement.filter(item_id=item.id).count()
    variables = {
        "input": {"itemId": global_id("Item", item.id), "kind": "DONATION", "quantity": "1", "occurredAt": moment}
    }
    answer = await api(MOVEMENT, variables, token=await token_for(staff_a))
    assert "data" not in answer.body  # refused before execution: no data at all (the spec's request error)
    assert "the year must be between 1900 and 2999" in answer.body["errors"][0]["message"]
    assert "INTERNAL_SERVER_ERROR" not in answer.error_codes
    assert await StockMovement.filter(item_id=item.id).count() == before


async def test_the_callers_mistakes_are_not_logged_as_errors(api, db, caplog):
    caplog.set_level(logging.DEBUG)
    await api('{ items(first: 5, after: "not a cursor") { edges { cursor } } }')
    await api('{ node(id: "garbage") { id } }')
    await api("{ items { edges { cursor } } }")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_malformed_id_among_nodes_is_null_and_the_others_answer(api, staff_a, org_a):
    item = await create_item(staff_a, org_a.id, {"title": "Chaise", "visibility": "public"})
    ids = [global_id("Item", item.id), "garbage", global_id("Item", 99_999)]
    answer = await api("query($ids: [ID!]!) { nodes(ids: $ids) { ... on Item { title } } }", {"ids": ids})
    assert answer.data["nodes"] == [{"title": "Chaise"}, None, None]


@pytest.mark.parametrize("quantity", ["1e3", "NaN", "1_000"])
async def test_a_number_not_written_plainly_is_refused(api, token_for, staff_a, org_a, quantity):
    """Python reads "1e3" as a thousand: a slip in a quantity must not record 1,000 pieces."""
    item = await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "1"})
    variables = {"input": {"itemId": global_id("Item", item.id), "kind": "DONATION", "quantity": quantity}}
    answer = await api(MOVEMENT, variables, token=await token_for(staff_a))
    assert "data" not in answer.body
    assert "write it with digits" in answer.body["errors"][0]["message"]
    assert await StockMovement.filter(item_id=item.id).count() == 1
