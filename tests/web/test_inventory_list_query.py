"""The inventory list's hand-written statement (``fabcom.web.item_list``) against the list's
rules stated in Python: every filter, alone and together, in every order, paged forwards
and back by keyset, on SQLite and PostgreSQL. What staff see must be what they asked for,
whichever way the SQL is written."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

import pytest

from fabcom.inventory.models import Category, Item
from fabcom.inventory.services import create_item, create_location, delete_item, record_movement
from fabcom.web import inventory as inventory_views

# (title, category, quantity, status, visibility, sharing modes, stored in the location);
# C_15, C_16 and C_17 are sub-categories of furniture-decoration, C_10 of books-media.
STOCK = [
    ("chaise en bois", "C_15", "3", "available", "private", [], True),
    ("chaise pliante", "furniture-decoration", "0", "available", "partners", ["lend"], False),
    ("table basse", "C_16", "10", "available", "public", ["give"], True),
    ("lampe de bureau", "electronics", "9", "reserved", "private", [], False),
    ("roman policier", "C_10", "2.5", "available", "partners", ["lend", "sell"], True),
    ("vieux livre", "books-media", "100", "unavailable", "private", [], False),
    ("perceuse", None, "1", "available", "private", ["lend"], True),
    ("étagère", "C_15", "1", "archived", "private", [], False),
    ("chaise cassée", "C_17", "0", "reserved", "public", [], False),
    ("disque", "books-media", "10", "available", "private", [], False),
]
SORT_KEYS = {"title": "title", "-updated": "updated_at", "-created": "created_at", "quantity": "quantity"}
SORT_KEYS["-quantity"] = "quantity"


@pytest.fixture
async def stock(staff_a, org_a, staff_b, org_b) -> dict[str, Any]:
    shelf = await create_location(staff_a, org_a.id, {"name": "Étagère A"})
    for title, category, quantity, status, visibility, sharing, on_shelf in STOCK:
        await create_item(
            staff_a,
            org_a.id,
            {
                "title": title,
                "category_code": category,
                "initial_quantity": quantity,
                "unit": "kg" if "." in quantity else "piece",
                "status": status,
                "visibility": visibility,
                "sharing_modes": sharing,
                "location_id": shelf.id if on_shelf else None,
            },
        )
    gone = await create_item(staff_a, org_a.id, {"title": "chaise jetée", "initial_quantity": "1"})
    await delete_item(staff_a, gone.id)  # removed: never listed
    await create_item(staff_b, org_b.id, {"title": "chaise de B", "initial_quantity": "4"})  # another's
    sold = await Item.get(title="chaise en bois")
    await record_movement(staff_a, sold.id, {"kind": "sale", "quantity": "1"})  # moves its updated_at
    return {"shelf": shelf.id}


async def expected(org_id: int, params: dict[str, str]) -> list[int]:
    """The list's rules, in Python, over every item of the database."""
    furniture = {c.id for c in await Category.filter(code="furniture-decoration")} | {
        c.id for c in await Category.filter(parent__code="furniture-decoration")
    }
    rows = []
    for item in await Item.filter(organization_id=org_id, deleted_at__isnull=True):
        status, quantity = item.status, Decimal(item.quantity)
        wanted = params.get("status", "")
        if wanted == "out_of_stock":
            ok = status == "available" and quantity <= 0
        elif wanted == "available":
            ok = status == "available" and quantity > 0
        elif wanted in ("reserved", "unavailable", "archived"):
            ok = status == wanted
        else:
            ok = status != "archived"
        if params.get("q") == "chaise":
            ok = ok and "chaise" in item.title
        if params.get("category") == "furniture-decoration":
            ok = ok and item.category_id in furniture  # type: ignore[attr-defined]
        if params.get("location"):
            ok = ok and item.location_id == int(params["location"])  # type: ignore[attr-defined]
        if params.get("visibility"):
            ok = ok and item.visibility == params["visibility"]
        if params.get("sharing"):
            ok = ok and params["sharing"] in item.sharing_modes
        if ok:
            rows.append(item)
    sort = params.get("sort", "-updated")
    key = SORT_KEYS[sort]
    rows.sort(key=lambda i: (Decimal(i.quantity) if key == "quantity" else getattr(i, key), i.id))
    if sort.startswith("-"):
        rows.reverse()
    return [item.id for item in rows]


def listed_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'/items/(\d+)">', page)]


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="\?([^"]+)"[^>]*rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


FILTER_CASES = [
    {},
    {"q": "chaise"},
    {"category": "furniture-decoration"},
    {"status": "available"},
    {"status": "out_of_stock"},
    {"status": "reserved"},
    {"status": "archived"},
    {"status": "not-a-status"},  # unknown: as if none was chosen (archived items stay out)
    {"location": "shelf"},
    {"visibility": "partners"},
    {"sharing": "lend"},
    {"q": "chaise", "category": "furniture-decoration", "visibility": "public"},
    {"category": "furniture-decoration", "status": "available", "location": "shelf"},
]


@pytest.mark.parametrize("sort", list(SORT_KEYS))
async def test_every_filter_in_every_order_lists_what_the_rules_say(
    make_client, staff_a, org_a, stock, sort, monkeypatch
):
    monkeypatch.setattr(inventory_views, "PAGE_SIZE", 3)  # several pages even for a few rows
    client = await make_client(staff_a)
    for case in FILTER_CASES:
        params = {**case, "sort": sort}
        if params.get("location") == "shelf":
            params["location"] = str(stock["shelf"])
        want = await expected(org_a.id, params)
        query: str | None = "&".join(f"{k}={v}" for k, v in params.items())
        seen: list[int] = []
        pages = []
        while query is not None and len(pages) < 10:
            page = (await client.htmx_get(f"/o/{org_a.slug}/items?{query}")).text
            pages.append(page)
            seen += listed_ids(page)
            query = link(page, "next")
        assert seen == want, (params, seen, want)
        full = (await client.get(f"/o/{org_a.slug}/items?" + "&".join(f"{k}={v}" for k, v in params.items()))).text
        assert f"Résultats : {len(want)}" in full, params  # and the full page counts them
        if len(pages) > 1:  # and back from the last page, to the first, by the « Précédent » links
            back: list[int] = []
            query = link(pages[-1], "prev")
            while query is not None:
                page = (await client.htmx_get(f"/o/{org_a.slug}/items?{query}")).text
                back = listed_ids(page) + back
                query = link(page, "prev")
            assert back + listed_ids(pages[-1]) == want, params


async def test_quantities_are_ordered_as_numbers_on_both_databases(make_client, staff_a, org_a):
    """SQLite keeps decimals as text, where "10" comes before "9": the list compares them
    as numbers."""
    for quantity in ("9", "10", "2.5", "100"):
        await create_item(
            staff_a, org_a.id, {"title": f"lot de {quantity}", "initial_quantity": quantity, "unit": "kg"}
        )
    client = await make_client(staff_a)
    page = (await client.htmx_get(f"/o/{org_a.slug}/items?sort=quantity")).text
    assert re.findall(r">lot de ([\d.]+)</a>", page) == ["2.5", "9", "10", "100"]
    page = (await client.htmx_get(f"/o/{org_a.slug}/items?sort=-quantity")).text
    assert re.findall(r">lot de ([\d.]+)</a>", page) == ["100", "10", "9", "2.5"]


async def test_the_labels_and_exports_follow_the_list_filters(make_client, staff_a, org_a, stock):
    """The label sheet and the exports read the same list as the page: the chairs of the
    furniture category, the one with no stock left out of the labels."""
    client = await make_client(staff_a)
    csv = (await client.get(f"/o/{org_a.slug}/items/export.csv?q=chaise&category=furniture-decoration&sort=title")).text
    titles = [line.split(";")[1] for line in csv.strip().splitlines()[1:]]
    assert titles == ["chaise cassée", "chaise en bois", "chaise pliante"]
    sheet = (await client.get(f"/o/{org_a.slug}/items/labels?q=chaise&category=furniture-decoration&sort=title")).text
    assert re.findall(r"<strong>([^<]+)</strong>", sheet) == ["chaise en bois"]
    assert "2 objets sans stock ou archivés ne sont pas imprimés." in sheet
