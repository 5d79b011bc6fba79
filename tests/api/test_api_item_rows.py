"""A page of items is read as plain rows (``fabcom.gql.loaders.item_rows``), a single item
as a Tortoise model: both must answer every field of ``Item`` identically."""

from __future__ import annotations

from decimal import Decimal

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
