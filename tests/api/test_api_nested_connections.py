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


PROJECT_TASKS = """query($n: Int!) { projects(first: $n) { edges { node { title
  tasks(first: 2) { totalCount pageInfo { hasNextPage } edges { node { title project { title } } } } } } } }"""


async def test_a_page_of_projects_reads_their_tasks_in_one_batch(api, org_a, staff_a, sql_statements):
    # given four projects with three tasks each
    for n in range(4):
        project = await create_project(staff_a, org_a.id, {"title": f"Projet {n}", "visibility": "public"})
        for t in range(3):
            await create_task(staff_a, project.id, {"title": f"Tâche {n}.{t}"})
    sql_statements.clear()

    # when someone reads one project with its tasks, then four
    one = await api(PROJECT_TASKS, {"n": 1})
    statements_for_one = len(sql_statements)
    sql_statements.clear()
    four = await api(PROJECT_TASKS, {"n": 4})

    # then each project has its own first two tasks, for the same number of statements
    assert [edge["node"] for edge in four.data["projects"]["edges"]] == [
        {
            "title": f"Projet {n}",
            "tasks": {
                "totalCount": 3,
                "pageInfo": {"hasNextPage": True},
                "edges": [{"node": {"title": f"Tâche {n}.{t}", "project": {"title": f"Projet {n}"}}} for t in range(2)],
            },
        }
        for n in range(4)
    ]
    assert one.data["projects"]["edges"][0] == four.data["projects"]["edges"][0]
    assert len(sql_statements) == statements_for_one, sql_statements


WINDOWS = """query { projects(first: 3) { edges { node { title
  head: tasks(first: 2) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { title } } }
  tail: tasks(last: 2) { pageInfo { hasNextPage hasPreviousPage startCursor } edges { node { title } } } } } } }"""
ONE_PROJECT = """query($id: ID!, $after: String, $before: String) { project(id: $id) {
  next: tasks(first: 2, after: $after) { pageInfo { hasNextPage hasPreviousPage } edges { node { title } } }
  previous: tasks(last: 2, before: $before) { pageInfo { hasNextPage hasPreviousPage } edges { node { title } } } } }"""


def titles(connection) -> list[str]:
    return [edge["node"]["title"] for edge in connection["edges"]]


async def test_a_batch_of_task_pages_cuts_each_project_as_it_would_alone(api, org_a, staff_a):
    # given projects with five tasks, none, and two
    projects = []
    for title, count in (("Cinq", 5), ("Aucune", 0), ("Deux", 2)):
        project = await create_project(staff_a, org_a.id, {"title": title, "visibility": "public"})
        for t in range(count):
            await create_task(staff_a, project.id, {"title": f"{title} {t}"})
        projects.append(project)

    # when their first and last two tasks are asked in one request
    answer = await api(WINDOWS)

    # then each project has its own pages, with its own total and neighbours
    nodes = {edge["node"]["title"]: edge["node"] for edge in answer.data["projects"]["edges"]}
    five, none, two = nodes["Cinq"], nodes["Aucune"], nodes["Deux"]
    assert (titles(five["head"]), five["head"]["totalCount"]) == (["Cinq 0", "Cinq 1"], 5)
    assert five["head"]["pageInfo"] | {"endCursor": None} == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "endCursor": None,
    }
    assert titles(five["tail"]) == ["Cinq 3", "Cinq 4"]
    assert five["tail"]["pageInfo"] | {"startCursor": None} == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": None,
    }
    assert (titles(none["head"]), none["head"]["totalCount"], titles(none["tail"])) == ([], 0, [])
    assert none["head"]["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None}
    assert (titles(two["head"]), two["head"]["totalCount"], titles(two["tail"])) == (
        ["Deux 0", "Deux 1"],
        2,
        ["Deux 0", "Deux 1"],
    )
    assert two["head"]["pageInfo"]["hasNextPage"] is False
    assert two["tail"]["pageInfo"]["hasPreviousPage"] is False

    # and the cursors page on from there
    more = await api(
        ONE_PROJECT,
        {
            "id": global_id("Project", projects[0].id),
            "after": five["head"]["pageInfo"]["endCursor"],
            "before": five["tail"]["pageInfo"]["startCursor"],
        },
    )
    page = more.data["project"]
    assert titles(page["next"]) == ["Cinq 2", "Cinq 3"]
    assert page["next"]["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": True}
    assert titles(page["previous"]) == ["Cinq 1", "Cinq 2"]
    assert page["previous"]["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": True}


async def test_a_bad_window_on_a_page_of_projects_tasks_is_refused(api, org_a, staff_a):
    for n in range(2):
        await create_project(staff_a, org_a.id, {"title": f"Projet {n}", "visibility": "public"})
    for tasks, code in (
        ("tasks", "PAGINATION_REQUIRED"),
        ("tasks(first: 101)", "PAGINATION_INVALID"),
        ('tasks(first: 1, after: "x")', "BAD_USER_INPUT"),
    ):
        answer = await api(f"{{ projects(first: 2) {{ edges {{ node {{ {tasks} {{ totalCount }} }} }} }} }}")
        assert set(answer.error_codes) == {code}, tasks
        assert answer.body.get("data") is None  # refused before running, or nulled up to the root


async def test_each_field_of_a_mutation_reads_the_tasks_after_its_own_write(api, org_a, staff_a, token_for):
    project = await create_project(staff_a, org_a.id, {"title": "Atelier vélo", "visibility": "public"})
    fields = " ".join(
        f'{alias}: taskCreate(input: {{projectId: $p, title: "{title}"}})'
        " { task { project { tasks(first: 10) { totalCount edges { node { title } } } } } errors { code } }"
        for alias, title in (("one", "Trier"), ("two", "Réparer"))
    )
    answer = await api(
        f"mutation($p: ID!) {{ {fields} }}", {"p": global_id("Project", project.id)}, token=await token_for(staff_a)
    )
    tasks = {alias: answer.data[alias]["task"]["project"]["tasks"] for alias in ("one", "two")}
    assert (tasks["one"]["totalCount"], titles(tasks["one"])) == (1, ["Trier"])
    assert (tasks["two"]["totalCount"], titles(tasks["two"])) == (2, ["Trier", "Réparer"])
