"""Golden JSON of the partnership activities fabcom emits (Follow, Accept, Reject, Block)
and of the collections and discovery documents it serves: any change to them is a
protocol change and must be deliberate."""

from __future__ import annotations

from itertools import count

import pytest

from fabcom.federation import partnerships
from fabcom.orgs.models import Organization

A = "http://127.0.0.1:8000/ap/o/recyclerie-a"
B = "https://b.example/ap/o/fablab"
AS = "https://www.w3.org/ns/activitystreams"


@pytest.fixture
def fixed_ids(monkeypatch):
    numbers = count(1)
    monkeypatch.setattr(partnerships, "activity_id", lambda: f"http://127.0.0.1:8000/ap/activities/{next(numbers)}")


def org() -> Organization:
    return Organization(id=1, slug="recyclerie-a", name="Recyclerie A")


def test_follow(fixed_ids, fed_settings):
    assert partnerships.follow(org(), B, "Bonjour") == {
        "@context": AS,
        "id": "http://127.0.0.1:8000/ap/activities/1",
        "type": "Follow",
        "actor": A,
        "object": B,
        "content": "Bonjour",
    }
    assert "content" not in partnerships.follow(org(), B)


def test_accept_and_reject_quote_the_follow(fixed_ids, fed_settings):
    their_follow = {"id": "https://b.example/ap/activities/9", "type": "Follow", "actor": B, "object": A}
    for n, kind in enumerate(("Accept", "Reject"), 1):
        assert partnerships.answer(kind, org(), B, their_follow) == {
            "@context": AS,
            "id": f"http://127.0.0.1:8000/ap/activities/{n}",
            "type": kind,
            "actor": A,
            "object": their_follow,
            "to": [B],
        }


def test_block(fixed_ids, fed_settings):
    assert partnerships.block(org(), B) == {
        "@context": AS,
        "id": "http://127.0.0.1:8000/ap/activities/1",
        "type": "Block",
        "actor": A,
        "object": B,
        "to": [B],
    }


async def test_followers_collection_counts_and_never_lists(client, org_a, fed_settings):
    response = await client.get("/ap/o/recyclerie-a/followers", headers={"accept": "application/activity+json"})

    assert response.json() == {
        "@context": AS,
        "id": f"{A}/followers",
        "type": "OrderedCollection",
        "totalItems": 0,
    }
