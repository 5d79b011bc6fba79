"""What a query reads of the rows under a list field, so a page loads only those columns
and relations (PostGraphile's way, in small).

A page of 100 items with every column of the item, its organization, category and
location is ~5,000 values to read, convert and hold; a partner's query usually asks for a
dozen of them. A plain field (``title``, ``organization``) reads its attribute; a Relay
``id`` reads the ``NodeID`` attribute; a resolver field declares what it reads with
``strawberry.field(metadata={"reads": ("stored_name", "organization.slug")})`` (a path per
attribute, through relations). A resolver that declares nothing may read anything: the
page then loads every column and relation, as it would without this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, NamedTuple

from graphql import GraphQLObjectType, get_named_type
from strawberry import relay
from strawberry.types.nodes import SelectedField, Selection


def reads(*attributes: str, row_attribute: str | None = None) -> dict[str, Any]:
    """A resolver field's ``metadata``: the attributes of its row it reads (``"slug"``,
    ``"organization.slug"``), so that a page loads them:
    ``@strawberry.field(description=..., metadata=reads("id", "organization_id"))``.

    ``row_attribute``: where a loader may have put the field's value already (a photo's
    ``url`` on a page's rows). The executor then reads it as a plain field, without calling
    the resolver; a row without that attribute (a model) goes through the resolver."""
    return {"reads": attributes} if row_attribute is None else {"reads": attributes, "row_attribute": row_attribute}


class Reads(NamedTuple):
    """Attributes read of one row: ``None`` for every column (or every relation)."""

    columns: frozenset[str] | None
    relations: dict[str, Reads] | None

    def wants(self, relation: str) -> bool:
        return self.relations is None or relation in self.relations

    def of(self, relation: str) -> Reads:
        return EVERYTHING if self.relations is None else self.relations.get(relation, NOTHING)


EVERYTHING = Reads(None, None)
NOTHING = Reads(frozenset(), {})


def merge(first: Reads, second: Reads) -> Reads:
    columns = None if first.columns is None or second.columns is None else first.columns | second.columns
    if first.relations is None or second.relations is None:
        return Reads(columns, None)
    relations = dict(first.relations)
    for name, reads in second.relations.items():
        relations[name] = merge(relations[name], reads) if name in relations else reads
    return Reads(columns, relations)


def _declared(paths: Iterable[str]) -> Reads:
    """``("id", "organization.slug")`` as reads."""
    reads = NOTHING
    for path in paths:
        head, _, rest = path.partition(".")
        reads = merge(reads, Reads(frozenset(), {head: _declared([rest])}) if rest else Reads(frozenset({head}), {}))
    return reads


def _reads_id(object_type: GraphQLObjectType) -> str | None:
    """The attribute a Relay ``id`` reads, when the type keeps Strawberry's ``resolve_id``."""
    origin = getattr(object_type.extensions.get("strawberry-definition"), "origin", None)
    if not (isinstance(origin, type) and issubclass(origin, relay.Node)):
        return None
    if origin.resolve_id.__func__ is not relay.Node.resolve_id.__func__:  # type: ignore[attr-defined]
        return None
    return origin.resolve_id_attr()


def reads_of(selections: Iterable[Selection], object_type: GraphQLObjectType) -> Reads:
    """What ``selections`` (Strawberry's, fragments included) read of a row of ``object_type``."""
    reads = NOTHING
    for selection in selections:
        if not isinstance(selection, SelectedField):  # a fragment: its type is this one or an interface of it
            reads = merge(reads, reads_of(selection.selections, object_type))
            continue
        if selection.name == "__typename":
            continue
        field = object_type.fields.get(selection.name)
        definition = None if field is None else field.extensions.get("strawberry-definition")
        if definition is None:
            return EVERYTHING
        declared = (definition.metadata or {}).get("reads")
        if declared is not None:
            reads = merge(reads, _declared(declared))
        elif definition.base_resolver is None and not definition.extensions:  # a plain field
            named = get_named_type(field.type)
            if isinstance(named, GraphQLObjectType):
                reads = merge(
                    reads, Reads(frozenset(), {definition.python_name: reads_of(selection.selections, named)})
                )
            else:
                reads = merge(reads, Reads(frozenset({definition.python_name}), {}))
        elif selection.name == "id" and (attribute := _reads_id(object_type)) is not None:
            reads = merge(reads, Reads(frozenset({attribute}), {}))
        else:
            return EVERYTHING
    return reads


def node_reads(selected_fields: list[Selection], node_type: GraphQLObjectType) -> Reads:
    """What a connection field's selection (``info.selected_fields``) reads of its nodes,
    rows of ``node_type``, under ``edges { node { … } }``."""
    reads = NOTHING
    for connection in selected_fields:
        if isinstance(connection, SelectedField):
            for edges in _fields(connection.selections, "edges"):
                for node in _fields(edges.selections, "node"):
                    reads = merge(reads, reads_of(node.selections, node_type))
    return reads


def _fields(selections: Iterable[Selection], name: str) -> list[SelectedField]:
    found: list[SelectedField] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                found.append(selection)
        else:
            found.extend(_fields(selection.selections, name))
    return found


def fragment_reads(selections: Iterable[Selection], object_type: GraphQLObjectType) -> Reads:
    """What the selection of a field answering an interface (``node``, ``nodes``) reads of
    its objects of ``object_type``: its fragments on other types are not theirs."""
    return reads_of(_on_type(selections, object_type), object_type)


def _on_type(selections: Iterable[Selection], object_type: GraphQLObjectType) -> list[Selection]:
    types = {object_type.name, *(interface.name for interface in object_type.interfaces)}
    kept: list[Selection] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            kept.append(selection)
        elif selection.type_condition is None or selection.type_condition in types:
            kept.append(dataclasses.replace(selection, selections=_on_type(selection.selections, object_type)))
    return kept
