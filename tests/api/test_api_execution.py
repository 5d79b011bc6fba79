"""The executor's compiled path for plain scalar, Relay ID, object and list fields, with
resolvers among them (``fabcom.gql.execution``), answers exactly what graphql-core's full
path answers: values, nulls, errors and their paths."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

import strawberry
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from fabcom.gql.execution import ExecutionContext, PlainList, PlainObject, PlainScalar, plain_fields
from fabcom.gql.lookahead import reads
from fabcom.gql.schema import schema as fabcom_schema


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Deny(BasePermission):
    message = "Not for you."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


class Later:
    """An awaitable attribute (each ``await`` gives "awaited")."""

    def __await__(self) -> Any:
        async def value() -> str:
            return "awaited"

        return value().__await__()


class OwnerRow:
    def __init__(self, name: Any, fails: bool = False, badge: str | None = None) -> None:
        self.name, self.fails = name, fails
        if badge is not None:  # put there by a loader, as a page's photos carry their url
            self.badge = badge


class LaterOwner:
    """An awaitable relation, as Tortoise's unfetched one (awaited, it gives the row)."""

    def __await__(self) -> Any:
        async def value() -> OwnerRow:
            return OwnerRow("fetched")

        return value().__await__()


NO_OWNER = object()


class Row:
    """A database row the way the types receive one: attributes, no Strawberry object."""

    def __init__(
        self,
        pk: Any,
        name: Any,
        colour: Any = Colour.RED,
        size: Any = 1,
        note: Any = None,
        owner: Any = None,
        backup: Any = None,
        helpers: Any = (),
        others: Any = None,
    ) -> None:
        self.id, self.name, self.colour, self.size, self.note, self.secret = pk, name, colour, size, note, "s"
        self.owner = OwnerRow("owner") if owner is None else None if owner is NO_OWNER else owner
        self.backup = backup
        self.helpers = list(helpers) if isinstance(helpers, tuple) else helpers
        self.others = others


class LaterHelpers:
    """An awaitable list, as Tortoise's unfetched reverse relation."""

    def __await__(self) -> Any:
        async def value() -> list[OwnerRow]:
            return [OwnerRow("late helper")]

        return value().__await__()


@strawberry.type
class Owner:
    name: str

    @strawberry.field
    def shout(self, info: strawberry.Info) -> str:
        """A resolver among plain fields, with the resolve info."""
        return f"{self.name}!".upper() + f" ({info.path.key})"

    @strawberry.field
    async def checked(self) -> str:
        """An async resolver among plain fields; it fails for some."""
        await asyncio.sleep(0)
        if self.fails:  # type: ignore[attr-defined]
            raise ValueError("Check failed.")
        return "ok"

    @strawberry.field(metadata=reads(row_attribute="badge"))
    def badge(self) -> str:
        """Computed here for a row that does not carry it already."""
        return f"#{self.name}"

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, OwnerRow | cls)


@strawberry.type
class Thing(relay.Node):
    id: relay.NodeID[int]
    name: str
    colour: Colour
    size: int
    note: str | None
    owner: Owner
    backup: Owner | None
    helpers: list[Owner]
    others: list[Owner | None] | None
    secret: str = strawberry.field(permission_classes=[Deny])

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, Row | cls)


ROWS = [
    Row(1, "plain"),
    Row(2, "with a note", Colour.BLUE, 2, "a note"),
    Row(3, None),  # null for a non-null field
    Row(4, ["a", "list"]),  # a value String refuses
    Row(5, "big", size=2**40),  # out of Int's range
    Row(6, "bad colour", colour="green"),  # not a value of the enum
    Row(7, Later()),  # an awaitable: awaited, like graphql-core does
    Row(None, "no id"),
    Row(8, "nested", backup=OwnerRow("backup")),
    Row(9, "owner without a name", owner=OwnerRow(None)),  # the error goes up to the thing
    Row(10, "bad backup name", backup=OwnerRow(None)),  # the nullable backup becomes null
    Row(11, "not an owner", owner="someone"),  # refused by the type: an error
    Row(12, "unfetched owner", owner=LaterOwner()),  # awaited
    Row(13, "no owner", owner=NO_OWNER),  # null for a non-null object: an error
    Row(14, "helpers", helpers=(OwnerRow("ann", badge="#ann"), OwnerRow("bob"))),
    Row(15, "a null helper", helpers=(OwnerRow("ann"), None)),  # null in a non-null list: the thing is null
    Row(16, "a helper refused", helpers=(OwnerRow("ann"), "bob")),
    Row(17, "late helpers", helpers=LaterHelpers()),  # awaited
    Row(18, "helpers not a list", helpers=42),
    Row(19, "a failing check", helpers=(OwnerRow("ann"), OwnerRow("cy", fails=True))),  # non-null: up to the thing
    Row(20, "others", others=[OwnerRow("dee"), None, OwnerRow("eve", fails=True)]),  # nullable: nulls there
    Row(21, "a nameless other", others=[OwnerRow(None), OwnerRow("fay")]),
    Row(22, "an unnamed helper", helpers=(OwnerRow(None),)),
    Row(23, ValueError("A broken name.")),  # an exception as a value: raised, as graphql-core does
    Row(24, "a broken owner", owner=ValueError("A broken owner.")),
    Row(25, "two failures", owner=OwnerRow("x", fails=True), helpers=(OwnerRow("y", fails=True),)),
]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return ROWS  # type: ignore[return-value]

    @strawberry.field
    def thing_at(self, index: int) -> Thing | None:
        return ROWS[index]  # type: ignore[return-value]


def _run(query: str, context_class: type, extensions: list[Any] | None = None) -> dict[str, Any]:
    schema = strawberry.Schema(query=Query, execution_context_class=context_class, extensions=extensions or [])
    result = asyncio.run(schema.execute(query))
    return {
        "data": result.data,
        "errors": sorted((e.message, tuple(e.path or ())) for e in result.errors or []),
    }


QUERY = (
    "{ things { id name colour size note short: name ...on Thing { again: name }"
    " owner { name } backup { name } ...on Thing { owner { alias: name } } } }"
)


def test_short_path_answers_like_graphql_core():
    short = _run(QUERY, ExecutionContext)
    full = _run(QUERY, StrawberryGraphQLCoreExecutionContext)
    assert short == full
    assert short["data"]["things"][0] == {
        "id": relay.to_base64("Thing", 1),
        "name": "plain",
        "colour": "RED",
        "size": 1,
        "note": None,
        "short": "plain",
        "again": "plain",
        "owner": {"name": "owner", "alias": "owner"},
        "backup": None,
    }
    assert short["data"]["things"][6]["name"] == "awaited"
    things = short["data"]["things"]
    assert things[8]["backup"] == {"name": "backup"}
    assert things[9] is None  # a non-null owner's error made the thing null
    assert things[10]["backup"] is None
    assert things[11] is None
    assert things[12]["owner"] == {"name": "fetched", "alias": "fetched"}
    assert things[13] is None
    # null name, list name, big size, bad colour, no id, owner's name, backup's name, not an owner, no owner,
    # a broken name, a broken owner
    assert len(short["errors"]) == 11
    assert ("A broken owner.", ("things", 24, "owner")) in short["errors"]
    assert ("Cannot return null for non-nullable field Owner.name.", ("things", 9, "owner", "name")) in short["errors"]


LIST_QUERY = (
    "{ things { __typename name helpers { __typename name shout checked again: name } others { name checked } } }"
)


def test_lists_and_resolvers_among_plain_fields_answer_like_graphql_core():
    compiled = _run(LIST_QUERY, ExecutionContext)
    assert compiled == _run(LIST_QUERY, StrawberryGraphQLCoreExecutionContext)
    things = compiled["data"]["things"]
    ann = {"__typename": "Owner", "name": "ann", "shout": "ANN! (shout)", "checked": "ok", "again": "ann"}
    assert things[14] == {
        "__typename": "Thing",
        "name": "helpers",
        "helpers": [ann, {**ann, "name": "bob", "shout": "BOB! (shout)", "again": "bob"}],
        "others": None,
    }
    assert things[15] is None  # a null in a non-null list: up to the thing
    assert things[16] is None  # an item its type refuses
    assert things[17]["helpers"][0]["name"] == "late helper"  # an awaitable list, awaited
    assert things[18] is None  # not a list
    assert things[19] is None  # an async resolver's error in a non-null item
    assert things[20]["others"] == [{"name": "dee", "checked": "ok"}, None, None]  # nullable items: nulls there
    assert things[21]["others"] == [None, {"name": "fay", "checked": "ok"}]
    assert things[22] is None
    assert ("Check failed.", ("things", 20, "others", 2, "checked")) in compiled["errors"]
    assert ("Check failed.", ("things", 19, "helpers", 1, "checked")) in compiled["errors"]


def test_racing_async_errors_are_reported_as_graphql_core_reports_them():
    """Two non-null async failures under one nullable object: which one is reported
    depends on when each resolver starts; a lone awaitable is awaited at once, as
    graphql-core does, not in a task of its own."""
    query = "{ thingAt(index: 25) { helpers { checked } owner { checked } } }"
    assert _run(query, ExecutionContext) == _run(query, StrawberryGraphQLCoreExecutionContext)


def test_plain_fields_skip_graphql_cores_field_execution(monkeypatch):
    """The compiled path is taken: graphql-core executes only the fields with a resolver."""
    executed: list[str] = []
    execute_field = StrawberryGraphQLCoreExecutionContext.execute_field

    def counted(self: Any, parent_type: Any, source: Any, field_details_list: Any, *args: Any) -> Any:
        executed.append(field_details_list[0].node.name.value)
        return execute_field(self, parent_type, source, field_details_list, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", counted)
    answer = _run("{ thingAt(index: 14) { name owner { name shout } helpers { name } } }", ExecutionContext)
    assert answer["data"]["thingAt"]["helpers"] == [{"name": "ann"}, {"name": "bob"}]
    assert executed == ["thingAt", "shout"]


def test_a_row_attribute_is_read_and_the_resolver_runs_for_rows_without_it(monkeypatch):
    """``reads(row_attribute=...)``: a row carrying the value is answered without the
    resolver; a row without it gets the resolver, so the answer is graphql-core's."""
    query = "{ thingAt(index: 14) { helpers { badge } } }"
    assert _run(query, ExecutionContext) == _run(query, StrawberryGraphQLCoreExecutionContext)
    executed: list[str] = []
    execute_field = StrawberryGraphQLCoreExecutionContext.execute_field

    def counted(self: Any, parent_type: Any, source: Any, field_details_list: Any, *args: Any) -> Any:
        executed.append(f"{field_details_list[0].node.name.value} of {getattr(source, 'name', None)}")
        return execute_field(self, parent_type, source, field_details_list, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", counted)
    answer = _run(query, ExecutionContext)
    assert answer["data"]["thingAt"]["helpers"] == [{"badge": "#ann"}, {"badge": "#bob"}]
    assert executed == ["thingAt of None", "badge of bob"]


def test_fields_with_a_permission_still_run_it():
    answer = _run("{ things { name secret } }", ExecutionContext)
    assert {message for message, _ in answer["errors"]} >= {"Not for you."}
    assert all(thing is None or thing["secret"] is None for thing in answer["data"]["things"])


def test_a_resolve_hook_sees_every_field():
    def fields_seen(context_class: type) -> list[str]:
        seen: list[str] = []

        class Watch(SchemaExtension):
            def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
                seen.append(info.field_name)
                return _next(root, info, *args, **kwargs)

        _run("{ things { name size } }", context_class, [Watch])
        return seen

    seen = fields_seen(ExecutionContext)
    assert seen == fields_seen(StrawberryGraphQLCoreExecutionContext)
    assert seen.count("name") == len(ROWS)


def test_the_items_page_fields_take_the_short_path():
    """Names Strawberry's internals: a Strawberry upgrade that renames them shows here
    (the API would still answer, only slower)."""
    plain = plain_fields(fabcom_schema._schema)
    for field in [("Item", "id"), ("Item", "title"), ("Item", "unit"), ("ItemEdge", "cursor"), ("Category", "code")]:
        assert type(plain.get(field)) is PlainScalar, field
    for field in [("ItemEdge", "node"), ("Item", "organization"), ("Item", "category"), ("Item", "location")]:
        assert type(plain.get(field)) is PlainObject, field
    for field in [("ItemConnection", "edges"), ("Item", "photos")]:
        assert type(plain.get(field)) is PlainList, field
    assert type(plain.get(("Photo", "url"))) is PlainScalar  # a page's photos carry it (row_attribute)
    for field in [("Item", "uri"), ("Category", "label")]:  # resolvers
        assert field not in plain, field
