"""The 404, 403 and 500 pages: inside the layout, translated, with a way back."""

from __future__ import annotations

import httpx
from starlette.routing import Route

from fabcom.members.models import Role


async def test_an_unknown_address_is_a_404_page_in_the_layout_in_french_and_english(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    page = await client.get("/o/nowhere/nothing-here")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert '<nav class="main-nav"' in page.text
    assert '<h1 id="error-h">Page introuvable</h1>' in page.text
    assert f'<a class="button" href="/o/{org_a.slug}/">Retour au tableau de bord</a>' in page.text
    assert 'name="locale" value="en"' in page.text  # the language switch is there

    switched = await client.post_form("/language", {"locale": "en", "next": "/o/nowhere/nothing-here"})
    assert switched.headers["location"] == "/o/nowhere/nothing-here"
    english = await client.get("/o/nowhere/nothing-here")
    assert english.status_code == 404
    assert '<h1 id="error-h">Page not found</h1>' in english.text
    assert "Back to the dashboard" in english.text


async def test_an_anonymous_visitor_gets_the_404_page_with_a_link_home(make_client):
    client = await make_client()
    page = await client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert page.status_code == 404
    assert '<h1 id="error-h">Page not found</h1>' in page.text
    assert '<a class="button" href="/">Back to the home page</a>' in page.text


async def test_an_htmx_request_gets_a_fragment_and_programs_keep_plain_errors(make_client, staff_a):
    client = await make_client(staff_a)
    fragment = await client.htmx_get("/o/nowhere/nothing-here")
    assert fragment.status_code == 404
    assert "<html" not in fragment.text
    assert "Page introuvable" in fragment.text
    federation = await client.get("/ap/nothing-here")
    assert federation.status_code == 404
    assert "<html" not in federation.text


async def test_a_refused_page_is_a_403_page_with_the_organizations_menu(make_client, make_member, org_a):
    volunteer = await make_member(org_a, role=Role.VOLUNTEER)
    client = await make_client(volunteer)
    page = await client.get(f"/o/{org_a.slug}/settings")
    assert page.status_code == 403
    assert '<h1 id="error-h">Accès refusé</h1>' in page.text
    assert f'href="/o/{org_a.slug}/items"' in page.text  # the menu of the organization


async def test_a_server_error_is_a_calm_page_without_a_traceback(app, staff_a):
    async def boom(request):
        raise RuntimeError("secret internals /srv/fabcom/app.py")

    app.router.routes.append(Route("/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/boom", headers={"Accept-Language": "en"})
    assert page.status_code == 500
    assert '<h1 id="error-h">Something went wrong</h1>' in page.text
    assert "secret internals" not in page.text
    assert "Traceback" not in page.text
    assert '<a class="button" href="/">Back to the home page</a>' in page.text


async def test_an_expired_form_is_explained_in_a_page_with_a_way_back(make_client, staff_a, org_a):
    client = await make_client(staff_a)
    refused = await client.post(f"/o/{org_a.slug}/notifications/read", data={"csrf_token": "stale"})
    assert refused.status_code == 403
    assert '<h1 id="error-h">Ce formulaire a expiré</h1>' in refused.text
    assert "Rechargez la page et réessayez." in refused.text
    assert f'<a class="button" href="/o/{org_a.slug}/">Retour au tableau de bord</a>' in refused.text
    program = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Content-Type": "text/plain", "Accept": "application/json"},
    )
    assert "<html" not in program.text
