"""Discovery and actors: WebFinger, NodeInfo, host-meta, the Group actor of each local
organization (content negotiation) and the instance's Application actor."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from fabcom import __version__
from fabcom.federation.keys import base58btc, ed25519_multibase, generate_keypair, load_public_key
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
    assert {k: v for k, v in actor.items() if k not in ("publicKey", "assertionMethod", "published", "@context")} == {
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
    assert again["assertionMethod"] == actor["assertionMethod"]
    assert await ActorKey.all().count() == 1


async def test_an_organization_also_publishes_an_ed25519_multikey(client, org_a, fed_settings):
    actor = (await client.get("/ap/o/recyclerie-a", headers={"accept": AP})).json()

    uri = f"{BASE}/ap/o/recyclerie-a"
    [multikey] = actor["assertionMethod"]
    assert {k: v for k, v in multikey.items() if k != "publicKeyMultibase"} == {
        "id": f"{uri}#ed25519-key",
        "type": "Multikey",
        "controller": uri,
    }
    assert multikey["publicKeyMultibase"].startswith("z6Mk")
    # the published key is the public half of the stored private key (decoded independently)
    raw = base58_decode(multikey["publicKeyMultibase"][1:])
    assert raw[:2] == b"\xed\x01"
    private = serialization.load_pem_private_key((await ActorKey.get()).ed25519_private_key_pem.encode(), None)
    assert raw[2:] == private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert actor["@context"][2]["assertionMethod"]["@id"] == "https://w3id.org/security#assertionMethod"
    assert actor["@context"][2]["publicKeyMultibase"]["@id"] == "https://w3id.org/security#publicKeyMultibase"
    assert actor["@context"][:2] == ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]


async def test_a_key_from_before_ed25519_gets_one_once_and_keeps_its_rsa_key(client, org_a, fed_settings):
    private_pem, public_pem = generate_keypair()
    await ActorKey.create(owner=f"org:{org_a.id}", private_key_pem=private_pem, public_key_pem=public_pem)

    first = (await client.get("/ap/o/recyclerie-a", headers={"accept": AP})).json()
    again = (await client.get("/ap/o/recyclerie-a", headers={"accept": AP})).json()

    assert first["publicKey"]["publicKeyPem"] == public_pem
    assert first["assertionMethod"] == again["assertionMethod"]
    row = await ActorKey.get()
    assert row.ed25519_public_multibase == first["assertionMethod"][0]["publicKeyMultibase"]
    assert row.private_key_pem == private_pem


def test_the_multibase_of_an_ed25519_key_matches_an_independent_implementation():
    # Computed with bovine 0.5.19 (bovine.crypto.multibase.encode_public_key_to_multibase).
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()

    assert ed25519_multibase(key) == "z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd"
    assert base58btc(b"\0\0\x01") == "112"


def base58_decode(text: str) -> bytes:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = 0
    for char in text:
        number = number * 58 + alphabet.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


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
