"""The schema, assembled in one place (Saleor's habit), and its SDL export."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from fabcom.gql import types
from fabcom.gql.mutations import Mutation
from fabcom.gql.queries import Query

SDL_PATH = Path(__file__).resolve().parent.parent.parent / "graphql" / "schema.graphql"

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[
        types.Organization,
        types.Category,
        types.Item,
        types.StockMovement,
        types.Project,
        types.Task,
        types.Member,
        types.Partnership,
        types.ExchangeRequest,
    ],
    # Factories: a fresh extension per request, the LRU caches are shared at module level.
    extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
)


def sdl() -> str:
    """The schema in SDL, as committed in ``graphql/schema.graphql``."""
    return schema.as_str().rstrip() + "\n"


def export_schema(path: Path = SDL_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sdl(), encoding="utf-8")
    return path
