"""Nested lists are connections (a project's partners and needs): paged by cursor, served
from the rows loaded with the page of projects (no query per project); and ``totalCount``
is exact for small lists, kept a while for large ones."""

from __future__ import annotations

from fabcom.gql import pagination
from fabcom.gql.ids import global_id
from fabcom.inventory.services import create_item
from fabcom.projects.services import add_need, add_partner_organization, create_project, create_task

PROJECTS = """query($n: Int!) { projects(first: $n) { edges { node { title
  partnerOrganizations(first: 10) { totalCount edges { node { slug } } }
  needs(first: 10) { totalCount edges { node { skill } } } } } } }"""


async def public_project(staff, org, title: str, partners, skills):
    project = await create_project(staff, org.id, {"title": title, "visibility": "public"})
    for partner in partners:
        await add_partner_organization(staff, project.id, partner.id)
    for skill in skills:
        await add_need(staff, project.id, {"kind": "skill", "skill": skill})
    return project


async def test_a_projects_partners_and_needs_are_connections_paged_by_cursor(api, org_a, staff_a, make_org):
    partners = [await make_org(f"partenaire-{n}") for n in range(3)]
    await public_project(staff_a, org_a, "Atelier vélo", partners, ["soudure", "couture", "menuiserie"])

    first = await api(
        "{ projects(first: 1) { edges { node { partnerOrganizations(first: 2) { totalCount"
        " pageInfo { hasNextPage endCursor } edges { node { slug } } } } } } }"
    )
    page = first.data["projects"]["edges"][0]["node"]["partnerOrganizations"]
    assert page["totalCount"] == 3
    assert [e["node"]["slug"] for e in page["edges"]] == ["partenaire-0", "partenaire-1"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await api(
        "query($after: String!) { projects(first: 1) { edges { node {"
        " partnerOrganizations(first: 2, after: $after) { pageInfo { hasNextPage } edges { node { slug } } } } } } }",
        {"after": page["pageInfo"]["endCursor"]},
    )
    page = rest.data["projects"]["edges"][0]["node"]["partnerOrganizations"]
    assert [e["node"]["slug"] for e in page["edges"]] == ["partenaire-2"]
    assert page["pageInfo"]["hasNextPage"] is False


async def test_nested_connections_cost_no_query_per_project(api, org_a, staff_a, make_org, sql_statements):
    partner = await make_org("partenaire")
    for n in range(4):
        await public_project(staff_a, org_a, f"Projet {n}", [partner], ["soudure", "couture"])
    statements = sql_statements
    statements.clear()  # what the projects' creation sent

    one = await api(PROJECTS, {"n": 1})
    queries_for_one = len(statements)
    statements.clear()
    four = await api(PROJECTS, {"n": 4})

    assert len(four.data["projects"]["edges"]) == 4
    assert one.data["projects"]["edges"][0]["node"]["needs"]["totalCount"] == 2
    assert len(statements) == queries_for_one


async def test_a_nested_connection_needs_first_or_last(api, org_a, staff_a):
    await public_project(staff_a, org_a, "Atelier", [], ["soudure"])
    answer = await api("{ projects(first: 1) { edges { node { needs { totalCount } } } } }")
    assert answer.error_codes == ["PAGINATION_REQUIRED"]


async def test_a_small_total_is_exact_and_a_large_one_is_kept_a_while(api, org_a, staff_a, monkeypatch):
    query = "{ items(first: 1) { totalCount } }"
    for n in range(3):
        await create_item(staff_a, org_a.id, {"title": f"Objet {n}", "visibility": "public"})
    assert (await api(query)).data["items"]["totalCount"] == 3
    await create_item(staff_a, org_a.id, {"title": "Objet 3", "visibility": "public"})
    assert (await api(query)).data["items"]["totalCount"] == 4  # below the threshold: exact

    # given a threshold of 4 objects, a count of 4 is kept
    monkeypatch.setattr(pagination, "COUNT_CACHE_MIN", 4)
    monkeypatch.setattr(pagination, "_counts", type(pagination._counts)())
    assert (await api(query)).data["items"]["totalCount"] == 4
    await create_item(staff_a, org_a.id, {"title": "Objet 4", "visibility": "public"})
    assert (await api(query)).data["items"]["totalCount"] == 4  # the kept count
    # another query (a filter) is counted on its own
    assert (await api('{ items(first: 1, filter: {search: "objet"}) { totalCount } }')).data["items"]["totalCount"] == 5
    pagination._counts.clear()  # what 30 seconds do
    assert (await api(query)).data["items"]["totalCount"] == 5


TASKS = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Task { title
  project { title leadOrganization { slug } } } } }"""


async def test_the_project_of_a_page_of_tasks_costs_no_query_per_task(api, org_a, staff_a, sql_statements):
    # given tasks in several projects
    tasks = []
    for n in range(6):
        project = await create_project(staff_a, org_a.id, {"title": f"Projet {n}", "visibility": "public"})
        tasks.append(await create_task(staff_a, project.id, {"title": f"Tâche {n}"}))
    ids = [global_id("Task", task.id) for task in tasks]
    sql_statements.clear()

    # when a partner reads them with their project, two tasks then six
    two = await api(TASKS, {"ids": ids[:2]})
    statements_for_two = len(sql_statements)
    sql_statements.clear()
    six = await api(TASKS, {"ids": ids})

    # then each task has its project, for the same number of statements
    assert [node["project"] for node in six.data["nodes"]] == [
        {"title": f"Projet {n}", "leadOrganization": {"slug": "recyclerie-a"}} for n in range(6)
    ]
    assert two.data["nodes"][1] == six.data["nodes"][1]
    assert len(sql_statements) == statements_for_two, sql_statements


async def test_a_projects_tasks_give_the_project_back(api, org_a, staff_a):
    project = await create_project(staff_a, org_a.id, {"title": "Atelier vélo", "visibility": "public"})
    await create_task(staff_a, project.id, {"title": "Trier les pièces"})
    answer = await api(
        "query($id: ID!) { project(id: $id) { tasks(first: 5) { edges { node { title project { id title } } } } } }",
        {"id": global_id("Project", project.id)},
    )
    assert answer.data["project"]["tasks"]["edges"] == [
        {
            "node": {
                "title": "Trier les pièces",
                "project": {"id": global_id("Project", project.id), "title": "Atelier vélo"},
            }
        }
    ]
