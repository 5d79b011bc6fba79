"""A module's ``schema.py`` joins the schema; a clash of GraphQL names is refused
with one line naming the module."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from fabcom.gql.schema import build_schema, full_schema, schema
from fabcom.gql.scopes import unknown_scopes
from fabcom.module_system.manifest import Module
from fabcom.module_system.registry import ModuleError, Registry
from fabcom.permissions import SCOPES, Scope

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
extends = {{"{core_type}": ItemFields}}
{extra}
"""


@pytest.fixture
def module_with_schema(tmp_path: Path):
    """A module package on ``sys.path`` whose schema.py adds a type, a query field and an Item field."""
    made: list[str] = []

    def make(
        slug: str,
        *,
        prefix: str = "Extra",
        field: str = "extraCount",
        item_field: str = "extraScore",
        core_type: str = "Item",
        extra: str = "",
        **manifest: object,
    ) -> Module:
        package = tmp_path / f"gqlmod_{slug}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "schema.py").write_text(
            textwrap.dedent(SCHEMA).format(
                prefix=prefix, field=field, item_field=item_field, core_type=core_type, extra=textwrap.dedent(extra)
            )
        )
        made.append(package.name)
        return Module(slug=slug, name=slug, version="1.0", package=package.name, **manifest)  # type: ignore[arg-type]

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
        (
            {"prefix": "Extra", "graphql_prefix": "Extra"},
            "module 'clashy': GraphQL name 'ExtraThing' is already defined by module 'extra'",
        ),
        (
            {"field": "extraCount", "prefix": "Clashy"},
            "module 'clashy': GraphQL name 'Query.extraCount' is already defined by module 'extra'",
        ),
    ],
)
def test_a_clash_of_graphql_names_is_refused(module_with_schema, names, message):
    first = module_with_schema("extra")
    second = module_with_schema(
        "clashy",
        prefix=names.get("prefix", "Clashy"),
        field=names.get("field", "clashyCount"),
        item_field=names.get("item_field", "clashyScore"),
        **({"graphql_prefix": names["graphql_prefix"]} if "graphql_prefix" in names else {}),
    )
    with pytest.raises(ModuleError) as refused:
        build_schema(Registry((first, second)))
    assert str(refused.value) == message


INPUT_WITHOUT_PREFIX = """
@strawberry.input(description="An input.")
class Filter:
    name: str = strawberry.field(description="A name.")

@strawberry.type
class Mutation:
    @strawberry.mutation(description="A mutation.")
    def extra_touch(self, where: Filter) -> int:
        return 3

mutation = Mutation
"""


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"prefix": ""}, "module 'extra': GraphQL type 'Thing' must start with 'Extra'"),
        ({"field": "count"}, "module 'extra': GraphQL field 'Query.count' must start with 'extra'"),
        ({"extra": INPUT_WITHOUT_PREFIX}, "module 'extra': GraphQL type 'Filter' must start with 'Extra'"),
        (
            {"core_type": "ItemConnection"},
            "module 'extra': cannot extend 'ItemConnection', not a core GraphQL object type (extensible: see docs/modules.md)",
        ),
        (
            {"core_type": "ItemFilter"},
            "module 'extra': cannot extend 'ItemFilter', not a core GraphQL object type (extensible: see docs/modules.md)",
        ),
        (
            {"core_type": "Node"},
            "module 'extra': cannot extend 'Node', not a core GraphQL object type (extensible: see docs/modules.md)",
        ),
    ],
)
def test_names_without_the_modules_prefix_are_refused(module_with_schema, names, message):
    with pytest.raises(ModuleError) as refused:
        build_schema(Registry((module_with_schema("extra", **names),)))
    assert str(refused.value) == message


def test_a_declared_field_prefix_is_accepted(module_with_schema):
    module = module_with_schema("extra", field="extraOneCount", graphql_field_prefixes=("extraOne",))
    assert "extraOneCount" in build_schema(Registry((module,)))._schema.query_type.fields
    other = module_with_schema("other", prefix="Other", field="thingCount", graphql_field_prefixes=("thing",))
    assert "thingCount" in build_schema(Registry((other,)))._schema.query_type.fields


SCOPED_FIELD = """
from fabcom.api import RequiresScope

@strawberry.type
class Query:
    @strawberry.field(description="A scoped field.", extensions=[RequiresScope("extra:read")])
    def extra_secret(self) -> int:
        return 4

query = Query
"""


def test_a_module_declares_the_scopes_its_fields_ask_in_its_manifest(module_with_schema):
    declared = module_with_schema("extra", extra=SCOPED_FIELD, scopes=(Scope("extra:read", "Read", "Read extras."),))
    assert "extraSecret" in build_schema(Registry((declared,)))._schema.query_type.fields
    undeclared = module_with_schema("other", prefix="Other", extra=SCOPED_FIELD.replace("extra", "other"))
    with pytest.raises(ModuleError) as refused:
        build_schema(Registry((undeclared,)))
    assert str(refused.value) == (
        "module 'other': GraphQL field 'Query.otherSecret' requires the scope 'other:read', which no enabled module "
        "declares (a module declares its own in its manifest: Module(scopes=...))"
    )


def test_every_scope_the_core_asks_is_a_core_scope():
    assert unknown_scopes(schema._schema, SCOPES) == []


@pytest.mark.parametrize("core_type", ["Photo", "Me", "Location", "ItemPayload"])
def test_fields_may_be_added_to_any_core_object_type(module_with_schema, core_type):
    built = build_schema(Registry((module_with_schema("extra", core_type=core_type),)))._schema
    assert "extraScore" in built.type_map[core_type].fields
    assert "extraScore" not in schema._schema.type_map[core_type].fields


def test_the_first_party_modules_follow_the_prefix_rule():
    built = full_schema()._schema
    assert {"bookings", "bookingCreate", "bookingCancel"} <= set(built.query_type.fields) | set(
        built.mutation_type.fields
    )
