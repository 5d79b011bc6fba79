"""Discovery and actors: WebFinger, NodeInfo, host-meta, the Group actor of each local
organization (content negotiation) and the instance's Application actor."""

from __future__ import annotations

from fabcom import __version__
from fabcom.federation.keys import load_public_key
from fabcom.federation.models import ActorKey
from fabcom.orgs.models import Organization

BASE = "http://127.0.0.1:8000"
AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def test_webfinger_finds_a_local_organization_by_acct_and_by_actor_id(client, org_a, fed_settings):
    for resource in ("acct:recyclerie-a@127.0.0.1:8000", f"{BASE}/ap/o/recyclerie-a"):
        response = await client.get("/.well-known/webfinger", params={"resource": resource})

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/jrd+json"
        assert response.json() == {
            "subject": "acct:recyclerie-a@127.0.0.1:8000",
            "aliases": [f"{BASE}/ap/o/recyclerie-a"],
            "links": [
                {"rel": "self", "type": AP, "href": f"{BASE}/ap/o/recyclerie-a"},
                {
                    "rel": "http://webfinger.net/rel/profile-page",
                    "type": "text/html",
                    "href": f"{BASE}/o/recyclerie-a/",
                },
            ],
        }


async def test_webfinger_does_not_know_other_hosts_unknown_or_mirrored_organizations(client, org_a, fed_settings):
    await Organization.create(slug="mirror", name="M", is_local=False, remote_uri="https://x.example/ap/o/m")
    for resource in ("acct:recyclerie-a@other.example", "acct:nobody@127.0.0.1:8000", "acct:mirror@127.0.0.1:8000"):
        response = await client.get("/.well-known/webfinger", params={"resource": resource})
        assert response.status_code == 404
    assert (await client.get("/.well-known/webfinger")).status_code == 400


async def test_an_organization_is_a_group_actor_with_its_own_rsa_2048_key(client, org_a, fed_settings):
    response = await client.get("/ap/o/recyclerie-a", headers={"accept": AP})

    assert response.status_code == 200
    assert response.headers["content-type"] == AP
    actor = response.json()
    uri = f"{BASE}/ap/o/recyclerie-a"
    assert {k: v for k, v in actor.items() if k not in ("publicKey", "published", "@context")} == {
        "id": uri,
        "type": "Group",
        "preferredUsername": "recyclerie-a",
        "name": "Recyclerie A",
        "summary": "",
        "url": f"{BASE}/o/recyclerie-a/",
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "following": f"{uri}/following",
        "endpoints": {"sharedInbox": f"{BASE}/ap/inbox"},
        "manuallyApprovesFollowers": True,
        "discoverable": True,
    }
    assert actor["publicKey"]["id"] == f"{uri}#main-key"
    assert actor["publicKey"]["owner"] == uri
    assert load_public_key(actor["publicKey"]["publicKeyPem"]).key_size == 2048
    assert "PRIVATE" not in response.text
    # the key is made once and kept
    again = (await client.get("/ap/o/recyclerie-a", headers={"accept": AP})).json()
    assert again["publicKey"] == actor["publicKey"]
    assert await ActorKey.all().count() == 1


async def test_the_actor_is_served_as_ld_json_when_asked_and_a_browser_is_sent_to_the_web_page(
    client, org_a, fed_settings
):
    ld = await client.get("/ap/o/recyclerie-a", headers={"accept": LD})
    browser = await client.get("/ap/o/recyclerie-a", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})

    assert ld.headers["content-type"] == LD
    assert ld.json()["type"] == "Group"
    assert browser.status_code == 303
    assert browser.headers["location"] == f"{BASE}/o/recyclerie-a/"


async def test_unknown_and_mirrored_organizations_have_no_actor(client, org_a, fed_settings):
    await Organization.create(slug="mirror", name="M", is_local=False, remote_uri="https://x.example/ap/o/m")
    for path in ("/ap/o/nobody", "/ap/o/mirror", "/ap/o/mirror/outbox"):
        assert (await client.get(path, headers={"accept": AP})).status_code == 404


async def test_the_instance_has_an_application_actor_with_its_own_key(client, org_a, fed_settings):
    actor = (await client.get("/ap/actor", headers={"accept": AP})).json()
    group = (await client.get("/ap/o/recyclerie-a", headers={"accept": AP})).json()

    assert (actor["id"], actor["type"]) == (f"{BASE}/ap/actor", "Application")
    assert actor["publicKey"]["owner"] == actor["id"]
    assert actor["publicKey"]["publicKeyPem"] != group["publicKey"]["publicKeyPem"]


async def test_nodeinfo_names_fabcom_its_version_and_usage_and_closed_registrations(
    client, org_a, staff_a, fed_settings
):
    links = (await client.get("/.well-known/nodeinfo")).json()
    assert links == {
        "links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": f"{BASE}/nodeinfo/2.1"}]
    }

    response = await client.get("/nodeinfo/2.1")

    info = response.json()
    assert response.headers["content-type"].startswith("application/json; profile=")
    assert info["version"] == "2.1"
    assert info["software"]["name"] == "fabcom"
    assert info["software"]["version"] == __version__
    assert info["protocols"] == ["activitypub"]
    assert info["openRegistrations"] is False
    assert info["usage"]["users"] == {"total": 1}
    assert info["metadata"] == {"organizations": 1}


async def test_host_meta_points_to_webfinger(client, fed_settings):
    response = await client.get("/.well-known/host-meta")

    assert response.headers["content-type"].startswith("application/xrd+xml")
    assert f'template="{BASE}/.well-known/webfinger?resource={{uri}}"' in response.text
