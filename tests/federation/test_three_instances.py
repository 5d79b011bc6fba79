"""Three real fabcom instances, each its own ``fabcom serve`` process on 127.0.0.1 with
its own SQLite database (A with a real ``fabcom worker`` on Redis when
FABCOM_TEST_REDIS_URL is set, B and C with the embedded runner), talking ActivityPub over
loopback. A and B become partners; A shares items and a project; B finds them in network
search and asks for an item; A accepts and hands it over, and both ledgers agree; an item
A makes private disappears from B; B goes down, A keeps changing things, B comes back and
catches up; C, not a partner, sees none of A's partner-only data. Every wait is bounded."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from fabcom.gql.ids import decode_global_id
from fabcom.testing.instances import Instance, csrf_token, eventually
from fabcom.testing.jobs import flush_redis
from fabcom.testing.services import REDIS_ENV, require

AP = "application/activity+json"
PARTNERSHIPS = "{ partnerships(first: 20) { edges { node { id status organization { slug } partner { slug } } } } }"
NETWORK = (
    "query($q: String) { networkItems(first: 50, filter: {search: $q})"
    " { edges { node { id title quantity visibility organization { slug } } } } }"
)
CREATE_ITEM = (
    "mutation($input: ItemCreateInput!) { itemCreate(input: $input) { item { id } errors { code field message } } }"
)


@pytest.fixture
async def instances(tmp_path) -> AsyncIterator[tuple[Instance, Instance, Instance]]:
    redis_url = require(REDIS_ENV, "Redis") if os.environ.get(REDIS_ENV) else ""  # this xdist worker's database
    if redis_url:
        await flush_redis(redis_url)
    a = Instance("a", tmp_path, redis_url=redis_url)
    b = Instance("b", tmp_path)
    c = Instance("c", tmp_path)
    started: list[Instance] = []
    try:
        for instance, slug, name in (
            (a, "atelier-a", "Atelier A"),
            (b, "fablab-b", "Fablab B"),
            (c, "coop-c", "Coop C"),
        ):
            instance.setup(slug, name)
            instance.start(worker=True)
            started.append(instance)
        yield a, b, c
    finally:
        for instance in started:
            instance.stop()


async def links(instance: Instance) -> list[dict]:
    data = await instance.graphql(PARTNERSHIPS)
    return [edge["node"] for edge in data["partnerships"]["edges"]]


async def network(instance: Instance, q: str | None = None) -> dict[str, dict]:
    data = await instance.graphql(NETWORK, {"q": q})
    return {edge["node"]["title"]: edge["node"] for edge in data["networkItems"]["edges"]}


async def create_item(instance: Instance, title: str, visibility: str, **extra: object) -> str:
    data = await instance.graphql(
        CREATE_ITEM,
        {"input": {"organizationSlug": instance.slug, "title": title, "visibility": visibility, **extra}},
    )
    assert data["itemCreate"]["errors"] == [], data
    return data["itemCreate"]["item"]["id"]


async def partner(a: Instance, b: Instance) -> None:
    asked = await b.graphql(
        "mutation($o: String!, $p: String!) { partnershipRequest(input: {organizationSlug: $o, partnerAddress: $p})"
        " { partnership { status } errors { code message } } }",
        {"o": b.slug, "p": a.address},
    )
    assert asked["partnershipRequest"] == {"partnership": {"status": "REQUESTED"}, "errors": []}

    async def requested() -> dict | None:
        return next((link for link in await links(a) if link["status"] == "REQUESTED"), None)

    request = await eventually(requested, what="A sees B's request")
    answered = await a.graphql(
        "mutation($id: ID!) { partnershipRespond(input: {id: $id, response: ACCEPT})"
        " { partnership { status } errors { code } } }",
        {"id": request["id"]},
    )
    assert answered["partnershipRespond"] == {"partnership": {"status": "ACCEPTED"}, "errors": []}

    async def accepted() -> bool:
        return any(link["status"] == "ACCEPTED" for link in await links(b))

    await eventually(accepted, what="B sees the partnership accepted")


def mirrored_projects(instance: Instance) -> list[str]:
    with sqlite3.connect(f"file:{instance.var / 'fabcom.sqlite3'}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute("SELECT title FROM fabcom_mirror_project ORDER BY title")]


async def test_three_instances(instances):
    a, b, c = instances

    # A and B become partners over ActivityPub (B asks A by its address, A accepts).
    await partner(a, b)

    # A shares two items and a project with its partners, keeps one item private.
    await create_item(a, "Perceuse Bosch", "PARTNERS", sharingModes=["GIVE"], initialQuantity="3")
    saw = await create_item(a, "Scie sauteuse", "PARTNERS", sharingModes=["LEND"], initialQuantity="1")
    await create_item(a, "Coffre-fort", "PRIVATE", initialQuantity="1")
    project = await a.graphql(
        'mutation($o: String!) { projectCreate(input: {organizationSlug: $o, title: "Atelier vélo",'
        " visibility: PARTNERS}) { project { id } errors { code } } }",
        {"o": a.slug},
    )
    assert project["projectCreate"]["errors"] == []

    # B finds them in network search, and the project in its mirror; not the private one.
    async def b_sees_both() -> dict | None:
        found = await network(b)
        return found if {"Perceuse Bosch", "Scie sauteuse"} <= found.keys() else None

    found = await eventually(b_sees_both, what="B finds A's shared items")
    assert set(found) == {"Perceuse Bosch", "Scie sauteuse"}
    assert found["Perceuse Bosch"]["organization"]["slug"] != b.slug
    assert list(await network(b, "perceuse")) == ["Perceuse Bosch"]

    async def b_mirrors_the_project() -> bool:
        return mirrored_projects(b) == ["Atelier vélo"]

    await eventually(b_mirrors_the_project, what="B mirrors A's project")

    # B asks for the drill (web UI), A accepts and hands it over: both ledgers agree.
    _, mirror_pk = decode_global_id(found["Perceuse Bosch"]["id"])
    web = await b.web_session()
    try:
        token = csrf_token((await web.get(f"/o/{b.slug}/network")).text)
        sent = await web.post(
            f"/o/{b.slug}/network/request",
            data={"mirror_item_id": str(mirror_pk), "kind": "receive", "quantity": "1", "csrf_token": token},
        )
        assert sent.status_code == 303
    finally:
        await web.aclose()

    async def a_request() -> dict | None:
        data = await a.graphql(
            "{ exchangeRequests(first: 10) { edges { node { id status quantity item { title } } } } }"
        )
        nodes = [e["node"] for e in data["exchangeRequests"]["edges"]]
        return nodes[0] if nodes else None

    request = await eventually(a_request, what="A receives B's request")
    assert (request["item"]["title"], request["status"]) == ("Perceuse Bosch", "PENDING")
    for action in ("ACCEPT", "HAND_OVER"):
        moved = await a.graphql(
            "mutation($id: ID!, $a: ExchangeAction!) { exchangeRequestRespond(input: {id: $id, action: $a})"
            " { exchangeRequest { status } errors { code message } } }",
            {"id": request["id"], "a": action},
        )
        assert moved["exchangeRequestRespond"]["errors"] == []

    async def ledgers_agree() -> tuple | None:
        a_items = await a.graphql('{ items(first: 10, filter: {search: "Perceuse"}) { edges { node { quantity } } } }')
        b_items = await b.graphql(
            '{ items(first: 10, filter: {organizationSlug: "fablab-b"}) { edges { node { title quantity } } } }'
        )
        a_q = [e["node"]["quantity"] for e in a_items["items"]["edges"]]
        b_q = [e["node"]["quantity"] for e in b_items["items"]["edges"] if e["node"]["title"] == "Perceuse Bosch"]
        mirror_q = (await network(b, "perceuse")).get("Perceuse Bosch", {}).get("quantity")
        state = ([Decimal(q) for q in a_q], [Decimal(q) for q in b_q], mirror_q and Decimal(mirror_q))
        seen.append(state)
        return state == ([2], [1], 2)

    seen: list[tuple] = []
    try:
        await eventually(ledgers_agree, what="A has 2 drills left, B received 1 and its mirror says 2")
    except AssertionError:
        raise AssertionError(f"ledgers never agreed; last (A, B, B's mirror): {seen[-1:]}") from None

    # A makes the saw private: it disappears from B.
    changed = await a.graphql(
        "mutation($id: ID!) { itemUpdate(input: {id: $id, visibility: PRIVATE}) { errors { code } } }", {"id": saw}
    )
    assert changed["itemUpdate"]["errors"] == []

    async def saw_gone() -> bool:
        return "Scie sauteuse" not in await network(b)

    await eventually(saw_gone, what="the saw disappears from B")

    # B goes down for a while; A keeps sharing; B comes back and catches up.
    b.stop()
    await create_item(a, "Marteau", "PARTNERS", sharingModes=["GIVE"], initialQuantity="5")
    await asyncio.sleep(3)  # A's deliveries to B fail meanwhile and are retried
    b.start()

    async def hammer_arrives() -> bool:
        return "Marteau" in await network(b)

    await eventually(hammer_arrives, limit_s=90, what="B catches up with the hammer after coming back")

    # C is nobody's partner: none of A's partner-only data reaches it or is served to it.
    assert await links(c) == []
    assert await network(c) == {}
    assert mirrored_projects(c) == []
    outbox = (await a.get(f"/ap/o/{a.slug}/outbox?page=true", accept=AP)).json()
    assert outbox["orderedItems"] == []  # everything A shared was partner-only
    _, _drill_pk = decode_global_id((await a_request())["id"])
    for path in ("/ap/items/1", "/ap/items/2", "/ap/projects/1"):
        assert (await a.get(path, accept=AP)).status_code == 404
