"""HTTP Signatures (draft-cavage-12) as Mastodon signs and verifies them: each rule on its own."""

from __future__ import annotations

import datetime as dt

import pytest

from fabcom import clock
from fabcom.federation.keys import SigningKey
from fabcom.federation.signatures import PublicKey, SignatureError, digest, sign, verify
from fabcom.testing.federation import keypair, sign_request

URL = "https://a.example/ap/o/recyclerie/inbox"
BODY = b'{"type":"Follow"}'


def key(n: int = 1, owner: str = "https://b.example/ap/o/b") -> SigningKey:
    private, public = keypair(n)
    return SigningKey(f"{owner}#main-key", private, public)


def fetcher(*answers: SigningKey):
    """A key fetcher answering ``answers`` in turn (the last one repeated), counting calls."""
    calls: list[bool] = []

    async def fetch(key_id: str, refresh: bool) -> PublicKey:
        calls.append(refresh)
        answer = answers[min(len(calls) - 1, len(answers) - 1)]
        return PublicKey(key_id, key_id.split("#")[0], answer.public_key_pem)

    fetch.calls = calls  # type: ignore[attr-defined]
    return fetch


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


async def test_a_signed_post_verifies_and_names_its_key_and_actor():
    headers = sign(key(), "POST", URL, BODY, content_type="application/activity+json")

    verified = await verify("POST", "/ap/o/recyclerie/inbox", lower(headers), BODY, fetcher(key()))

    assert verified.key_id == "https://b.example/ap/o/b#main-key"
    assert verified.actor_uri == "https://b.example/ap/o/b"
    assert 'headers="(request-target) host date digest content-type"' in headers["signature"]
    assert headers["digest"] == digest(BODY)
    assert headers["host"] == "a.example"


async def test_a_signed_get_with_a_query_string_signs_the_whole_target():
    headers = sign(key(), "GET", "https://a.example/ap/o/x/outbox?page=true&after=3")

    await verify("GET", "/ap/o/x/outbox?page=true&after=3", lower(headers), None, fetcher(key()))
    with pytest.raises(SignatureError) as refused:
        await verify("GET", "/ap/o/x/outbox?page=true&after=4", lower(headers), None, fetcher(key()))
    assert refused.value.reason == "bad_signature"


async def test_the_digest_is_the_sha256_of_the_body_in_base64():
    assert digest(b"") == "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


async def test_hs2019_is_verified_as_rsa_sha256_and_other_algorithms_are_refused():
    headers = sign_request(key(), "POST", URL, BODY, algorithm="hs2019")
    await verify("POST", "/ap/o/recyclerie/inbox", headers, BODY, fetcher(key()))

    headers = sign_request(key(), "POST", URL, BODY, algorithm="hmac-sha256")
    with pytest.raises(SignatureError) as refused:
        await verify("POST", "/ap/o/recyclerie/inbox", headers, BODY, fetcher(key()))
    assert refused.value.reason == "unsupported_algorithm"


async def test_a_rotated_key_is_fetched_again_once_and_then_verifies():
    headers = sign(key(2), "POST", URL, BODY)
    fetch = fetcher(key(1), key(2))  # the cache still has the old key

    await verify("POST", "/ap/o/recyclerie/inbox", lower(headers), BODY, fetch)

    assert fetch.calls == [False, True]


async def test_a_key_that_still_fails_after_one_refetch_is_refused():
    headers = sign(key(2), "POST", URL, BODY)
    fetch = fetcher(key(1))

    with pytest.raises(SignatureError) as refused:
        await verify("POST", "/ap/o/recyclerie/inbox", lower(headers), BODY, fetch)

    assert refused.value.reason == "bad_signature"
    assert fetch.calls == [False, True]


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(dt.timedelta(seconds=-301), "expired"), (dt.timedelta(seconds=301), "date_in_future")],
)
async def test_a_date_more_than_300_seconds_away_is_refused(offset, reason):
    headers = sign_request(key(), "POST", URL, BODY, date=clock.now() + offset)

    with pytest.raises(SignatureError) as refused:
        await verify("POST", "/ap/o/recyclerie/inbox", headers, BODY, fetcher(key()))

    assert refused.value.reason == reason


async def test_a_date_within_300_seconds_is_accepted_both_ways():
    for offset in (-290, 290):
        headers = sign_request(key(), "POST", URL, BODY, date=clock.now() + dt.timedelta(seconds=offset))
        await verify("POST", "/ap/o/recyclerie/inbox", headers, BODY, fetcher(key()))


@pytest.mark.parametrize(
    ("names", "missing"),
    [
        (["host", "date", "digest"], "(request-target)"),
        (["(request-target)", "date", "digest"], "host"),
        (["(request-target)", "host", "digest"], "date"),
        (["(request-target)", "host", "date"], "digest"),
    ],
)
async def test_each_required_header_must_be_in_the_signed_list(names, missing):
    headers = sign_request(key(), "POST", URL, BODY, names=names)

    with pytest.raises(SignatureError) as refused:
        await verify("POST", "/ap/o/recyclerie/inbox", headers, BODY, fetcher(key()))

    assert refused.value.reason == "headers_not_signed"
    assert str(refused.value).endswith(missing)


async def test_a_signature_in_the_authorization_header_is_read_too():
    headers = sign_request(key(), "POST", URL, BODY)
    headers["authorization"] = "Signature " + headers.pop("signature")

    await verify("POST", "/ap/o/recyclerie/inbox", headers, BODY, fetcher(key()))


async def test_a_garbled_signature_header_is_refused_as_malformed():
    for value in ('keyId="x"', 'signature="abc"', "nonsense"):
        with pytest.raises(SignatureError) as refused:
            await verify("GET", "/", {"signature": value, "date": "x", "host": "a"}, None, fetcher(key()))
        assert refused.value.reason == "malformed_signature"
