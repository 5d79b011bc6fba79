"""The scope a root field needs from an API token, declared on the field.

A token that lacks the scope is told so instead of being answered an empty list as if
there were nothing to see (GitHub answers ``INSUFFICIENT_SCOPES`` the same way). The
check looks only at the token, before the resolver reads anything: its answer is the
same whatever the arguments name (an existing organization or a made-up slug), so it
tells nothing about the data. A session (``scopes`` is None: all of the user's rights)
and anonymous callers are never refused here; what they may not see stays answered as
if it did not exist.

- A query field answers a top-level error with ``extensions.code`` ``INSUFFICIENT_SCOPE``
  (and, by GraphQL's rules, null in its place, which reaches ``data`` for a non-null
  root field).
- A mutation answers its payload with the object null and one ``errors`` entry of code
  ``INSUFFICIENT_SCOPE``, as every other refusal of a mutation.

Public data needs no scope, so ``items``, ``projects`` or ``organizations`` declare none:
they keep answering their public part to any token.

``node(id:)`` and ``nodes(ids:)`` ask of an object the scope its root query fields ask
(``node_scopes``): the rule is read from the built schema, so a module's ``Node`` type
gets it from the scope its list declares, with nothing more to write.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, get_named_type
from strawberry.extensions import FieldExtension

from fabcom.errors import ErrorCode, FieldError
from fabcom.gql.context import PublicError
from fabcom.i18n import N_

if TYPE_CHECKING:
    from strawberry.types import Info
    from strawberry.types.field import StrawberryField

INSUFFICIENT_SCOPE = N_("This token lacks the {scope} scope that {field} needs.")


def scope_error(scope: str, field: str) -> FieldError:
    """The refusal in a mutation's payload, translated when shown."""
    return FieldError(ErrorCode.INSUFFICIENT_SCOPE, INSUFFICIENT_SCOPE, None, {"scope": scope, "field": field})


def scope_refusal(scope: str, field: str) -> PublicError:
    """The refusal as a top-level error, translated when answered."""
    return PublicError(INSUFFICIENT_SCOPE, "INSUFFICIENT_SCOPE", scope=scope, field=field)


class RequiresScope(FieldExtension):
    """``extensions=[RequiresScope("members:read")]`` on a field: a token without that
    scope is refused before the resolver runs: with the field's payload when its type has
    ``errors`` (a mutation), else with ``INSUFFICIENT_SCOPE`` raised. The scope is the
    core's or an enabled module's (``Module(scopes=...)``): the schema is not built with
    one a token could not hold (``fabcom.gql.schema``)."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    def _refusal(self, info: Info) -> Any:
        """What the field answers to a token without the scope."""
        ctx = info.context
        error = scope_error(self.scope, info.field_name)
        payload: Any = self.field.type  # the payload class, for a mutation
        fields = getattr(payload, "__strawberry_definition__", None)
        names = [f.python_name for f in fields.fields] if fields is not None else []
        if "errors" not in names:
            raise scope_refusal(self.scope, info.field_name)
        from fabcom.gql.mutations import MutationError  # the mutations import this module

        message = MutationError(field=None, message=error.text(ctx.locale), code=error.code)
        return payload(**{name: None for name in names if name != "errors"}, errors=[message])

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        if not info.context.principal.has_scope(self.scope):
            return self._refusal(info)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        if not info.context.principal.has_scope(self.scope):
            return self._refusal(info)
        return await next_(source, info, **kwargs)


def declared_scopes(field: GraphQLField) -> tuple[str, ...]:
    """The scopes ``field`` declares with ``RequiresScope``."""
    definition = field.extensions.get("strawberry-definition")
    return tuple(e.scope for e in getattr(definition, "extensions", ()) if isinstance(e, RequiresScope))


def unknown_scopes(schema: GraphQLSchema, known: Iterable[str]) -> list[tuple[Any, str, str]]:
    """``(field definition, "Type.field", scope)`` for each scope a field declares that no
    token can hold here (a typo, or a module's scope missing from its manifest): such a
    field would refuse every token, so the schema is not built with it."""
    allowed = set(known)
    found = []
    for type_name, graphql_type in schema.type_map.items():
        for field_name, field in (getattr(graphql_type, "fields", None) or {}).items():
            for scope in declared_scopes(field):
                if scope not in allowed:
                    found.append((field.extensions.get("strawberry-definition"), f"{type_name}.{field_name}", scope))
    return found


_node_scopes: weakref.WeakKeyDictionary[GraphQLSchema, dict[str, tuple[str, ...]]] = weakref.WeakKeyDictionary()


def node_scopes(schema: GraphQLSchema) -> dict[str, tuple[str, ...]]:
    """The scopes ``node(id:)`` asks of each ``Node`` type: those that every root query
    field answering that type (as a list, a connection or one object) declares. A type
    with a public way in (``items``, ``projects``) needs none."""
    cached = _node_scopes.get(schema)
    if cached is not None:
        return cached
    node = schema.get_type("Node")
    found: dict[str, set[str]] = {}
    for field in (schema.query_type.fields if schema.query_type else {}).values():
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType) and "edges" in named.fields:  # a connection: its nodes
            named = get_named_type(get_named_type(named.fields["edges"].type).fields["node"].type)
        if not isinstance(named, GraphQLObjectType) or node not in named.interfaces:
            continue
        scopes = set(declared_scopes(field))
        found[named.name] = found[named.name] & scopes if named.name in found else scopes
    _node_scopes[schema] = {name: tuple(sorted(scopes)) for name, scopes in found.items() if scopes}
    return _node_scopes[schema]


def node_refusal(info: Info, type_name: str) -> PublicError | None:
    """``INSUFFICIENT_SCOPE`` when the token lacks a scope objects of ``type_name`` need
    (``node_scopes``), else None. It depends on the type only, never on the id: an
    object that exists and a made-up one are refused alike."""
    principal = info.context.principal
    for scope in node_scopes(info.schema._schema).get(type_name, ()):
        if not principal.has_scope(scope):
            return scope_refusal(scope, type_name)
    return None
