"""The permission matrix: anonymous, a member of A (token), a member of an unrelated B
(session cookie), a member of A's accepted partner P (token), a member of C whose
partnership with A is only requested (token) × private / partners / public objects of A
× read (by id, in lists, nested, through node) and write."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fabcom.auth.models import User
from fabcom.auth.services import open_session
from fabcom.gql.ids import global_id
from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item
from fabcom.members.models import Role
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.projects.models import Project
from fabcom.projects.services import create_project

VISIBILITIES = ["private", "partners", "public"]
ACTORS = ["anonymous", "member_a", "member_b", "partner", "non_partner"]
# Who reads what: the rule of fabcom.permissions, written out.
SEES = {
    "private": {"member_a"},
    "partners": {"member_a", "partner"},
    "public": set(ACTORS),
}


@dataclass
class World:
    creds: dict[str, dict[str, str]]
    items: dict[str, int]
    projects: dict[str, int]


@pytest.fixture
async def world(make_org, make_member, token_for) -> World:
    org_a = await make_org("alpha", name="Alpha")
    org_b = await make_org("beta", name="Beta")
    org_p = await make_org("partner", name="Partner")
    org_c = await make_org("gamma", name="Gamma")
    await Partnership.create(organization=org_a, partner=org_p, status=PartnershipStatus.ACCEPTED)
    await Partnership.create(organization=org_c, partner=org_a, status=PartnershipStatus.REQUESTED)
    member_a = await make_member(org_a, role=Role.STAFF)
    member_b = await make_member(org_b, role=Role.OWNER)
    partner = await make_member(org_p, role=Role.OWNER)
    non_partner = await make_member(org_c, role=Role.OWNER)
    _session, cookie = await open_session(await User.get(id=member_b.user_id))
    creds = {
        "anonymous": {},
        "member_a": {"token": await token_for(member_a)},
        "member_b": {"cookie": cookie},
        "partner": {"token": await token_for(partner)},
        "non_partner": {"token": await token_for(non_partner)},
    }
    items, projects = {}, {}
    for visibility in VISIBILITIES:
        item = await create_item(member_a, org_a.id, {"title": f"Objet {visibility}", "visibility": visibility})
        items[visibility] = item.id
        project = await create_project(member_a, org_a.id, {"title": f"Projet {visibility}", "visibility": visibility})
        projects[visibility] = project.id
    return World(creds, items, projects)


READS = {
    "item_by_id": ("query($id: ID!) { item(id: $id) { title } }", lambda d: d["item"] and d["item"]["title"]),
    "item_node": (
        "query($id: ID!) { node(id: $id) { ... on Item { title } } }",
        lambda d: d["node"] and d["node"]["title"],
    ),
    "item_nodes": (
        "query($id: ID!) { nodes(ids: [$id]) { ... on Item { title } } }",
        lambda d: d["nodes"][0] and d["nodes"][0]["title"],
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("read", sorted(READS))
async def test_items_by_id_and_node_follow_visibility(api, world, actor, visibility, read):
    query, extract = READS[read]
    answer = await api(query, {"id": global_id("Item", world.items[visibility])}, **world.creds[actor])
    expected = f"Objet {visibility}" if actor in SEES[visibility] else None
    assert extract(answer.data) == expected


@pytest.mark.parametrize("actor", ACTORS)
async def test_item_lists_and_nested_lists_follow_visibility(api, world, actor):
    expected = sorted(f"Objet {v}" for v in VISIBILITIES if actor in SEES[v])
    listed = await api("{ items(first: 100) { totalCount edges { node { title } } } }", **world.creds[actor])
    nested = await api(
        '{ organization(slug: "alpha") { items(first: 100) { totalCount edges { node { title } } } } }',
        **world.creds[actor],
    )
    for connection in (listed.data["items"], nested.data["organization"]["items"]):
        assert sorted(e["node"]["title"] for e in connection["edges"]) == expected
        assert connection["totalCount"] == len(expected)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("visibility", VISIBILITIES)
async def test_projects_by_id_node_and_list_follow_visibility(api, world, actor, visibility):
    gid = global_id("Project", world.projects[visibility])
    by_id = await api("query($id: ID!) { project(id: $id) { title } }", {"id": gid}, **world.creds[actor])
    node = await api(
        "query($id: ID!) { node(id: $id) { ... on Project { title } } }", {"id": gid}, **world.creds[actor]
    )
    listed = await api("{ projects(first: 100) { edges { node { title } } } }", **world.creds[actor])
    visible = actor in SEES[visibility]
    title = f"Projet {visibility}"
    assert by_id.data == {"project": {"title": title} if visible else None}
    assert node.data == {"node": {"title": title} if visible else None}
    assert (title in [e["node"]["title"] for e in listed.data["projects"]["edges"]]) is visible


UPDATE_ITEM = 'mutation($id: ID!) { itemUpdate(input: {id: $id, title: "Changé"}) { item { title } errors { field code message } } }'


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("visibility", VISIBILITIES)
async def test_only_members_of_a_write_its_items_and_refusals_change_nothing(api, world, actor, visibility):
    item_id = world.items[visibility]
    # A program (token) gets the language it asks for; a browser session its account's (French).
    answer = await api(UPDATE_ITEM, {"id": global_id("Item", item_id)}, locale="en", **world.creds[actor])
    english = "token" in world.creds[actor]
    title = (await Item.get(id=item_id)).title
    if actor == "anonymous":
        assert answer.status == 401
        assert answer.error_codes == ["UNAUTHENTICATED"]
        assert title == f"Objet {visibility}"
    elif actor == "member_a":
        assert answer.data == {"itemUpdate": {"item": {"title": "Changé"}, "errors": []}}
        assert title == "Changé"
    else:
        expected = (
            {"field": None, "code": "PERMISSION_DENIED", "message": "Vous n’avez pas le droit de faire cela."}
            if actor in SEES[visibility]
            else {"field": None, "code": "NOT_FOUND", "message": "Introuvable."}
        )
        if english:
            expected["message"] = {"PERMISSION_DENIED": "You are not allowed to do this.", "NOT_FOUND": "Not found."}[
                expected["code"]
            ]
        assert answer.data == {"itemUpdate": {"item": None, "errors": [expected]}}
        assert title == f"Objet {visibility}"


@pytest.mark.parametrize("actor", ["member_b", "partner", "non_partner"])
async def test_projects_of_a_cannot_be_changed_by_others(api, world, actor):
    gid = global_id("Project", world.projects["public"])
    answer = await api(
        'mutation($id: ID!) { projectUpdate(input: {id: $id, title: "X"}) { project { title } errors { code } } }',
        {"id": gid},
        **world.creds[actor],
    )
    assert answer.data == {"projectUpdate": {"project": None, "errors": [{"code": "PERMISSION_DENIED"}]}}
    assert (await Project.get(id=world.projects["public"])).title == "Projet public"


@pytest.mark.parametrize("actor", ["anonymous", "member_b", "partner", "non_partner"])
async def test_an_invisible_object_is_answered_exactly_like_a_missing_one(api, world, actor):
    hidden = global_id("Item", world.items["private"])
    missing = global_id("Item", 999_999)
    for query in (READS["item_by_id"][0], READS["item_node"][0]):
        seen = await api(query, {"id": hidden}, **world.creds[actor])
        absent = await api(query, {"id": missing}, **world.creds[actor])
        assert seen.body["data"] == absent.body["data"]
        assert "errors" not in seen.body
    if actor != "anonymous":
        seen = await api(UPDATE_ITEM, {"id": hidden}, **world.creds[actor])
        absent = await api(UPDATE_ITEM, {"id": missing}, **world.creds[actor])
        assert seen.body["data"] == absent.body["data"]


async def test_a_token_without_the_read_scope_sees_only_public_items(api, world, make_member, token_for):
    from fabcom.orgs.models import Organization

    alpha = await Organization.get(slug="alpha")
    reader = await make_member(alpha, role=Role.ADMIN)
    token = await token_for(reader, ["projects:read"])
    answer = await api("{ items(first: 10) { edges { node { title } } } }", token=token)
    assert [e["node"]["title"] for e in answer.data["items"]["edges"]] == ["Objet public"]


async def test_members_and_ledger_are_for_the_organizations_staff_only(api, world):
    movements = "query($id: ID!) { stockMovements(itemId: $id, first: 10) { totalCount } }"
    members = '{ members(organizationSlug: "alpha", first: 10) { totalCount edges { node { role email } } } }'
    gid = global_id("Item", world.items["public"])
    for actor in ACTORS:
        ledger = await api(movements, {"id": gid}, **world.creds[actor])
        people = await api(members, **world.creds[actor])
        assert ledger.data["stockMovements"]["totalCount"] == 0  # no stock was recorded
        assert people.data["members"]["totalCount"] == (1 if actor == "member_a" else 0)


@pytest.mark.parametrize("actor", ACTORS)
async def test_tasks_partnerships_and_members_through_node_follow_their_rules(api, world, actor):
    from fabcom.members.models import Membership
    from fabcom.network.models import Partnership as Link
    from fabcom.projects.models import Task

    private_task = await Task.create(project_id=world.projects["private"], title="Secret")
    public_task = await Task.create(project_id=world.projects["public"], title="Ouvert")
    link = await Link.get(status=PartnershipStatus.ACCEPTED)
    membership = await Membership.filter(organization__slug="alpha").first()
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
    ids = [
        global_id("Task", private_task.id),
        global_id("Task", public_task.id),
        global_id("Partnership", link.id),
        global_id("Member", membership.id),
    ]
    answer = await api(query, {"ids": ids}, **world.creds[actor])
    visible = [node is not None for node in answer.data["nodes"]]
    assert visible == [
        actor == "member_a",  # a private project's task
        True,  # a public project's task
        actor in ("member_a", "partner"),  # the partnership, to both sides' staff
        actor == "member_a",  # a membership, to the organization's staff
    ]
    listed = await api("{ partnerships(first: 10) { totalCount } }", **world.creds[actor])
    assert listed.data["partnerships"]["totalCount"] == {"member_a": 2, "partner": 1, "non_partner": 1}.get(actor, 0)


@pytest.mark.parametrize("actor", ACTORS)
async def test_a_tasks_project_is_read_by_the_rules_of_the_project(api, world, actor):
    from fabcom.projects.models import Task

    tasks = {v: await Task.create(project_id=world.projects[v], title=f"Tâche {v}") for v in VISIBILITIES}
    answer = await api(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Task { title project { title visibility } } } }",
        {"ids": [global_id("Task", tasks[v].id) for v in VISIBILITIES]},
        **world.creds[actor],
    )
    assert answer.data["nodes"] == [
        {"title": f"Tâche {v}", "project": {"title": f"Projet {v}", "visibility": v.upper()}}
        if actor in SEES[v]
        else None
        for v in VISIBILITIES
    ]


@pytest.mark.parametrize("actor", ACTORS)
async def test_a_page_of_projects_shows_the_tasks_of_the_projects_you_see_only(api, world, actor):
    from fabcom.projects.models import Task

    for v in VISIBILITIES:
        await Task.create(project_id=world.projects[v], title=f"Tâche {v}")
    answer = await api(
        "{ projects(first: 100) { edges { node { title tasks(first: 10) { totalCount edges { node { title } } } } } } }",
        **world.creds[actor],
    )
    assert {edge["node"]["title"]: edge["node"]["tasks"] for edge in answer.data["projects"]["edges"]} == {
        f"Projet {v}": {"totalCount": 1, "edges": [{"node": {"title": f"Tâche {v}"}}]}
        for v in VISIBILITIES
        if actor in SEES[v]
    }
