"""A type, a query field (asking the module's own token scope) and a field on ``Item``."""

import strawberry

from fabcom.api import RequiresScope


@strawberry.type(description="A dummy thing.")
class DummyThing:
    name: str = strawberry.field(description="Its name.")


@strawberry.type
class Query:
    @strawberry.field(description="The dummy things.", extensions=[RequiresScope("dummy:read")])
    def dummy_things(self) -> list[DummyThing]:
        return [DummyThing(name="one")]


@strawberry.type
class ItemFields:
    @strawberry.field(description="A dummy score of the item.")
    def dummy_score(self) -> int:
        return 42


types = [DummyThing]
query = Query
extends = {"Item": ItemFields}
