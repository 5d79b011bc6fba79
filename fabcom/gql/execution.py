"""graphql-core's executor, told that a Tortoise row is a plain value.

A Tortoise ``Model`` defines ``__await__`` (``await row`` gives the row back), so
graphql-core took every row a resolver returned — each node of a page, each related
organization, category, location — for an awaitable: one coroutine and one asyncio task
per object, and a ``gather`` per list. Awaiting a row changes nothing, so the executor
now completes rows synchronously; what really needs awaiting (a coroutine, an unfetched
relation's query set) still is."""

from __future__ import annotations

from typing import Any

from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise.models import Model


def is_awaitable(value: Any) -> bool:
    """graphql-core's predicate, except that a Tortoise row is not awaited."""
    return not isinstance(value, Model) and optimized_is_awaitable(value)


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with ``is_awaitable`` above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = is_awaitable  # type: ignore[assignment]  # sub-executors copy it
