"""Security of the staff UI: organizations are walled (404 for what one may not see),
every mutating route needs the CSRF token, GET changes nothing, user text renders inert."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from starlette.routing import Route

from fabcom.audit.models import AuditEntry
from fabcom.auth.models import ApiToken, Session, User
from fabcom.inventory.models import Attachment, Item, Location, StockMovement
from fabcom.inventory.services import add_photo, create_item, create_location, record_movement
from fabcom.members.models import Membership, MembershipFee, Role
from fabcom.network.models import ExchangeRequest
from fabcom.orgs.models import Organization
from fabcom.permissions import load_principal
from fabcom.projects.models import Task
from fabcom.projects.services import create_project


@pytest.fixture
async def b_item(staff_b, org_b, db, png):
    item = await create_item(staff_b, org_b.id, {"title": "Secret de B", "initial_quantity": "2"})
    await add_photo(staff_b, item.id, filename="b.png", content=png, uploads_dir=db.uploads_dir, max_bytes=10**6)
    return item


async def test_a_member_of_a_gets_404_on_b_pages_fragments_and_exports(make_client, staff_a, org_a, org_b, b_item):
    client = await make_client(staff_a)
    photo = await Attachment.get(item_id=b_item.id)
    for url in [
        f"/o/{org_b.slug}/",
        f"/o/{org_b.slug}/items",
        f"/o/{org_b.slug}/items/{b_item.id}",
        f"/o/{org_b.slug}/items/{b_item.id}/edit",
        f"/o/{org_b.slug}/items/new",
        f"/o/{org_b.slug}/items/export.csv",
        f"/o/{org_b.slug}/items/export.xlsx",
        f"/o/{org_b.slug}/items/export.ods",
        f"/o/{org_b.slug}/items/labels",
        f"/o/{org_a.slug}/items/{b_item.id}",  # B's item under A's address
        f"/o/{org_a.slug}/items/{b_item.id}/edit",
        f"/photos/{photo.id}",
    ]:
        full = await client.get(url)
        fragment = await client.htmx_get(url)
        assert (url, full.status_code, fragment.status_code) == (url, 404, 404)
        assert "Secret de B" not in full.text + fragment.text
    labels = await client.get(f"/o/{org_a.slug}/items/labels?ids={b_item.id}")
    assert "Secret de B" not in labels.text
    assert "<svg" not in labels.text
    for url, data in [
        (f"/o/{org_b.slug}/items/{b_item.id}/movements", {"kind": "sale", "quantity": "1"}),
        (f"/o/{org_a.slug}/items/{b_item.id}/movements", {"kind": "sale", "quantity": "1"}),
        (f"/o/{org_b.slug}/items/{b_item.id}/edit", {"title": "Pris"}),
        (f"/o/{org_b.slug}/items/new", {"title": "Intrus"}),
    ]:
        assert (await client.post_form(url, data)).status_code == 404
    await b_item.refresh_from_db()
    assert (b_item.title, b_item.quantity) == ("Secret de B", Decimal("2"))
    assert await StockMovement.filter(item_id=b_item.id).count() == 1
    assert await Item.filter(organization_id=org_b.id).count() == 1
    assert await Item.filter(organization_id=org_a.id).count() == 0


async def test_anonymous_visitors_are_sent_to_login_and_get_no_photo(make_client, org_b, b_item):
    client = await make_client()
    page = await client.get(f"/o/{org_b.slug}/items/{b_item.id}")
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next=/o/{org_b.slug}/items/{b_item.id}"
    fragment = await client.htmx_get(f"/o/{org_b.slug}/items")
    assert fragment.headers["hx-redirect"] == f"/login?next=/o/{org_b.slug}/items"
    photo = await Attachment.get(item_id=b_item.id)
    assert (await client.get(f"/photos/{photo.id}")).status_code == 404


async def test_a_plain_member_may_not_open_the_inventory(make_client, make_member, org_a):
    member = await make_member(org_a, role=Role.MEMBER)
    client = await make_client(member)
    assert (await client.get(f"/o/{org_a.slug}/")).status_code == 200
    assert (await client.get(f"/o/{org_a.slug}/items")).status_code == 403
    assert (await client.get(f"/o/{org_a.slug}/items/export.csv")).status_code == 403


async def _state() -> tuple:
    return (
        await AuditEntry.all().count(),
        await Session.all().count(),
        await Item.all().count(),
        await StockMovement.all().count(),
        await Organization.all().count(),
        await ApiToken.all().count(),
        await MembershipFee.all().count(),
        await ExchangeRequest.all().count(),
        tuple(await Membership.all().order_by("id").values_list("role", flat=True)),
        tuple(await Item.all().order_by("id").values_list("deleted_at", flat=True)),
        tuple(await Task.all().order_by("id").values_list("status", flat=True)),
        tuple(await User.all().order_by("id").values_list("locale", "password_hash")),
        tuple(await Item.all().order_by("id").values_list("title", "quantity")),
    )


def _path(route: Route, slug: str, item_id: int, attachment_id: int, project_id: int = 1) -> str:
    params = {
        "slug": slug,
        "item_id": item_id,
        "attachment_id": attachment_id,
        "fmt": "csv",
        "project_id": project_id,
        "task_id": 1,
        "exchange_id": 1,
        "membership_id": 1,
        "action": "accept",
        "token": "not-a-real-token",
        "notification_id": 1,
        "partnership_id": 1,
        "invitation_id": 1,
        "endpoint_id": 1,
        "job_id": 1,
    }
    return route.url_path_for(route.name, **{k: v for k, v in params.items() if k in route.param_convertors})


async def test_every_mutating_route_refuses_a_missing_or_wrong_csrf_token(app, make_client, staff_a, org_a, db, png):
    item = await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "3"})
    photo = await add_photo(
        staff_a, item.id, filename="a.png", content=png, uploads_dir=db.uploads_dir, max_bytes=10**6
    )
    client = await make_client(staff_a)
    # ActivityPub inboxes (/ap/…) take no cookie: each request is authenticated by its
    # HTTP Signature (tests/federation/test_inbox.py refuses unsigned ones).
    routes = [
        r
        for r in app.routes
        if isinstance(r, Route) and r.methods and "POST" in r.methods and not r.path.startswith("/ap/")
    ]
    assert {r.name for r in routes} >= {
        "web:login",
        "web:logout",
        "web:language",
        "web:account",
        "web:item_create",
        "web:item_edit",
        "web:item_movement",
        "web:task_status",
        "web:member_list",
        "web:exchange_new",
        "web:exchange_action",
        "web:tokens",
        "web:item_import",
        "web:member_role",
        "web:item_archive",
        "web:partnership_new",
        "web:partnership_action",
        "web:invitation_accept",
        "web:invitation_action",
    }
    before = await _state()
    form = {"title": "Volé", "kind": "sale", "quantity": "1", "locale": "en", "email": "x@example.org"}
    for route in routes:
        url = _path(route, org_a.slug, item.id, photo.id)
        for headers, data in [
            ({}, form),
            ({"X-CSRF-Token": "wrong"}, form),
            ({}, {**form, "csrf_token": "wrong"}),
            ({"HX-Request": "true"}, form),
        ]:
            response = await client.post(url, data=data, headers=headers)
            assert (route.name, response.status_code) == (route.name, 403)
        multipart = await client.post(url, data=form, files={"photo": ("a.png", png, "image/png")})
        assert (route.name, multipart.status_code) == (route.name, 403)
    assert await _state() == before
    # and the same request with the token goes through
    ok = await client.post(
        f"/o/{org_a.slug}/items/{item.id}/movements", data=form, headers={"X-CSRF-Token": client.csrf_token}
    )
    assert ok.status_code == 303


async def test_login_form_needs_the_anonymous_csrf_cookie_token(make_client, app):
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as fresh:
        response = await fresh.post("/login", data={"email": "a@example.org", "password": "x"})
        assert response.status_code == 403
        assert "Ce formulaire a expiré" in response.text
        assert "déconnecté·e entre-temps (dans un autre onglet par exemple)" in response.text


async def test_get_requests_change_nothing(app, make_client, make_member, org_a, db, png):
    # an owner who is also instance admin reaches every page
    owner = await make_member(org_a, role=Role.OWNER)
    await User.filter(id=owner.user_id).update(is_instance_admin=True)
    staff_a = await load_principal(owner.user_id)
    item = await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "3"})
    photo = await add_photo(
        staff_a, item.id, filename="a.png", content=png, uploads_dir=db.uploads_dir, max_bytes=10**6
    )
    project = await create_project(staff_a, org_a.id, {"title": "Projet"})
    client = await make_client(staff_a)
    before = await _state()
    for route in app.routes:
        # the API's GET is covered by its own tests (a GET never runs a mutation); WebFinger
        # answers 400 without its resource (RFC 7033) and ActivityPub object ids 404 for
        # unknown objects, both tested in tests/federation
        skipped = ("/graphql", "/.well-known/webfinger")
        if (
            isinstance(route, Route)
            and route.methods
            and "GET" in route.methods
            and route.path not in skipped
            and "{key}" not in route.path
        ):
            url = _path(route, org_a.slug, item.id, photo.id, project.id)
            # an unknown invitation link is answered 410 Gone
            # job 1 may not exist (tests/web/test_job_views.py reads real ones)
            expected = {"web:invitation_accept": (200, 303, 410), "web:job_detail": (200, 303, 404)}.get(
                route.name, (200, 303)
            )
            assert (await client.get(url)).status_code in expected
            assert (await client.htmx_get(url)).status_code in expected
    assert await _state() == before


HOSTILE = """<script>alert(1)</script>"><img src=x onerror=alert(2)>' hx-get="/logout" hx-trigger="load" {{7*7}}"""


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def hostile_elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Elements the hostile strings would have created: a script without src, an event
    handler attribute, the injected image, or htmx attributes pointing at /logout."""
    parser = _Tags()
    parser.feed(html)
    return [
        (tag, attrs)
        for tag, attrs in parser.tags
        if (tag == "script" and not attrs.get("src"))
        or any(name.startswith("on") for name in attrs)
        or (tag == "img" and attrs.get("src") == "x")
        or attrs.get("hx-get") == "/logout"
        or attrs.get("hx-trigger") == "load"
    ]


def assert_inert(html: str) -> None:
    assert hostile_elements(html) == []
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_hostile_text_in_every_user_field_renders_inert(make_client, staff_a, org_a):
    await Organization.filter(id=org_a.id).update(name=HOSTILE)
    await User.filter(id=staff_a.user_id).update(display_name=HOSTILE)
    location = await create_location(staff_a, org_a.id, {"name": HOSTILE[:120]})
    item = await create_item(
        staff_a,
        org_a.id,
        {
            "title": HOSTILE,
            "description": HOSTILE,
            "location_id": location.id,
            "initial_quantity": "4",
            "counterparty": HOSTILE,
        },
    )
    await record_movement(staff_a, item.id, {"kind": "sale", "quantity": "1", "counterparty": HOSTILE, "note": HOSTILE})
    client = await make_client(staff_a)
    base = f"/o/{org_a.slug}"
    pages = [
        f"{base}/",
        f"{base}/items",
        f"{base}/items?q=%3Cscript%3Ealert(1)",
        f"{base}/items/{item.id}",
        f"{base}/items/{item.id}/edit",
        f"{base}/items/labels",
        "/account",
    ]
    for url in pages:
        assert_inert((await client.get(url)).text)
    assert_inert((await client.htmx_get(f"{base}/items")).text)
    # a refused form re-renders the hostile values inert too
    refused = await client.post_form(
        f"{base}/items/new", {"title": "", "description": HOSTILE, "counterparty": HOSTILE, "unit_value": HOSTILE}
    )
    assert refused.status_code == 400
    assert_inert(refused.text)
    movement = await client.post(
        f"{base}/items/{item.id}/movements",
        data={"kind": "sale", "quantity": HOSTILE, "counterparty": HOSTILE},
        headers={"HX-Request": "true", "X-CSRF-Token": client.csrf_token},
    )
    assert movement.status_code == 400
    assert hostile_elements(movement.text) == []
    assert await Location.filter(organization_id=org_a.id).count() == 1


async def test_hostile_text_on_projects_members_partners_tokens_and_admin_renders_inert(
    make_client, make_member, org_a, org_b
):
    from fabcom.auth.services import create_api_token
    from fabcom.network.models import Partnership, PartnershipStatus
    from fabcom.network.services import create_exchange_request
    from fabcom.projects.services import add_participant, create_task

    owner = await make_member(org_a, role=Role.OWNER)
    await User.filter(id=owner.user_id).update(is_instance_admin=True, display_name=HOSTILE)
    owner = await load_principal(owner.user_id)
    await Organization.filter(id=org_b.id).update(name=HOSTILE)
    await Partnership.create(organization=org_a, partner=org_b, status=PartnershipStatus.ACCEPTED, message=HOSTILE)
    staff_b = await load_principal((await make_member(org_b, role=Role.STAFF)).user_id)
    shared = await create_item(
        staff_b,
        org_b.id,
        {"title": HOSTILE, "visibility": "partners", "sharing_modes": ["give"], "initial_quantity": "2"},
    )
    owner = await load_principal(owner.user_id)
    await create_exchange_request(owner, org_a.id, {"item_id": shared.id, "kind": "receive", "message": HOSTILE})
    project = await create_project(
        owner,
        org_a.id,
        {"title": HOSTILE, "summary": HOSTILE, "description": HOSTILE + "\n\n<img src=x onerror=alert(3)>"},
    )
    await create_task(owner, project.id, {"title": HOSTILE})
    await add_participant(owner, project.id, {"display_name": HOSTILE[:120], "role": HOSTILE[:80]})
    await create_api_token(owner, owner.user_id, {"name": HOSTILE[:100], "scopes": ["inventory:read"]})
    client = await make_client(owner)
    base = f"/o/{org_a.slug}"
    for url in [
        f"{base}/",
        f"{base}/projects",
        f"{base}/projects/{project.id}",
        f"{base}/members",
        f"{base}/partners",
        f"{base}/network?q=script",
        f"{base}/settings",
        "/account/tokens",
        "/admin",
    ]:
        html = (await client.get(url)).text
        assert (url, hostile_elements(html)) == (url, [])
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;alert(1)" in html, url
    export = await client.get(f"{base}/members/export.csv")
    assert "<script>" in export.content.decode("utf-8-sig")  # a CSV is data, served as an attachment
    assert export.headers["content-disposition"].startswith("attachment;")
