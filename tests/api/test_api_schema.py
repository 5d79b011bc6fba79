"""The schema as partners see it: the committed SDL is current, breaking changes are
acknowledged in CHANGELOG.md, and the example operations are valid and run on the demo."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from graphql import BreakingChange, build_schema, find_breaking_changes, parse, validate

from fabcom.auth.models import User
from fabcom.demo import load_demo
from fabcom.gql.schema import full_schema, schema, sdl
from fabcom.gql.scopes import declared_scopes
from fabcom.inventory.models import Item
from fabcom.network.models import ExchangeRequest
from fabcom.permissions import system_principal
from fabcom.projects.models import Project

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "graphql" / "examples").glob("*.graphql"))


def unacknowledged(changes: list[BreakingChange], changelog: str) -> list[str]:
    """Breaking changes whose description does not appear in the changelog."""
    return [c.description for c in changes if c.description not in changelog]


def test_committed_sdl_is_the_exported_schema(project_root):
    committed = (project_root / "graphql" / "schema.graphql").read_text(encoding="utf-8")
    assert committed == sdl(), "graphql/schema.graphql is stale: run `fabcom export-schema`"


def test_export_schema_command_writes_the_sdl(tmp_path):
    target = tmp_path / "schema.graphql"
    done = subprocess.run(
        [sys.executable, "-m", "fabcom", "export-schema", "--output", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {target}\n"
    assert target.read_text(encoding="utf-8") == sdl()


def test_breaking_changes_against_the_last_commit_are_acknowledged(project_root):
    git = shutil.which("git")
    if git is None or not (project_root / ".git").exists():
        pytest.skip("not a git checkout: no previous schema to compare with")
    shown = subprocess.run(
        [git, "show", "HEAD:graphql/schema.graphql"], cwd=project_root, capture_output=True, text=True, check=False
    )
    if shown.returncode != 0:
        pytest.skip("no committed schema yet")
    changes = find_breaking_changes(build_schema(shown.stdout), full_schema()._schema)
    changelog = (project_root / "CHANGELOG.md").read_text(encoding="utf-8")
    assert unacknowledged(changes, changelog) == []


def test_a_removed_field_is_a_breaking_change_until_acknowledged():
    before = build_schema("type Query { items: Int, me: Int }")
    after = build_schema("type Query { me: Int }")
    changes = find_breaking_changes(before, after)
    assert unacknowledged(changes, "## Unreleased\n") == ["Field Query.items was removed."]
    assert unacknowledged(changes, "- BREAKING (GraphQL): Field Query.items was removed.\n") == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid_operations(path):
    errors = validate(full_schema()._schema, parse(path.read_text(encoding="utf-8")))
    assert errors == []


async def test_examples_run_on_the_demo_data(api, db, token_for):
    # given the demo, and a token of the fablab's owner (partner of the ressourcerie)
    await load_demo(seed=2026)
    karim = await User.get(email="karim@fablab-des-pentes.example")
    from fabcom.permissions import load_principal

    token = await token_for(await load_principal(karim.id))
    examples = {p.stem: p.read_text(encoding="utf-8") for p in EXAMPLES}

    # search the network's inventory
    found = (await api(examples["search_inventory"], {"search": "mobilier"}, token=token)).data["items"]
    assert found["totalCount"] > 0
    assert {e["node"]["category"]["code"] for e in found["edges"]} == {"C_15"}  # "Mobilier" is its label

    # page through all items
    seen, after, total = [], None, None
    while True:
        page = (await api(examples["all_items"], {"after": after}, token=token)).data["items"]
        total = page["totalCount"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == total
    visible = await Item.filter(system_principal().visibility_filter("inventory")).count()
    assert 0 < total < visible  # the ressourcerie's private items are not among them

    # follow a project
    project = await Project.get(title="Atelier vélo solidaire")
    from fabcom.gql.ids import global_id

    followed = (await api(examples["follow_project"], {"id": global_id("Project", project.id)}, token=token)).data
    assert followed["project"]["tasks"]["totalCount"] == 4
    assert followed["project"]["leadOrganization"]["slug"] == "fablab-des-pentes"

    # request an item the ressourcerie shares with its partners
    wanted = await Item.filter(
        organization__slug="recyclerie-du-canal", visibility="partners", status="available", quantity__gte=1
    ).order_by("id")
    item = next(i for i in wanted if "give" in i.sharing_modes)
    answer = await api(
        examples["request_item"],
        {
            "itemId": global_id("Item", item.id),
            "requester": "fablab-des-pentes",
            "kind": "RECEIVE",
            "message": "Merci !",
        },
        token=token,
    )
    assert answer.data["exchangeRequestCreate"]["errors"] == []
    assert answer.data["exchangeRequestCreate"]["exchangeRequest"]["status"] == "PENDING"
    assert await ExchangeRequest.filter(item_id=item.id).count() == 1


def test_the_partner_guide_names_every_mutation(project_root):
    guide = (project_root / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in schema._schema.mutation_type.fields if f"`{name}`" not in guide]
    assert missing == []


def test_the_partner_guides_scope_table_names_every_scoped_field_and_its_scopes(project_root):
    """Every field that asks a token for a scope, the modules' included, is in the table of
    docs/api.md, on a row that names its scopes."""
    rows = [
        line
        for line in (project_root / "docs" / "api.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    ]
    built = full_schema()._schema
    missing = []
    for type_name, graphql_type in built.type_map.items():
        for field_name, field in (getattr(graphql_type, "fields", None) or {}).items():
            scopes = declared_scopes(field)
            name = field_name if type_name in ("Query", "Mutation") else f"{type_name}.{field_name}"
            row = next((line.split(" | ")[-1] for line in rows if f"`{name}`" in line.split(" | ")[0]), "")
            if scopes and not all(f"`{scope}`" in row for scope in scopes):
                missing.append((name, scopes))
    assert missing == []


@pytest.mark.parametrize(
    "name",
    ["ErrorCode", "MovementKind", "ItemStatus", "Visibility", "SharingMode", "Unit", "Role", "ExchangeKind",
     "ExchangeStatus", "ExchangeAction", "PartnershipStatus"],
)  # fmt: skip
def test_every_value_whose_meaning_is_not_in_its_name_is_described(name):
    """What a partner asks the schema: which movements add stock, who may take an action."""
    enum = full_schema()._schema.type_map[name]
    assert {value: bool(v.description) for value, v in enum.values.items()} == dict.fromkeys(enum.values, True)
