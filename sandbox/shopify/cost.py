"""Calculated query cost and the per-shop leaky bucket, as the Admin API enforces them.

Requested cost is static (before execution): scalars and enums 0, objects 1, a connection
2 + first * (its node's cost), a list with `first` (or `ids`) that many items' cost, a mutation
10, an interface or union the dearest of its fragments. A query requesting more than 1000 points is
refused (MAX_COST_EXCEEDED). The bucket takes the requested cost up front and gives back the
difference to the actual cost (counted from the objects really returned), like Shopify.
Source: https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    value_from_ast_untyped,
)
from graphql.language import VariableNode

MAX_QUERY_COST = 1000
MUTATION_COST = 10
BUCKET_SIZE = 2000.0
RESTORE_RATE = 100.0
# Restore rate (points/second) by the shop's plan; the bucket holds 20 seconds of it
# (2,000 on Standard, 20,000 on Plus, as throttleStatus.maximumAvailable reports them).
PLAN_RESTORE_RATES = {"standard": 100.0, "advanced": 200.0, "plus": 1000.0, "enterprise": 2000.0}


def requested_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    root = (
        schema.mutation_type if operation.operation == OperationType.MUTATION else schema.query_type
    )
    assert root is not None
    cost = _selection_cost(schema, root, operation.selection_set, fragments, variables)
    if operation.operation == OperationType.MUTATION:
        cost += MUTATION_COST * len(operation.selection_set.selections)
    return cost


def actual_cost(data: Any, *, mutation: bool = False) -> int:
    """Objects actually returned: 1 each, connections 2 plus their nodes, wrappers free."""
    if not isinstance(data, Mapping):
        return 0
    total = sum(_returned(v) for v in data.values())
    return total + (MUTATION_COST * len(data) if mutation else 0)


def _returned(value: Any) -> int:
    if isinstance(value, list):
        return sum(_returned(v) for v in value)
    if not isinstance(value, Mapping):
        return 0
    if "pageInfo" in value or "edges" in value:
        nodes = [e.get("node") for e in value.get("edges") or [] if isinstance(e, Mapping)]
        nodes += list(value.get("nodes") or [])
        return 2 + sum(_returned(n) for n in nodes)
    return 1 + sum(_returned(v) for v in value.values())


def _selection_cost(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    if selection_set is None:
        return 0
    base = 0
    branches: list[int] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            base += _field_cost(schema, parent, selection, fragments, variables)
        else:
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None:
                    continue
                cond: NamedTypeNode | None = fragment.type_condition
                sub = fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                cond, sub = selection.type_condition, selection.selection_set
            target = schema.get_type(cond.name.value) if cond else parent
            branches.append(_selection_cost(schema, target or parent, sub, fragments, variables))
    return base + (max(branches) if branches else 0)


def _field_cost(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    node: FieldNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    if not isinstance(parent, GraphQLObjectType) and not hasattr(parent, "fields"):
        return 0
    definition = getattr(parent, "fields", {}).get(node.name.value)
    if definition is None:
        return 0
    named = get_named_type(definition.type)
    if is_leaf_type(named):
        return 0
    args = {
        a.name.value: (
            variables.get(a.value.name.value)
            if isinstance(a.value, VariableNode)
            else value_from_ast_untyped(a.value, dict(variables))
        )
        for a in node.arguments or ()
    }
    size = args.get("first") or args.get("last")
    count = int(size) if isinstance(size, int) else None
    ids = args.get("ids")
    if count is None and isinstance(ids, list):  # nodes(ids:): each id is a node
        count = len(ids)
    if named.name.endswith("Connection"):
        node_cost = _connection_node_cost(schema, named, node.selection_set, fragments, variables)
        return 2 + (count or 0) * node_cost
    inner = 1 + _selection_cost(schema, named, node.selection_set, fragments, variables)
    if is_abstract_type(named):
        inner = max(inner, 1)
    of_type = (
        definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
    )
    if isinstance(of_type, GraphQLList) and count is not None:
        return count * inner
    return inner


def _connection_node_cost(
    schema: GraphQLSchema,
    connection: GraphQLNamedType,
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    """Cost of one node of a connection (selected via edges.node or nodes); pageInfo is free."""
    if selection_set is None or not isinstance(connection, GraphQLObjectType):
        return 0
    node_type = get_named_type(connection.fields["nodes"].type)
    best = 0
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        if selection.name.value == "nodes":
            sub = selection.selection_set
        elif selection.name.value == "edges" and selection.selection_set:
            sub = next(
                (
                    s.selection_set
                    for s in selection.selection_set.selections
                    if isinstance(s, FieldNode) and s.name.value == "node"
                ),
                None,
            )
        else:
            continue
        best = max(best, 1 + _selection_cost(schema, node_type, sub, fragments, variables))
    return best


@dataclass
class LeakyBucket:
    """One app+shop bucket: drains by cost, refills continuously at `restore_rate` per second."""

    maximum: float = BUCKET_SIZE
    restore_rate: float = RESTORE_RATE
    clock: Callable[[], float] = time.monotonic
    _available: float = BUCKET_SIZE
    _stamp: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_plan(cls, plan: str) -> LeakyBucket:
        rate = PLAN_RESTORE_RATES[plan]
        return cls(maximum=rate * 20, restore_rate=rate, _available=rate * 20)

    def _refill(self) -> None:
        now = self.clock()
        self._available = min(
            self.maximum, self._available + (now - self._stamp) * self.restore_rate
        )
        self._stamp = now

    def try_take(self, cost: int) -> bool:
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def give_back(self, points: int) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + max(points, 0))

    def drain(self) -> None:
        """Empty the bucket (the `throttle` fault): the next answers show a real recovery."""
        with self._lock:
            self._refill()
            self._available = 0.0

    def status(self) -> dict[str, float | int]:
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": math.floor(self._available),
                "restoreRate": self.restore_rate,
            }
