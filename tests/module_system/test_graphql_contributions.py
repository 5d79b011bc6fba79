"""A module's ``schema.py`` joins the schema; a clash of GraphQL names is refused
with one line naming the module."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from fabcom.gql.schema import build_schema, full_schema, schema
from fabcom.module_system.manifest import Module
from fabcom.module_system.registry import ModuleError, Registry

SCHEMA = """
import strawberry

@strawberry.type(description="A thing.")
class {prefix}Thing:
    name: str = strawberry.field(description="Its name.")

@strawberry.type
class Query:
    @strawberry.field(description="A field.")
    def {field}(self) -> int:
        return 1

@strawberry.type
class ItemFields:
    @strawberry.field(description="An item field.")
    def {item_field}(self) -> int:
        return 2

types = [{prefix}Thing]
query = Query
extends = {{"Item": ItemFields}}
"""


@pytest.fixture
def module_with_schema(tmp_path: Path):
    """A module package on ``sys.path`` whose schema.py adds a type, a query field and an Item field."""
    made: list[str] = []

    def make(slug: str, *, prefix: str = "Extra", field: str = "extraCount", item_field: str = "extraScore") -> Module:
        package = tmp_path / f"gqlmod_{slug}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "schema.py").write_text(
            textwrap.dedent(SCHEMA).format(prefix=prefix, field=field, item_field=item_field)
        )
        made.append(package.name)
        return Module(slug=slug, name=slug, version="1.0", package=package.name)

    sys.path.insert(0, str(tmp_path))
    yield make
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith("gqlmod_")]:
        del sys.modules[name]


def test_a_module_adds_a_type_a_query_field_and_an_item_field(module_with_schema):
    built = build_schema(Registry((module_with_schema("extra"),)))._schema
    assert "ExtraThing" in built.type_map
    assert "extraCount" in built.query_type.fields
    assert "extraScore" in built.type_map["Item"].fields
    # the core's schema is left as it was
    assert "ExtraThing" not in schema._schema.type_map
    assert "extraScore" not in schema._schema.type_map["Item"].fields
    assert "extraScore" not in build_schema(Registry(()))._schema.type_map["Item"].fields


def test_the_exported_schema_has_every_first_party_module():
    built = full_schema()._schema
    assert {"bookings"} <= set(built.query_type.fields)
    assert {"bookingCreate", "bookingCancel"} <= set(built.mutation_type.fields)
    assert {"bookings", "availability"} <= set(built.type_map["Item"].fields)
    assert "bookings" not in schema._schema.type_map["Item"].fields


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"field": "items"}, "module 'clashy': GraphQL name 'Query.items' is already defined by the core"),
        ({"item_field": "title"}, "module 'clashy': GraphQL name 'Item.title' is already defined by the core"),
        ({"prefix": ""}, "module 'clashy': GraphQL name 'Thing' is already defined by module 'extra'"),
        (
            {"field": "extraCount", "prefix": "Clashy"},
            "module 'clashy': GraphQL name 'Query.extraCount' is already defined by module 'extra'",
        ),
    ],
)
def test_a_clash_of_graphql_names_is_refused(module_with_schema, names, message):
    first = module_with_schema("extra", prefix="" if names.get("prefix") == "" else "Extra")
    second = module_with_schema(
        "clashy",
        prefix=names.get("prefix", "Clashy"),
        field=names.get("field", "clashyCount"),
        item_field=names.get("item_field", "clashyScore"),
    )
    with pytest.raises(ModuleError) as refused:
        build_schema(Registry((first, second)))
    assert str(refused.value) == message
