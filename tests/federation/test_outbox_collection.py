"""The outbox collection: keyset pages in publication order; anonymous readers see public
activities, an accepted partner's signed fetch sees partner-only ones too."""

from __future__ import annotations

import pytest
from tortoise.transactions import in_transaction

from fabcom.federation import outbox, remote
from fabcom.federation.models import Audience
from fabcom.federation.publish import publish
from fabcom.federation.signatures import signed_partner
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.orgs.models import Organization
from fabcom.testing.federation import Peer, sign_request

BASE = "http://127.0.0.1:8000/ap/o/recyclerie-a/outbox"
AP = {"accept": "application/activity+json"}


def activity(n: int) -> dict:
    return {"id": f"http://127.0.0.1:8000/ap/activities/{n}", "type": "Create", "object": {"id": f"urn:x:{n}"}}


async def publish_all(org, audiences: list[Audience]) -> None:
    async with in_transaction():
        for n, audience in enumerate(audiences, 1):
            await publish(
                org.id, activity(n), audience=audience, recipients=["https://b.example/x"] * (audience == "direct")
            )


async def partner_with(org, peer: Peer, status=PartnershipStatus.ACCEPTED) -> Organization:
    mirror = await Organization.get(id=(await remote.fetch_actor(peer.uri)).organization_id)
    await Partnership.create(organization=org, partner=mirror, status=status)
    return mirror


async def signed_get(client, peer: Peer, path: str):
    headers = sign_request(peer.key, "GET", f"http://testserver{path}", None)
    return await client.get(path, headers={**headers, **AP})


def ids(page: dict) -> list[int]:
    return [int(item["id"].rsplit("/", 1)[1]) for item in page["orderedItems"]]


MIX = [Audience.PUBLIC, Audience.PARTNERS, Audience.DIRECT, Audience.PUBLIC, Audience.PARTNERS]


async def test_anonymous_readers_see_the_public_activities_only(client, org_a, fed_settings):
    await publish_all(org_a, MIX)

    collection = (await client.get("/ap/o/recyclerie-a/outbox", headers=AP)).json()
    page = (await client.get("/ap/o/recyclerie-a/outbox?page=true", headers=AP)).json()

    assert collection == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": BASE,
        "type": "OrderedCollection",
        "totalItems": 2,
        "first": f"{BASE}?page=true",
    }
    assert (page["type"], page["partOf"], ids(page)) == ("OrderedCollectionPage", BASE, [1, 4])


async def test_an_accepted_partners_signed_fetch_also_sees_partner_only_activities(client, org_a, peer):
    await publish_all(org_a, MIX)
    await partner_with(org_a, peer)

    collection = (await signed_get(client, peer, "/ap/o/recyclerie-a/outbox")).json()
    page = (await signed_get(client, peer, "/ap/o/recyclerie-a/outbox?page=true")).json()

    assert collection["totalItems"] == 4
    assert ids(page) == [1, 2, 4, 5]  # never the direct one


@pytest.mark.parametrize("status", [PartnershipStatus.REQUESTED, PartnershipStatus.REFUSED, PartnershipStatus.BLOCKED])
async def test_a_signed_fetch_by_a_non_partner_sees_the_public_activities_only(client, org_a, peer, status):
    await publish_all(org_a, MIX)
    await partner_with(org_a, peer, status)

    page = (await signed_get(client, peer, "/ap/o/recyclerie-a/outbox?page=true")).json()

    assert ids(page) == [1, 4]


async def test_a_partner_with_a_bad_signature_is_an_anonymous_reader(client, org_a, peer, network):
    await publish_all(org_a, MIX)
    await partner_with(org_a, peer)
    impostor = network.add(Peer(host="other.example", key_number=4))
    headers = sign_request(impostor.key, "GET", "http://testserver/ap/o/recyclerie-a/outbox?page=true", None)
    headers["signature"] = headers["signature"].replace(impostor.key.key_id, peer.key.key_id)

    page = (await client.get("/ap/o/recyclerie-a/outbox?page=true", headers={**headers, **AP})).json()

    assert ids(page) == [1, 4]


async def test_pages_follow_each_other_by_keyset_with_next_and_prev(client, org_a, fed_settings, monkeypatch):
    monkeypatch.setattr(outbox, "PAGE_SIZE", 2)
    await publish_all(org_a, [Audience.PUBLIC] * 5)
    first = (await client.get("/ap/o/recyclerie-a/outbox?page=true", headers=AP)).json()

    pages = [first]
    while pages[-1]["orderedItems"]:
        path = pages[-1]["next"].removeprefix("http://127.0.0.1:8000")
        pages.append((await client.get(path, headers=AP)).json())

    assert [ids(p) for p in pages] == [[1, 2], [3, 4], [5], []]
    assert "next" not in pages[-1]
    back = (await client.get(pages[2]["prev"].removeprefix("http://127.0.0.1:8000"), headers=AP)).json()
    assert ids(back) == ids(pages[1])


async def test_a_page_cursor_that_is_not_a_number_is_a_clear_400(client, org_a, fed_settings):
    response = await client.get("/ap/o/recyclerie-a/outbox?page=true&after=abc", headers=AP)

    assert response.status_code == 400


async def test_signed_partner_answers_the_partner_organization_or_none(client, org_a, org_b, peer):
    mirror = await partner_with(org_a, peer)

    class Request:
        def __init__(self, headers, path):
            import httpx

            self.headers = headers
            self.url = httpx.URL(f"http://testserver{path}")

    path = "/ap/o/recyclerie-a/outbox"
    signed = Request(sign_request(peer.key, "GET", f"http://testserver{path}", None), path)
    assert (await signed_partner(signed, org_a)).id == mirror.id
    assert await signed_partner(signed, org_b) is None
    assert await signed_partner(Request({}, path), org_a) is None


# --- an object's id: authorized fetch -------------------------------------------------------------


async def test_an_item_id_serves_public_items_to_anyone_and_partner_only_ones_to_partners_only(
    client, org_a, staff_a, peer, network
):
    from fabcom.inventory.services import create_item, update_item

    stranger = network.add(Peer(host="stranger.example", key_number=5))
    await remote.fetch_actor(stranger.uri)
    await partner_with(org_a, peer)
    public = await create_item(staff_a, org_a.id, {"title": "Chaise", "visibility": "public"})
    shared = await create_item(staff_a, org_a.id, {"title": "Perceuse", "visibility": "partners"})
    private = await create_item(staff_a, org_a.id, {"title": "Coffre", "visibility": "private"})
    path = "/ap/items/{}"

    anonymous = await client.get(path.format(public.id), headers=AP)
    assert (anonymous.status_code, anonymous.json()["name"]) == (200, "Chaise")
    assert (await client.get(path.format(shared.id), headers=AP)).status_code == 404
    assert (await signed_get(client, stranger, path.format(shared.id))).status_code == 404
    by_partner = await signed_get(client, peer, path.format(shared.id))
    assert (by_partner.status_code, by_partner.json()["name"]) == (200, "Perceuse")
    assert by_partner.headers["cache-control"] == "private, no-store"
    assert (await signed_get(client, peer, path.format(private.id))).status_code == 404

    await update_item(staff_a, shared.id, {"visibility": "private"})

    gone = await signed_get(client, peer, path.format(shared.id))
    assert gone.status_code == 410
    assert (await client.get(path.format(shared.id), headers=AP)).status_code == 404


async def test_an_activity_id_serves_shared_activities_but_never_direct_ones(client, org_a, peer):
    await publish_all(org_a, MIX)
    await partner_with(org_a, peer)

    assert (await client.get("/ap/activities/1", headers=AP)).json()["id"].endswith("/ap/activities/1")
    assert (await client.get("/ap/activities/2", headers=AP)).status_code == 404
    assert (await signed_get(client, peer, "/ap/activities/2")).status_code == 200
    assert (await signed_get(client, peer, "/ap/activities/3")).status_code == 404
