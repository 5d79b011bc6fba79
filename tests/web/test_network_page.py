"""The partners' network page lists what partners share in one list per kind, whether
the partner is on this site (read in place) or on another server (from the mirror)."""

from __future__ import annotations

import datetime as dt
import re

from fabcom.federation.mirror_models import MirrorItem, MirrorProject
from fabcom.i18n import fold
from fabcom.inventory.models import Item
from fabcom.members.models import Role
from fabcom.network.models import ExchangeRequest, Partnership, PartnershipStatus
from fabcom.projects.models import Project


async def test_partners_projects_from_this_site_and_other_servers_are_listed(
    make_client, make_org, make_member, staff_a, org_a
):
    near = await make_org("atelier-voisin", name="Atelier voisin")
    stranger = await make_org("inconnu", name="Inconnu du site")
    far = await make_org("b-remote", name="Fablab Bellevue", is_local=False, remote_uri="https://b.example/ap/o/b")
    for partner in (near, far):
        await Partnership.create(organization=org_a, partner=partner, status=PartnershipStatus.ACCEPTED)
    await Project.create(lead_organization=near, title="Four à pain partagé", visibility="partners")
    await Project.create(lead_organization=near, title="Zinc public", visibility="public", summary="Un comptoir")
    await Project.create(lead_organization=near, title="Projet interne du voisin", visibility="private")
    await Project.create(lead_organization=stranger, title="Projet d'un inconnu", visibility="public")
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    await MirrorProject.create(
        uri="https://b.example/ap/projects/1",
        organization=far,
        title="Banc de réparation",
        search_text="banc de réparation",
        status="active",
        remote_updated_at=now,
        received_at=now,
    )
    client = await make_client(staff_a)

    page = await client.get(f"/o/{org_a.slug}/network")
    assert page.status_code == 200
    projects = page.text.split('id="net-projects-h"', 1)[1].split("</section>", 1)[0]
    # one alphabetical list: this site's and the other server's, each saying where it comes from
    assert projects.index("Banc de réparation") < projects.index("Four à pain partagé") < projects.index("Zinc public")
    assert "Atelier voisin" in projects
    assert "Fablab Bellevue" in projects
    assert "ce site" in projects
    assert "autre serveur" in projects
    assert "Projet interne du voisin" not in page.text  # private to the partner
    assert "Projet d'un inconnu" not in page.text  # not a partner, even if public

    searched = await client.get(f"/o/{org_a.slug}/network", params={"q": "comptoir"})
    searched_projects = searched.text.split('id="net-projects-h"', 1)[1].split("</section>", 1)[0]
    assert "Zinc public" in searched_projects
    assert "Four à pain partagé" not in searched_projects
    assert "Banc de réparation" not in searched_projects

    # the same partner seen by a member of another organization: nothing of it
    outsider = await make_member(stranger, role=Role.STAFF)
    assert (await (await make_client(outsider)).get(f"/o/{org_a.slug}/network")).status_code == 404


async def test_the_network_search_offers_every_category_in_french(make_client, staff_a, org_a):
    page = await (await make_client(staff_a)).get(f"/o/{org_a.slug}/network")
    assert re.search(r'<select id="mirror-category"[^>]*>\s*<option value="">Toutes</option>', page.text)


async def test_the_network_search_ignores_accents_on_this_site_and_from_other_servers(
    make_client, make_org, staff_a, org_a
):
    """Staff type « theiere velo » on a tablet: partners' « Théière émaillée » (this site)
    and « Vélo cargo » (another server, from the mirror) are found all the same."""
    near = await make_org("atelier-voisin", name="Atelier voisin")
    far = await make_org("b-remote", name="Fablab Bellevue", is_local=False, remote_uri="https://b.example/ap/o/b")
    for partner in (near, far):
        await Partnership.create(organization=org_a, partner=partner, status=PartnershipStatus.ACCEPTED)
    await Item.create(organization=near, title="Théière émaillée", visibility="partners", quantity=1)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    await MirrorItem.create(
        uri="https://b.example/ap/items/1",
        organization=far,
        title="Vélo cargo",
        search_text=fold("Vélo cargo, peu servi"),  # as the mirror stores what it receives
        quantity=1,
        remote_updated_at=now,
        received_at=now,
    )
    client = await make_client(staff_a)
    for query, found in [("theiere", "Théière émaillée"), ("VELO", "Vélo cargo"), ("vélo cargo", "Vélo cargo")]:
        page = await client.get(f"/o/{org_a.slug}/network", params={"q": query}, headers={"HX-Request": "true"})
        assert found in page.text, query
    page = await client.get(f"/o/{org_a.slug}/network", params={"q": "velo"}, headers={"HX-Request": "true"})
    assert "Théière émaillée" not in page.text


async def test_partners_projects_on_this_site_are_found_without_accents(make_client, make_org, staff_a, org_a):
    """Staff type « menuiserie » or « ETABLIS »: a partner's project « Ménuiserie partagée »
    (this site) is found as its twin on another server is, whatever the accents and case."""
    near = await make_org("atelier-voisin", name="Atelier voisin")
    far = await make_org("b-remote", name="Fablab Bellevue", is_local=False, remote_uri="https://b.example/ap/o/b")
    for partner in (near, far):
        await Partnership.create(organization=org_a, partner=partner, status=PartnershipStatus.ACCEPTED)
    await Project.create(
        lead_organization=near, title="Ménuiserie partagée", summary="Établis et outils", visibility="partners"
    )
    await Project.create(lead_organization=near, title="Four à pain", visibility="partners")
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    await MirrorProject.create(
        uri="https://b.example/ap/projects/1",
        organization=far,
        title="Menuiserie mobile",
        search_text=fold("Menuiserie mobile"),  # as the mirror stores what it receives
        remote_updated_at=now,
        received_at=now,
    )
    client = await make_client(staff_a)

    def projects(page) -> str:
        return page.text.split('id="net-projects-h"', 1)[1].split("</section>", 1)[0]

    for query in ("menuiserie", "MÉNUISERIE", "ménuiserie partagée", "etablis OUTILS"):
        found = projects(await client.get(f"/o/{org_a.slug}/network", params={"q": query}))
        assert "Ménuiserie partagée" in found, query
        assert "Four à pain" not in found, query
    both = projects(await client.get(f"/o/{org_a.slug}/network", params={"q": "menuiserie"}))
    assert "Menuiserie mobile" in both  # the other server's, in the same list
    nothing = projects(await client.get(f"/o/{org_a.slug}/network", params={"q": "menuiserie four"}))
    assert "Ménuiserie partagée" not in nothing  # every word must match


async def test_the_network_search_lists_only_what_partners_can_hand_over(make_client, make_org, staff_a, org_a):
    """Out of stock or reserved, a partner's item cannot be asked for: it is left out of
    the search, from another server as from this site, rather than offered then refused."""
    near = await make_org("atelier-voisin", name="Atelier voisin")
    far = await make_org("b-remote", name="Fablab Bellevue", is_local=False, remote_uri="https://b.example/ap/o/b")
    for partner in (near, far):
        await Partnership.create(organization=org_a, partner=partner, status=PartnershipStatus.ACCEPTED)
    shared = {"visibility": "partners", "sharing_modes": ["give"]}
    await Item.create(organization=near, title="Chaise en stock", quantity=2, **shared)
    await Item.create(organization=near, title="Chaise épuisée", quantity=0, **shared)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for n, (title, quantity, status) in enumerate(
        [
            ("Chaise lointaine", 3, "available"),
            ("Chaise lointaine épuisée", 0, "available"),
            ("Chaise promise", 3, "reserved"),
        ]
    ):
        await MirrorItem.create(
            uri=f"https://b.example/ap/items/{n}",
            organization=far,
            title=title,
            search_text=fold(title),
            quantity=quantity,
            status=status,
            sharing_modes=["give"],
            remote_updated_at=now,
            received_at=now,
        )
    client = await make_client(staff_a)

    page = await client.get(f"/o/{org_a.slug}/network", params={"q": "chaise"}, headers={"HX-Request": "true"})
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert [re.search(r"<td>([^<]+)<br>", row).group(1) for row in rows] == ["Chaise en stock", "Chaise lointaine"]


async def _shared_chair(make_org, org_a) -> Item:
    near = await make_org("atelier-voisin", name="Atelier voisin")
    await Partnership.create(organization=org_a, partner=near, status=PartnershipStatus.ACCEPTED)
    return await Item.create(
        organization=near, title="Chaise en chêne", quantity=2, visibility="partners", sharing_modes=["give"]
    )


async def test_asking_from_the_search_answers_on_the_row_and_keeps_the_search(make_client, make_org, staff_a, org_a):
    """« Demander » on one row of a search: the answer (sent, or what is wrong) comes on
    that row, with what was typed, and the search and its other rows stay as they were."""
    chair = await _shared_chair(make_org, org_a)
    client = await make_client(staff_a)
    page = await client.get(f"/o/{org_a.slug}/network", params={"q": "chaise"})
    assert f'hx-post="/o/{org_a.slug}/exchanges/new" hx-target="#net-item-local-{chair.id}"' in page.text
    asked = {"item_id": str(chair.id), "kind": "receive", "back": "network", "q": "chaise"}
    htmx = {"HX-Request": "true", "X-CSRF-Token": client.csrf_token}

    refused = await client.post(f"/o/{org_a.slug}/exchanges/new", data={**asked, "quantity": "5"}, headers=htmx)
    assert refused.status_code == 400
    assert refused.text.startswith(f'<tr id="net-item-local-{chair.id}"')  # that row only
    assert "Chaise en chêne — Stock insuffisant : il n’en reste que 2." in refused.text
    assert 'value="5"' in refused.text  # as typed
    assert 'aria-invalid="true"' in refused.text
    assert await ExchangeRequest.all().count() == 0

    sent = await client.post(f"/o/{org_a.slug}/exchanges/new", data={**asked, "quantity": "1"}, headers=htmx)
    assert sent.status_code == 200
    assert sent.text.startswith(f'<tr id="net-item-local-{chair.id}"')
    assert "Chaise en chêne — Demande envoyée." in sent.text
    assert await ExchangeRequest.filter(item_id=chair.id, quantity=1).count() == 1
    # the row, then the search again, say it was asked for, with no second « Ask »
    assert "Déjà demandé" in sent.text
    assert "<form" not in sent.text
    again = await client.get(f"/o/{org_a.slug}/network", params={"q": "chaise"})
    row = again.text.split(f'<tr id="net-item-local-{chair.id}">')[1].split("</tr>")[0]
    assert "Déjà demandé" in row
    assert "<form" not in row


async def test_asking_without_javascript_comes_back_to_the_same_search(make_client, make_org, staff_a, org_a):
    chair = await _shared_chair(make_org, org_a)
    client = await make_client(staff_a)
    data = {"item_id": str(chair.id), "kind": "receive", "quantity": "5", "back": "network", "q": "chaise"}
    refused = await client.post_form(f"/o/{org_a.slug}/exchanges/new", {**data, "category": "furniture"})
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/o/{org_a.slug}/network?q=chaise&category=furniture"
    page = await client.get(refused.headers["location"])
    assert "Chaise en chêne — Stock insuffisant : il n’en reste que 2." in page.text  # which row it is about
