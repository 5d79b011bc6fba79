"""The mirror of what partners share: batch upsert per page, newest wins, senders only
write their own objects, Delete purges, bad objects are refused with a log line."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest

from fabcom.federation import vocab
from fabcom.federation.handlers import Sender, dispatch, dispatch_batch
from fabcom.federation.mirror_models import MirrorItem, MirrorMember, MirrorProject
from fabcom.federation.models import Audience

B = "https://b.example"
B_ACTOR = f"{B}/ap/o/b"
T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
async def remote_b(make_org):
    org = await make_org("b-remote", name="Recyclerie B", is_local=False, remote_uri=B_ACTOR)
    return Sender(actor_uri=B_ACTOR, organization_id=org.id)


def item(pk: int, title: str = "Chaise", *, updated: dt.datetime = T0, actor: str = B_ACTOR, base: str = B, **kw):
    values = {
        "pk": pk,
        "actor": actor,
        "title": title,
        "description": "Une chaise en chêne.",
        "category_code": "C_15",
        "quantity_value": Decimal(4),
        "unit": "piece",
        "condition": "good",
        "status": "available",
        "sharing_modes": ["give", "lend"],
        "audience": Audience.PARTNERS,
        "published": T0,
        "updated": updated,
        "base": base,
    }
    values.update(kw)
    return vocab.item_object(**values)


def create(obj, kind: str = "Create", actor: str = B_ACTOR):
    return vocab.activity(kind, actor=actor, obj=obj, audience=Audience.PARTNERS, published=T0, base=B)


async def test_a_page_of_creates_is_mirrored_with_searchable_fields(remote_b):
    page = [create(item(n, f"Chaise {n}")) for n in range(1, 4)]

    await dispatch_batch(page, remote_b)

    rows = await MirrorItem.all().order_by("uri")
    assert [r.uri for r in rows] == [f"{B}/ap/items/{n}" for n in range(1, 4)]
    first = rows[0]
    assert first.organization_id == remote_b.organization_id  # type: ignore[attr-defined]
    assert first.title == "Chaise 1"
    assert first.category_code == "C_15"
    assert first.quantity == Decimal(4)
    assert first.unit == "piece"
    assert first.sharing_modes == ["give", "lend"]
    assert first.visibility == "partners"
    assert first.content == "<p>Une chaise en chêne.</p>"
    assert "chaise 1" in first.search_text
    assert first.document["id"] == f"{B}/ap/items/1"


async def test_an_older_update_never_overwrites_a_newer_one_and_a_newer_one_does(remote_b):
    await dispatch(create(item(1, "Neuf", updated=T0 + dt.timedelta(hours=2))), remote_b)

    await dispatch_batch([create(item(1, "Ancien", updated=T0), "Update")], remote_b)
    assert (await MirrorItem.get(uri=f"{B}/ap/items/1")).title == "Neuf"

    await dispatch_batch([create(item(1, "Plus neuf", updated=T0 + dt.timedelta(hours=3)), "Update")], remote_b)
    assert (await MirrorItem.get(uri=f"{B}/ap/items/1")).title == "Plus neuf"


async def test_the_newest_of_one_object_twice_in_a_page_wins(remote_b):
    page = [
        create(item(1, "Deux", updated=T0 + dt.timedelta(minutes=2)), "Update"),
        create(item(1, "Un", updated=T0 + dt.timedelta(minutes=1)), "Update"),
    ]
    await dispatch_batch(page, remote_b)
    assert [r.title for r in await MirrorItem.all()] == ["Deux"]


async def test_objects_not_on_the_senders_host_or_not_attributed_to_it_are_refused(remote_b, caplog):
    foreign_host = item(1, base="https://c.example")  # id on another host
    foreign_author = item(2, actor="https://b.example/ap/o/other")  # another actor on the same host
    activity_by_other = create(item(3), actor="https://b.example/ap/o/other")

    with caplog.at_level(logging.WARNING, logger="fabcom.federation.mirror"):
        await dispatch_batch([create(foreign_host), create(foreign_author), activity_by_other], remote_b)

    assert await MirrorItem.all().count() == 0
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert "not on the sender's host" in messages[0]
    assert "attributed to https://b.example/ap/o/other" in messages[1]
    assert "is not the sender" in messages[2]


async def test_a_sender_cannot_overwrite_another_organizations_row(make_org, remote_b):
    other_actor = f"{B}/ap/o/b2"
    other_org = await make_org("b2-remote", is_local=False, remote_uri=other_actor)
    other = Sender(actor_uri=other_actor, organization_id=other_org.id)
    await dispatch(create(item(1, "A B")), remote_b)

    hijack = item(1, "Volé", actor=other_actor, updated=T0 + dt.timedelta(days=1))
    await dispatch_batch([create(hijack, "Update", actor=other_actor)], other)
    await dispatch({"type": "Delete", "actor": other_actor, "object": f"{B}/ap/items/1"}, other)

    row = await MirrorItem.get(uri=f"{B}/ap/items/1")
    assert (row.title, row.organization_id) == ("A B", remote_b.organization_id)  # type: ignore[attr-defined]


async def test_delete_purges_items_projects_and_members(remote_b):
    project = vocab.project_object(
        pk=7,
        actor=B_ACTOR,
        title="Atelier vélo",
        summary="Réparer ensemble",
        description="",
        status="active",
        licence="CC-BY-SA-4.0",
        starts_on=None,
        ends_on=None,
        needs=[],
        audience=Audience.PUBLIC,
        published=T0,
        updated=T0,
        base=B,
    )
    member = vocab.member_profile(
        token="tok",
        actor=B_ACTOR,
        display_name="Camille",
        organization_name="Recyclerie B",
        valid_from=dt.date(2026, 1, 1),
        valid_until=None,
        updated=T0,
        base=B,
    )
    await dispatch_batch([create(item(1)), create(project), create(member)], remote_b)
    assert (await MirrorItem.all().count(), await MirrorProject.all().count(), await MirrorMember.all().count()) == (
        1,
        1,
        1,
    )
    assert (await MirrorProject.get()).visibility == "public"

    for uri in (f"{B}/ap/items/1", f"{B}/ap/projects/7", f"{B}/ap/members/tok"):
        tomb = vocab.tombstone(uri, "Page", T0)
        assert await dispatch({"type": "Delete", "actor": B_ACTOR, "object": tomb}, remote_b)

    assert (await MirrorItem.all().count(), await MirrorProject.all().count(), await MirrorMember.all().count()) == (
        0,
        0,
        0,
    )


async def test_received_html_is_sanitised_and_sizes_are_bounded(remote_b, caplog):
    hostile = item(1, "<b>Chaise</b>")
    hostile["content"] = '<p onclick="x()">Bonne <script>alert(1)</script><a href="https://e.example">affaire</a></p>'
    huge = item(2)
    huge["content"] = "x" * 70_000

    with caplog.at_level(logging.WARNING, logger="fabcom.federation.mirror"):
        await dispatch_batch([create(hostile), create(huge)], remote_b)

    row = await MirrorItem.get()
    assert row.title == "Chaise"
    assert row.content == ('<p>Bonne <a href="https://e.example" rel="noopener noreferrer nofollow">affaire</a></p>')
    assert "larger than 65536 bytes" in caplog.records[0].getMessage()


async def test_malformed_and_unknown_objects_are_ignored_without_error(remote_b, caplog):
    bad_quantity = item(1)
    bad_quantity["resource"]["accountingQuantity"]["hasNumericalValue"] = "beaucoup"
    note = {"id": f"{B}/notes/1", "type": "Note", "attributedTo": B_ACTOR, "content": "Bonjour"}
    naive_time = item(2)
    naive_time["updated"] = "2026-11-01T10:00:00"

    with caplog.at_level(logging.INFO):
        await dispatch_batch([create(bad_quantity), create(note), create(naive_time)], remote_b)
        assert not await dispatch(create(note), remote_b)

    assert await MirrorItem.all().count() == 0
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "malformed object: resource.accountingQuantity.hasNumericalValue" in text
    assert f"ignored Create {B}/notes/1" in text
    assert "malformed object: updated" in text


async def test_an_object_with_a_nul_character_is_refused_alone(remote_b, caplog):
    nul = item(1, "Chaise\x00")
    nul_elsewhere = item(2)
    nul_elsewhere["unread"] = {"note": "\x00"}  # a field fabcom ignores: still refused (stored in the document)
    backslash_text = item(3, "Chaise \\u0000")  # the text \u0000, not a NUL

    with caplog.at_level(logging.WARNING, logger="fabcom.federation.mirror"):
        await dispatch_batch([create(nul), create(nul_elsewhere), create(backslash_text)], remote_b)

    assert [r.title for r in await MirrorItem.all()] == ["Chaise \\u0000"]
    assert [r.getMessage().endswith("the object contains a NUL character") for r in caplog.records] == [True, True]


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("https://b.example/ap/items/1", True),
        ("HTTPS://B.EXAMPLE/ap/items/1", True),
        ("https://b.example.evil.example/ap/items/1", False),
        ("https://b.example@evil.example/ap/items/1", False),
        ("https://b.example:8443/ap/items/1", False),
        ("http://b.example/ap/items/1", False),
        ("https://b.example", False),
        ("/ap/items/1", False),
        ("", False),
    ],
)
def test_an_id_is_accepted_only_on_the_senders_exact_origin(uri, accepted):
    try:
        vocab.check_origin(uri, B_ACTOR)
    except vocab.Refused:
        assert not accepted
    else:
        assert accepted


async def test_purging_a_partner_forgets_only_its_mirrored_objects(make_org, remote_b):
    from fabcom.federation.mirror import purge_partner

    other_actor = "https://c.example/ap/o/c"
    other_org = await make_org("c-remote", is_local=False, remote_uri=other_actor)
    await dispatch(create(item(1)), remote_b)
    await dispatch(
        create(item(1, actor=other_actor, base="https://c.example"), actor=other_actor),
        Sender(other_actor, other_org.id),
    )

    assert await purge_partner(remote_b.organization_id) == 1

    assert [r.uri for r in await MirrorItem.all()] == ["https://c.example/ap/items/1"]


async def test_a_late_older_version_does_not_bring_a_deleted_object_back_but_a_newer_one_does(remote_b):
    from fabcom.federation.mirror_models import MirrorTombstone

    await dispatch(create(item(1, "Chaise", updated=T0)), remote_b)
    tomb = vocab.tombstone(f"{B}/ap/items/1", "Page", T0 + dt.timedelta(hours=1))
    assert await dispatch({"type": "Delete", "actor": B_ACTOR, "object": tomb}, remote_b)

    # replayed by a catch-up after the live Delete: stays deleted
    await dispatch_batch([create(item(1, "Chaise", updated=T0))], remote_b)
    assert await MirrorItem.all().count() == 0
    # shared again later: back
    await dispatch_batch([create(item(1, "Chaise revenue", updated=T0 + dt.timedelta(hours=2)))], remote_b)
    assert [r.title for r in await MirrorItem.all()] == ["Chaise revenue"]
    tombstone = await MirrorTombstone.get()
    assert (tombstone.uri, tombstone.organization_id) == (f"{B}/ap/items/1", remote_b.organization_id)  # type: ignore[attr-defined]


# --- sanitising: nh3 unless the HTML is safe as it is ------------------------------------------------

SAFE_AS_IS = [
    "",
    "Une chaise en bois",
    "<p>Avec 10 disques.</p>",
    "<p>Deux lignes<br>ici</p>\n<p>et l&#39;eau &amp; &lt;b&gt;</p>",
]
HOSTILE_OR_UNUSUAL = [
    '<p onclick="x()">a</p>',
    "<P>a</P>",
    "<p>a",
    "<script>alert(1)</script>",
    '<p><a href="javascript:alert(1)">a</a></p>',
    "<p>a</p><img src=x onerror=alert(1)>",
    "<p>a &lt;b> c</p>",
    "<p>&#0;</p>",
    "a & b",
    "<p><br/></p>",
    "<style>p{}</style><p>a</p>",
    "<p>a</p >",
    "<p>x\x00y</p>",
]


@pytest.mark.parametrize("html", SAFE_AS_IS)
def test_html_that_is_safe_as_it_is_is_kept_without_nh3(html, monkeypatch):
    monkeypatch.setattr(vocab.nh3, "clean", lambda *a, **k: pytest.fail("nh3 called"))

    assert vocab.clean_html(html) == html


@pytest.mark.parametrize("html", HOSTILE_OR_UNUSUAL)
def test_any_other_html_goes_through_nh3(html):
    calls = []
    real = vocab.nh3.clean

    def spy(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vocab.nh3, "clean", spy)
        cleaned = vocab.clean_html(html)

    assert calls == [html]
    assert cleaned == real(html, link_rel="noopener noreferrer nofollow")
    for danger in ("<script", "onclick", "onerror", "javascript:", "<style"):
        assert danger not in cleaned
