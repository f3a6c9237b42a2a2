"""Calculated query cost, after Shopify's published rules (an approximation, documented here).

https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
- scalars and enums cost 0; an object (or interface/union) field costs 1 plus its selection;
- a connection costs 2 plus ``first`` (or ``last``) times (1 + the node's selection), whether
  the node is selected through ``edges { node }`` or ``nodes``; ``pageInfo`` is free;
- a plain list of objects with a ``first`` argument counts ``first`` objects, otherwise one;
- each mutation root field costs 10, whatever it selects, except ``metafieldsSet``, which
  since 2026-09-15 costs 10 plus a weight per distinct owner (Order 10, Product 4, variant 2,
  Collection, Customer and Shop 1, others 0; shopify.dev/changelog/dynamic-complexity-cost-
  for-metafieldsset-mutation);
- fields left out by ``@skip``/``@include`` cost nothing (they are not run);
- fragments on different types of an interface or union count the dearest one.
The requested cost uses the page sizes asked for; the actual cost uses what was returned, so
Shopify's refund of the difference can be mirrored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    value_from_ast_untyped,
)

from integrator.sandbox.shopify.resolvers import is_connection

MUTATION_COST = 10
CONNECTION_OVERHEAD = 2
# metafieldsSet's weight per distinct owner, by the owner's type
OWNER_WEIGHTS = {
    "Order": 10,
    "Product": 4,
    "ProductVariant": 2,
    "Collection": 1,
    "Customer": 1,
    "Shop": 1,
}
UNKNOWN = object()  # no response data: price the request, not the answer


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    data: Any = UNKNOWN,
) -> int:
    """Return the requested cost, or the actual cost of ``data`` when it is given."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    variables = _with_defaults(operation, variables or {})
    if operation.operation == OperationType.MUTATION:
        fields = _fields(operation.selection_set, _fragments(document), variables)
        return sum(_mutation_cost(field, dict(variables or {})) for field in fields)
    walker = _CostWalker(schema, _fragments(document), dict(variables or {}))
    root = schema.query_type
    assert root is not None
    return round(walker.selection(operation.selection_set, root, data))


def _with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The variables as the operation runs with them: declared defaults fill what is missing
    (a page size given as ``$lines: Int = 5`` is priced at 5)."""
    given = dict(variables)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in given and definition.default_value is not None:
            given[name] = value_from_ast_untyped(definition.default_value)
    return given


def _mutation_cost(node: FieldNode, variables: dict[str, Any]) -> int:
    if node.name.value != "metafieldsSet":
        return MUTATION_COST
    arguments = {
        arg.name.value: value_from_ast_untyped(arg.value, variables) for arg in node.arguments or ()
    }
    metafields = arguments.get("metafields")
    owners = {
        str(entry.get("ownerId") or "")
        for entry in (metafields if isinstance(metafields, list) else [])
        if isinstance(entry, Mapping)
    }
    return MUTATION_COST + sum(OWNER_WEIGHTS.get(_gid_type(owner), 0) for owner in owners)


def _gid_type(gid: str) -> str:
    parts = gid.split("/")
    return parts[3] if len(parts) > 4 and gid.startswith("gid://") else ""


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((op for op in operations if op.name and op.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _fields(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> list[FieldNode]:
    found: list[FieldNode] = []
    for selection in selection_set.selections:
        if not is_included(selection, variables or {}):
            continue
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found.extend(_fields(selection.selection_set, fragments, variables))
        elif isinstance(selection, FragmentSpreadNode):
            found.extend(
                _fields(fragments[selection.name.value].selection_set, fragments, variables)
            )
    return found


def is_included(selection: Any, variables: Mapping[str, Any]) -> bool:
    """False when ``@skip(if: true)`` or ``@include(if: false)`` leaves the selection out."""
    for directive in getattr(selection, "directives", None) or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        condition = next(
            (
                value_from_ast_untyped(arg.value, dict(variables))
                for arg in directive.arguments or ()
                if arg.name.value == "if"
            ),
            None,
        )
        if bool(condition) == (name == "skip"):
            return False
    return True


class _CostWalker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection(self, selection_set: SelectionSetNode | None, parent: Any, data: Any) -> float:
        """Cost of a selection: shared fields plus the dearest type-conditioned group."""
        if selection_set is None or data is None:
            return 0.0
        shared = 0.0
        by_condition: dict[str, float] = {}
        for selection in selection_set.selections:
            if not is_included(selection, self.variables):
                continue
            if isinstance(selection, FieldNode):
                shared += self.field(selection, parent, data)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment: InlineFragmentNode | FragmentDefinitionNode = self.fragments[
                    selection.name.value
                ]
            elif isinstance(selection, InlineFragmentNode):
                fragment = selection
            else:
                continue
            condition = fragment.type_condition.name.value if fragment.type_condition else ""
            target = self._condition_type(parent, condition)
            cost = self.selection(fragment.selection_set, target, data)
            if condition:
                by_condition[condition] = by_condition.get(condition, 0.0) + cost
            else:
                shared += cost
        return shared + max(by_condition.values(), default=0.0)

    def _condition_type(self, parent: Any, condition: str) -> Any:
        return self.schema.get_type(condition) or parent if condition else parent

    def field(self, node: FieldNode, parent: Any, data: Any) -> float:
        fields = getattr(parent, "fields", None)
        if node.name.value.startswith("__") or not fields or node.name.value not in fields:
            return 0.0
        field_type = fields[node.name.value].type
        if is_leaf_type(get_named_type(field_type)):
            return 0.0
        key = node.alias.value if node.alias else node.name.value
        value = data.get(key) if isinstance(data, Mapping) else UNKNOWN
        arguments = self._arguments(node)
        if is_connection(field_type):
            return self._connection(node, get_named_type(field_type), arguments, value)
        if isinstance(get_nullable_type(field_type), GraphQLList):
            return self._list(node, get_named_type(field_type), arguments, value)
        if value is None:
            return 0.0
        return 1.0 + self.selection(node.selection_set, get_named_type(field_type), value)

    def _arguments(self, node: FieldNode) -> dict[str, Any]:
        return {
            arg.name.value: value_from_ast_untyped(arg.value, self.variables)
            for arg in node.arguments or ()
        }

    def _connection(
        self, node: FieldNode, connection: Any, arguments: Mapping[str, Any], value: Any
    ) -> float:
        if value is None:
            return 0.0
        node_type = get_named_type(connection.fields["nodes"].type)
        per_node = []
        inner_fields = (
            _fields(node.selection_set, self.fragments, self.variables)
            if node.selection_set
            else []
        )
        for inner in inner_fields:
            inner_key = inner.alias.value if inner.alias else inner.name.value
            inner_value = value.get(inner_key) if isinstance(value, Mapping) else UNKNOWN
            if inner.name.value == "nodes":
                per_node.append(self._items(inner.selection_set, node_type, inner_value, arguments))
            elif inner.name.value == "edges":
                per_node.append(self._edges(inner, node_type, inner_value, arguments))
        return CONNECTION_OVERHEAD + max(per_node, default=0.0)

    def _edges(
        self, edges: FieldNode, node_type: Any, value: Any, arguments: Mapping[str, Any]
    ) -> float:
        node_fields = (
            [
                f
                for f in _fields(edges.selection_set, self.fragments, self.variables)
                if f.name.value == "node"
            ]
            if edges.selection_set
            else []
        )
        if not node_fields:
            return 0.0
        node = node_fields[0]
        key = node.alias.value if node.alias else node.name.value
        items = (
            value
            if value is UNKNOWN
            else [e.get(key) if isinstance(e, Mapping) else None for e in value or []]
        )
        return self._items(node.selection_set, node_type, items, arguments)

    def _items(
        self,
        selection_set: SelectionSetNode | None,
        node_type: Any,
        items: Any,
        arguments: Mapping[str, Any],
    ) -> float:
        if items is UNKNOWN:
            ids = arguments.get("ids")
            size = (
                arguments.get("first")
                or arguments.get("last")
                or (len(ids) if isinstance(ids, list) else 1)
            )
            return float(size) * (1.0 + self.selection(selection_set, node_type, UNKNOWN))
        return sum(
            1.0 + self.selection(selection_set, node_type, item)
            for item in items or []
            if item is not None
        )

    def _list(
        self, node: FieldNode, item_type: Any, arguments: Mapping[str, Any], value: Any
    ) -> float:
        if value is None:
            return 0.0
        return self._items(node.selection_set, item_type, value, arguments)
