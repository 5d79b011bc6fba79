"""Dispatching received activities to the concern that handles them."""

from __future__ import annotations

from fabcom.federation import handlers
from fabcom.federation.handlers import Sender, dispatch, dispatch_batch

SENDER = Sender(actor_uri="https://b.example/ap/o/b", organization_id=1)


async def test_an_accept_goes_to_the_handler_whose_object_it_is_and_unknown_types_to_none(monkeypatch):
    monkeypatch.setattr(handlers, "_handlers", {})
    monkeypatch.setattr(handlers, "_loaded", True)  # the real handler modules stay out of this test
    seen: list[str] = []

    @handlers.handles("Accept")
    async def follows(activity, sender):
        if activity["object"]["type"] != "Follow":
            return False
        seen.append("follow")
        return True

    @handlers.handles("Accept")
    async def agreements(activity, sender):
        seen.append("agreement")
        return True

    assert await dispatch({"type": "Accept", "object": {"type": "Agreement"}}, SENDER)
    assert await dispatch({"type": "Accept", "object": {"type": "Follow"}}, SENDER)
    assert not await dispatch({"type": "Listen", "object": {}}, SENDER)
    assert seen == ["agreement", "follow"]


async def test_a_page_keeps_its_order_and_batches_runs_of_one_type(monkeypatch):
    monkeypatch.setattr(handlers, "_handlers", {})
    monkeypatch.setattr(handlers, "_loaded", True)  # the real handler modules stay out of this test
    monkeypatch.setattr(handlers, "_batch_handlers", {})
    calls: list[tuple[str, list[int]]] = []

    @handlers.handles_batch("Create", "Update")
    async def upsert(activities, sender):
        calls.append(("batch", [a["n"] for a in activities]))

    @handlers.handles("Delete")
    async def delete(activity, sender):
        calls.append(("one", [activity["n"]]))
        return True

    page = [
        {"type": "Create", "n": 1},
        {"type": "Create", "n": 2},
        {"type": "Delete", "n": 3},
        {"type": "Update", "n": 4},
    ]
    await dispatch_batch(page, SENDER)
    assert calls == [("batch", [1, 2]), ("one", [3]), ("batch", [4])]
