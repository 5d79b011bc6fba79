"""A page of items is read as plain rows (``fabcom.gql.loaders.item_rows``), a single item
as a Tortoise model: both must answer every field of ``Item`` identically."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fabcom.inventory.models import Attachment, Category, Item, Location

ALL_FIELDS = """
fragment All on Item {
  id uri title description unit quantity unitWeightKg unitValue condition status visibility sharingModes
  attributes createdAt updatedAt
  organization { id uri slug name kind description city country latitude email website isLocal }
  category { id code label labelFr labelEn repChannel parent { code } }
  location { name }
  photos { url contentType size position }
}
"""


async def test_a_page_answers_like_the_single_item(api, org_a, staff_a):
    child = await Category.filter(parent_id__not_isnull=True).first()
    assert child is not None
    location = await Location.create(organization=org_a, name="Atelier")
    full = await Item.create(
        organization=org_a,
        title="Perceuse",
        description="Avec sa mallette",
        category=child,
        location=location,
        unit="piece",
        quantity=Decimal("2.5"),
        unit_weight_kg=Decimal("1.2"),
        unit_value=Decimal("30"),
        condition="very_good",
        visibility="public",
        sharing_modes=["lend", "give"],
        attributes={"voltage": 18, "brand": "Outil"},
    )
    bare = await Item.create(organization=org_a, title="Vis en vrac", visibility="public")
    for position in (1, 0):  # stored out of order: answered by position
        await Attachment.create(
            organization=org_a,
            item=full,
            original_name=f"{position}.jpg",
            stored_name=f"{full.id}-{position}.jpg",
            content_type="image/jpeg",
            size=100 + position,
            sha256="0" * 64,
            position=position,
        )
    page = await api(ALL_FIELDS + "{ items(first: 10) { edges { node { ...All } } } }")
    nodes = [edge["node"] for edge in page.data["items"]["edges"]]
    assert [node["title"] for node in nodes] == ["Perceuse", "Vis en vrac"]
    for item, node in zip([full, bare], nodes, strict=True):
        single = await api(ALL_FIELDS + "query($id: ID!) { item(id: $id) { ...All } }", {"id": node["id"]})
        assert single.data["item"] == node, item.title
    assert [photo["position"] for photo in nodes[0]["photos"]] == [0, 1]
    assert nodes[0]["category"]["parent"] is not None
    assert (nodes[1]["category"], nodes[1]["location"], nodes[1]["photos"]) == (None, None, [])


async def test_an_organizations_items_are_rows_too(api, org_a, staff_a):
    await Item.create(organization=org_a, title="Chaise", visibility="public")
    answer = await api(
        ALL_FIELDS
        + "query($slug: String!) { organization(slug: $slug) { items(first: 5) { edges { node { ...All } } } } }",
        {"slug": org_a.slug},
    )
    node = answer.data["organization"]["items"]["edges"][0]["node"]
    single = await api(ALL_FIELDS + "query($id: ID!) { item(id: $id) { ...All } }", {"id": node["id"]})
    assert single.data["item"] == node


def single_field_selections() -> list[str]:
    """Every field of ``Item`` alone, and every field of its relations alone (with the
    relation's own relations through one field), as node selections."""
    from graphql import GraphQLObjectType, get_named_type

    from fabcom.gql.schema import schema

    item = schema._schema.type_map["Item"]
    assert isinstance(item, GraphQLObjectType)
    selections = []
    for name, field in item.fields.items():
        named = get_named_type(field.type)
        if not isinstance(named, GraphQLObjectType):
            selections.append(name)
            continue
        for sub_name, sub_field in named.fields.items():
            if sub_field.args:  # a connection (organization.items): its own page
                continue
            sub_named = get_named_type(sub_field.type)
            leaf = f"{sub_name} {{ code }}" if isinstance(sub_named, GraphQLObjectType) else sub_name
            selections.append(f"{name} {{ {leaf} }}")
    return selections


async def test_a_page_reading_one_field_answers_like_a_page_reading_all(api, org_a, staff_a):
    """A page loads only what its selection reads (``fabcom.gql.lookahead``): each field
    alone must still find what it needs, a resolver's declared reads included."""
    child = await Category.filter(parent_id__not_isnull=True).first()
    location = await Location.create(organization=org_a, name="Atelier")
    item = await Item.create(
        organization=org_a, title="Perceuse", category=child, location=location, visibility="public", unit_value=3
    )
    await Attachment.create(
        organization=org_a,
        item=item,
        original_name="a.jpg",
        stored_name=f"{item.id}-a.jpg",
        content_type="image/jpeg",
        size=100,
        sha256="0" * 64,
        position=0,
    )
    selections = single_field_selections()
    assert {
        "uri",
        "organization { uri }",
        "category { label }",
        "category { parent { code } }",
        "photos { url }",
    } <= set(selections)
    everything = await api("{ items(first: 5) { edges { node { " + " ".join(selections) + " } } } }")
    full = everything.data["items"]["edges"][0]["node"]
    for selection in selections:
        alone = await api("{ items(first: 5) { edges { node { " + selection + " } } } }")
        node = alone.data["items"]["edges"][0]["node"]
        assert part_of(node, full), selection


def part_of(part: object, whole: object) -> bool:
    """Is ``part`` what ``whole`` answers for the same fields?"""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(key in whole and part_of(v, whole[key]) for key, v in part.items())
    if isinstance(part, list):
        return isinstance(whole, list) and len(part) == len(whole) and all(map(part_of, part, whole))
    return part == whole


async def test_a_page_reads_the_columns_its_selection_asks_for(monkeypatch, api, org_a, staff_a):
    from fabcom.gql import loaders

    await Item.create(organization=org_a, title="Chaise", visibility="public")
    asked: list[tuple[str, ...]] = []
    values = loaders.QuerySet.values

    def recorded(self, *names, **kwargs):
        asked.append(names)
        return values(self, *names, **kwargs)

    monkeypatch.setattr(loaders.QuerySet, "values", recorded)
    answer = await api("{ items(first: 5) { edges { cursor node { title organization { slug } } } } }")
    assert answer.data["items"]["edges"][0]["node"] == {"title": "Chaise", "organization": {"slug": org_a.slug}}
    assert sorted(asked[-1]) == sorted(["id", "title", "organization_id", "organization__id", "organization__slug"])
    # No photos asked for: no photo query. A resolver that declares nothing reads every column.
    assert not any("item_id" in names for names in asked)


@pytest.mark.parametrize(
    ("paths", "read"),
    [
        (("organization",), lambda row: row.organization.slug),  # a relation named as a whole
        (("photos",), lambda row: row.photos),
        (("category.parent.code",), lambda row: row.category.parent),  # through a relation's relation
        (("organization.slug",), lambda row: row.organization.slug),
    ],
)
async def test_what_a_field_may_declare_it_reads_is_loaded(db, org_a, paths, read):
    """``reads(...)`` paths the page cannot narrow to columns load more, never too little."""
    from fabcom.gql import loaders
    from fabcom.gql.lookahead import _declared

    child = await Category.filter(parent_id__not_isnull=True).first()
    await Item.create(organization=org_a, title="Perceuse", category=child)
    rows = await loaders.item_rows(Item.all(), reads=_declared(paths))
    assert read(rows[0]) is not None


async def test_pages_of_one_shape_answer_their_own_rows_whoever_asks(api, token_for, org_a, org_b, staff_a, staff_b):
    """A page's statement is built once per shape (``fabcom.statements``): the same
    query with other values (an organization, a cursor) or from another caller (whose
    visible organizations are other parameters of the same statement) answers its own rows."""
    for org, prefix in ((org_a, "A"), (org_b, "B")):
        for n in range(3):
            item = await Item.create(organization=org, title=f"{prefix}{n}", visibility="public")
            await Attachment.create(
                organization=org,
                item=item,
                original_name="p.jpg",
                stored_name=f"{prefix}{n}.jpg",
                content_type="image/jpeg",
                size=1,
                sha256="0" * 64,
                position=0,
            )
        await Item.create(organization=org, title=f"{prefix} interne", visibility="private")
    query = """query($o: String!, $after: String) {
      items(first: 2, after: $after, filter: {organizationSlug: $o}) {
        edges { node { title organization { slug } photos { url } } } pageInfo { endCursor } } }"""

    def titles(answer: object) -> list[str]:
        return [edge["node"]["title"] for edge in answer.data["items"]["edges"]]  # type: ignore[attr-defined]

    first_a = await api(query, {"o": org_a.slug})
    assert titles(first_a) == ["A0", "A1"]
    assert titles(await api(query, {"o": org_b.slug})) == ["B0", "B1"]
    after = {"o": org_a.slug, "after": first_a.data["items"]["pageInfo"]["endCursor"]}
    assert titles(await api(query, after)) == ["A2"]
    assert titles(await api(query, after, token=await token_for(staff_a))) == ["A2", "A interne"]
    assert titles(await api(query, after, token=await token_for(staff_b))) == ["A2"]
    page_b = await api(query, {"o": org_b.slug}, token=await token_for(staff_b))
    assert titles(page_b) == ["B0", "B1"]
    # the photos too: each item's own, the statement being that of any two items' photos
    assert [[p["url"].rsplit("/", 1)[1] for p in edge["node"]["photos"]] for edge in page_b.data["items"]["edges"]] == [
        ["B0.jpg"],
        ["B1.jpg"],
    ]


NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Item { ...All } ... on Project { title } } }"


async def test_nodes_answer_items_like_the_page_in_the_order_of_the_ids(api, org_a, org_b, staff_a, staff_b):
    from fabcom.gql.ids import global_id
    from fabcom.projects.services import create_project

    location = await Location.create(organization=org_a, name="Atelier")
    drill = await Item.create(organization=org_a, title="Perceuse", location=location, visibility="public")
    await Attachment.create(
        organization=org_a,
        item=drill,
        original_name="a.jpg",
        stored_name=f"{drill.id}-a.jpg",
        content_type="image/jpeg",
        size=100,
        sha256="0" * 64,
        position=0,
    )
    screws = await Item.create(organization=org_a, title="Vis en vrac", visibility="public")
    hidden = await Item.create(organization=org_b, title="Secret de B", visibility="private")
    project = await create_project(staff_a, org_a.id, {"title": "Atelier vélo", "visibility": "public"})
    page = await api(ALL_FIELDS + "{ items(first: 10) { edges { node { ...All } } } }")
    by_title = {edge["node"]["title"]: edge["node"] for edge in page.data["items"]["edges"]}

    ids = [
        global_id("Item", screws.id),
        global_id("Item", 999_999),  # unknown
        global_id("Project", project.id),
        global_id("Item", hidden.id),  # another organization's private item
        global_id("Item", drill.id),
        global_id("Item", screws.id),  # twice
    ]
    answer = await api(ALL_FIELDS + NODES, {"ids": ids})

    item = {"__typename": "Item"}
    assert answer.data["nodes"] == [
        item | by_title["Vis en vrac"],
        None,
        {"__typename": "Project", "title": "Atelier vélo"},
        None,
        item | by_title["Perceuse"],
        item | by_title["Vis en vrac"],
    ]


async def test_nodes_read_the_columns_their_selection_asks_for(monkeypatch, api, org_a, staff_a, sql_statements):
    from fabcom.gql import loaders
    from fabcom.gql.ids import global_id

    chair = await Item.create(organization=org_a, title="Chaise", visibility="public")
    asked: list[tuple[str, ...]] = []
    values = loaders.QuerySet.values

    def recorded(self, *names, **kwargs):
        asked.append(names)
        return values(self, *names, **kwargs)

    monkeypatch.setattr(loaders.QuerySet, "values", recorded)
    sql_statements.clear()
    answer = await api(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Item { title organization { slug } } ... on Project { status } } }",
        {"ids": [global_id("Item", chair.id)]},
    )
    assert answer.data["nodes"] == [{"title": "Chaise", "organization": {"slug": org_a.slug}}]
    # the Project fragment's status is not the item's
    assert sorted(asked[-1]) == sorted(["id", "title", "organization_id", "organization__id", "organization__slug"])
    # no photos asked for: no photo query
    assert not any("fabcom_attachment" in sql for sql in sql_statements), sql_statements


async def test_nodes_of_a_hundred_items_cost_what_two_cost(api, org_a, staff_a, sql_statements):
    from fabcom.gql.ids import global_id

    location = await Location.create(organization=org_a, name="Réserve")
    await Item.bulk_create(
        [Item(organization=org_a, title=f"Objet {n}", visibility="public", location=location) for n in range(100)]
    )
    items = await Item.all().order_by("-id")
    await Attachment.bulk_create(
        [
            Attachment(
                organization=org_a,
                item=item,
                original_name="p.jpg",
                stored_name=f"{item.id}.jpg",
                content_type="image/jpeg",
                size=1,
                sha256="0" * 64,
            )
            for item in items
        ]
    )
    ids = [global_id("Item", item.id) for item in items]
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Item { title uri organization { name }
      category { code } location { name } photos { url } } } }"""
    sql_statements.clear()

    two = await api(query, {"ids": ids[:2]})
    statements_for_two = len(sql_statements)
    sql_statements.clear()
    hundred = await api(query, {"ids": ids})

    assert [node["id"] for node in hundred.data["nodes"]] == ids  # newest first, as asked
    assert hundred.data["nodes"][:2] == two.data["nodes"]
    assert all(len(node["photos"]) == 1 and node["location"] == {"name": "Réserve"} for node in hundred.data["nodes"])
    # the rate budget, the items with their to-one relations, the photos
    assert len(sql_statements) == statements_for_two == 3, sql_statements
