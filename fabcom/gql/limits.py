"""Limits checked on the parsed request before any resolver runs (GitHub's rules):
depth, aliases (fragments included), connection windows, the estimated node count and
input list sizes. The same pass computes the request's cost for the rate budget.

Token counts are limited by the parser itself (``parse(max_tokens=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_variable_values,
)

from fabcom.gql.context import PublicError
from fabcom.i18n import N_

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
MAX_PAGE = 100
MAX_NODES = 10_000
MAX_INPUT_LIST = 250
MUTATION_COST = 5
# Introspection may nest deeper (GraphiQL's query reaches 12 levels through ofType),
# but a list field of the introspection types may appear once per path: no
# fields { type { fields { … } } } explosion.
MAX_INTROSPECTION_DEPTH = 20
INTROSPECTION_LISTS = frozenset({"types", "fields", "inputFields", "interfaces", "possibleTypes", "enumValues"})


@dataclass
class Analysis:
    operation: OperationDefinitionNode
    depth: int = 0
    aliases: int = 0
    nodes: int = 0
    requests: int = 0
    mutations: int = 0
    introspection: bool = False
    errors: list[GraphQLError] = field(default_factory=list)

    @property
    def cost(self) -> int:
        """GitHub's formula: one point per 100 connection requests (at least 1), plus mutations."""
        return max(1, round(self.requests / 100)) + MUTATION_COST * self.mutations


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        for operation in operations:
            if operation.name and operation.name.value == operation_name:
                return operation
        raise PublicError(
            N_("Unknown operation named {name}."), "GRAPHQL_VALIDATION_FAILED", name=repr(operation_name[:100])
        )
    if len(operations) == 1:
        return operations[0]
    if not operations:
        raise PublicError(N_("The document holds no operation."), "GRAPHQL_VALIDATION_FAILED")
    raise PublicError(N_("Several operations: give operationName."), "GRAPHQL_VALIDATION_FAILED")


def _value(node: ValueNode, variables: dict[str, Any]) -> Any:
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, IntValueNode):
        try:
            return int(node.value)
        except ValueError:
            return None
    return getattr(node, "value", None)


def _check_lists_literal(node: ValueNode, errors: list[GraphQLError]) -> None:
    if isinstance(node, ListValueNode):
        if len(node.values or ()) > MAX_INPUT_LIST:
            errors.append(_list_error())
        for value in node.values or ():
            _check_lists_literal(value, errors)
    elif isinstance(node, ObjectValueNode):
        for object_field in node.fields or ():
            _check_lists_literal(object_field.value, errors)


def _check_lists_json(value: Any, errors: list[GraphQLError], depth: int = 0) -> None:
    if depth > 20:
        errors.append(PublicError(N_("Variables are nested too deeply."), "INPUT_TOO_DEEP"))
        return
    if isinstance(value, list):
        if len(value) > MAX_INPUT_LIST:
            errors.append(_list_error())
        for item in value:
            _check_lists_json(item, errors, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            _check_lists_json(item, errors, depth + 1)


def _list_error() -> PublicError:
    return PublicError(N_("Input lists hold at most {limit} values."), "INPUT_LIST_TOO_LONG", limit=MAX_INPUT_LIST)


class _Walker:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any], a: Analysis) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.a = a

    def walk(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        depth: int,
        multiplier: int,
        stack: tuple[str, ...],
        introspection_path: frozenset[str] | None,
    ) -> None:
        if selection_set is None or self.a.errors:
            return
        for selection in selection_set.selections or ():
            if isinstance(selection, FieldNode):
                self.field(selection, parent, depth, multiplier, stack, introspection_path)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value) or parent
                self.walk(selection.selection_set, target, depth, multiplier, stack, introspection_path)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in stack:
                    continue  # unknown or cyclic: graphql-core's validation reports it
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                self.walk(fragment.selection_set, target, depth, multiplier, (*stack, name), introspection_path)

    def field(
        self,
        node: FieldNode,
        parent: Any,
        depth: int,
        multiplier: int,
        stack: tuple[str, ...],
        introspection_path: frozenset[str] | None,
    ) -> None:
        a = self.a
        name = node.name.value
        depth += 1
        if node.alias is not None:
            a.aliases += 1
            if a.aliases > MAX_ALIASES:
                if a.aliases == MAX_ALIASES + 1:  # said once, however many aliases follow
                    a.errors.append(
                        PublicError(N_("Queries may use at most {limit} aliases."), "MAX_ALIASES", limit=MAX_ALIASES)
                    )
                return
        for argument in node.arguments or ():
            _check_lists_literal(argument.value, a.errors)
        if name.startswith("__") or introspection_path is not None:
            if name in ("__schema", "__type"):
                a.introspection = True
            if name == "__typename":
                return
            path = introspection_path or frozenset()
            if name in INTROSPECTION_LISTS:
                if name in path:
                    a.errors.append(PublicError(N_("Introspection queries may not recurse."), "MAX_DEPTH"))
                    return
                path = path | {name}
            if depth > MAX_INTROSPECTION_DEPTH:
                a.errors.append(PublicError(N_("Introspection query is too deep."), "MAX_DEPTH"))
                return
            self.walk(node.selection_set, None, depth, multiplier, stack, path)
            return
        if depth > MAX_DEPTH:
            a.errors.append(PublicError(N_("Queries may nest at most {limit} levels."), "MAX_DEPTH", limit=MAX_DEPTH))
            return
        a.depth = max(a.depth, depth)
        field_def = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field_def = parent.fields.get(name)
        if field_def is None:
            return  # unknown field: validation reports it
        named = get_named_type(field_def.type)
        if named.name.endswith("Connection") and "first" in field_def.args:
            arguments = {arg.name.value: _value(arg.value, self.variables) for arg in node.arguments or ()}
            first, last = arguments.get("first"), arguments.get("last")
            if first is None and last is None:
                a.errors.append(
                    PublicError(
                        N_("You must provide `first` or `last` to paginate the `{field}` connection."),
                        "PAGINATION_REQUIRED",
                        field=name,
                    )
                )
                return
            if first is not None and last is not None:
                a.errors.append(
                    PublicError(N_("Passing both `first` and `last` is not supported."), "PAGINATION_INVALID")
                )
                return
            size = first if first is not None else last
            if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_PAGE:
                a.errors.append(
                    PublicError(
                        N_("`first` and `last` on `{field}` must be between 1 and {limit}."),
                        "PAGINATION_INVALID",
                        field=name,
                        limit=MAX_PAGE,
                    )
                )
                return
            a.requests += multiplier
            multiplier *= size
            a.nodes += multiplier
            if a.nodes > MAX_NODES:
                a.errors.append(
                    PublicError(
                        N_("This query could return more than {limit} nodes: ask for smaller pages."),
                        "MAX_NODE_LIMIT",
                        limit=MAX_NODES,
                    )
                )
                return
        self.walk(node.selection_set, named, depth, multiplier, stack, None)


def analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any],
) -> Analysis:
    """Check ``document`` against the limits; ``Analysis.errors`` lists what breaks them."""
    operation = select_operation(document, operation_name)
    a = Analysis(operation=operation)
    _check_lists_json(variables, a.errors)
    if operation.operation == OperationType.MUTATION:
        root = schema.mutation_type
        a.mutations = sum(1 for s in operation.selection_set.selections or () if isinstance(s, FieldNode))
    elif operation.operation == OperationType.QUERY:
        root = schema.query_type
    else:
        raise PublicError(N_("Subscriptions are not supported."), "GRAPHQL_VALIDATION_FAILED")
    if a.errors:
        return a
    # The variables as the query will see them (their defaults, their types): a `first: $n`
    # given "two" is told that "two" is no Int, not that it is out of range.
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    if isinstance(coerced, list):
        a.errors.extend(coerced)
        return a
    _Walker(schema, document, coerced.coerced, a).walk(operation.selection_set, root, 0, 1, (), None)
    return a
