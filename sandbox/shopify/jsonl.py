"""Bulk query rules and the JSONL shape of their results.

`check` applies Shopify's bulk restrictions (query operation, one top-level connection, no
top-level node/nodes, at most five connections nested at most two deep, edges > node only,
nested connections under a node that selects `id`, no connection inside a list) with its
userError messages. `Projector` renders one root object as JSONL records: the root's selected
fields with lists and objects inline, and one record per node of every nested connection
carrying `__parentId` (the gid of the node that owns the connection), appended last as Shopify
does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
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
    parse,
    validate,
)

MAX_CONNECTIONS = 5
MAX_DEPTH = 2


@dataclass
class Checked:
    root: FieldNode
    root_type: GraphQLNamedType
    fragments: dict[str, FragmentDefinitionNode]


def check(schema: GraphQLSchema, text: str) -> tuple[Checked | None, list[str]]:
    """The parsed bulk query, or Shopify's userError messages for it."""
    if not text.strip():
        return None, ["Invalid bulk query: syntax error, unexpected end of file"]
    try:
        document = parse(text)
    except GraphQLError as exc:
        return None, [f"Invalid bulk query: {exc.message}"]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return None, ["Invalid operation type. Only `query` operations are supported."]
    invalid = validate(schema, document)
    if invalid:
        return None, [f"Invalid bulk query: {invalid[0].message}"]
    fragments = _fragments(document)
    fields = list(_fields(operations[0].selection_set, fragments))
    errors: list[str] = []
    if any(f.name.value in ("node", "nodes") for f in fields):
        errors.append("Bulk queries cannot contain a top level `node` field.")
    query_type = schema.query_type
    assert query_type is not None
    stats = _Stats()
    for f in fields:
        _walk(schema, query_type, f, fragments, stats, depth=0, in_list=False, parent_has_id=True)
    if stats.nodes_selections:
        first = stats.nodes_selections[0]
        errors.append(
            "All connection fields in a bulk query must select their contents using 'edges' > "
            f"'node', e.g: '{first} {{ edges {{ node {{'. Selecting via 'nodes' is not supported. "
            f"Invalid connection fields: '{', '.join(stats.nodes_selections)}'."
        )
    if stats.max_depth > MAX_DEPTH:
        errors.append(
            "Bulk queries cannot contain connections with a nesting depth greater than 2."
        )
    if stats.connections > MAX_CONNECTIONS:
        errors.append("Bulk queries cannot contain more than 5 connections.")
    if stats.without_parent_id:
        errors.append(
            "The parent 'node' field for a nested connection must select the 'id' field without "
            "an alias and must be of 'ID' return type. Connection fields without 'id': "
            f"{', '.join(stats.without_parent_id)}."
        )
    if stats.within_list:
        errors.append(
            "Queries that contain a connection field within a list field are not currently "
            "supported."
        )
    if stats.connections == 0:
        errors.append("Bulk queries must contain at least one connection.")
    if not errors and len(fields) != 1:
        errors.append("Bulk queries must contain exactly one top-level field.")
    if errors:
        return None, errors
    root = fields[0]
    return Checked(root, get_named_type(query_type.fields[root.name.value].type), fragments), []


@dataclass
class _Stats:
    connections: int = 0
    max_depth: int = 0
    within_list: bool = False

    def __post_init__(self) -> None:
        self.nodes_selections: list[str] = []
        self.without_parent_id: list[str] = []


def _walk(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    node: FieldNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    stats: _Stats,
    *,
    depth: int,
    in_list: bool,
    parent_has_id: bool,
) -> None:
    definition = getattr(parent, "fields", {}).get(node.name.value)
    if definition is None or node.selection_set is None:
        return
    named = get_named_type(definition.type)
    if named.name.endswith("Connection"):
        stats.connections += 1
        stats.max_depth = max(stats.max_depth, depth + 1)
        stats.within_list = stats.within_list or in_list
        if depth > 0 and not parent_has_id:
            stats.without_parent_id.append(node.name.value)
        if any(f.name.value == "nodes" for f in _fields(node.selection_set, fragments)):
            stats.nodes_selections.append(node.name.value)
        node_type = get_named_type(named.fields["nodes"].type)
        for selection in connection_node_selections(node, fragments):
            has_id = any(
                f.name.value == "id" and f.alias is None for f in _fields(selection, fragments)
            )
            for child in _fields(selection, fragments):
                _walk(
                    schema,
                    node_type,
                    child,
                    fragments,
                    stats,
                    depth=depth + 1,
                    in_list=False,
                    parent_has_id=has_id,
                )
        return
    inner = (
        definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
    )
    child_in_list = in_list or isinstance(inner, GraphQLList)
    targets = _possible(schema, named)
    for child in _fields(node.selection_set, fragments):
        for target in targets:
            if child.name.value in getattr(target, "fields", {}):
                _walk(
                    schema,
                    target,
                    child,
                    fragments,
                    stats,
                    depth=depth,
                    in_list=child_in_list,
                    parent_has_id=parent_has_id,
                )
                break


def _possible(schema: GraphQLSchema, named: GraphQLNamedType) -> list[GraphQLNamedType]:
    if is_abstract_type(named):
        return [named, *schema.get_possible_types(named)]
    return [named]


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _fields(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """Every field selected, fragments flattened (type conditions ignored)."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            yield from _fields(fragments[selection.name.value].selection_set, fragments)


def connection_node_selections(
    node: FieldNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[SelectionSetNode]:
    """The `edges { node { … } }` selection sets of a connection field."""
    out = []
    for edges in _fields(node.selection_set, fragments):
        if edges.name.value != "edges":
            continue
        for inner in _fields(edges.selection_set, fragments):
            if inner.name.value == "node" and inner.selection_set is not None:
                out.append(inner.selection_set)
    return out


class Projector:
    """Renders views (views.py) as the JSONL records of one bulk query."""

    def __init__(self, schema: GraphQLSchema, checked: Checked) -> None:
        self.schema = schema
        self.checked = checked
        self.node_selections = connection_node_selections(checked.root, checked.fragments)
        node_type = checked.root_type.fields["nodes"].type  # type: ignore[attr-defined]
        self.node_type = get_named_type(node_type)
        # Per-query memos: the same few selections are walked for every one of 100k+ objects.
        self._connection: dict[tuple[str, str], bool] = {}
        self._node_selections: dict[int, list[SelectionSetNode]] = {}
        self._types: dict[str, GraphQLNamedType | None] = {}

    def records(self, view: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(the root record, its descendants' records in document order)."""
        children: list[dict[str, Any]] = []
        root = self._object(view, self.node_selections, children)
        return root, children

    def _object(
        self,
        view: Mapping[str, Any],
        selections: list[SelectionSetNode],
        children: list[dict[str, Any]],
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        type_name = view.get("__typename", "")
        if type_name not in self._types:
            self._types[type_name] = self.schema.get_type(type_name)
        type_ = self._types[type_name]
        for selection_set in selections:
            self._select(view, type_, selection_set, out, children)
        return out

    def _select(
        self,
        view: Mapping[str, Any],
        type_: GraphQLNamedType | None,
        selection_set: SelectionSetNode,
        out: dict[str, Any],
        children: list[dict[str, Any]],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(view, type_, selection, out, children)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.checked.fragments[selection.name.value]
                cond: NamedTypeNode | None = fragment.type_condition
                sub = fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                cond, sub = selection.type_condition, selection.selection_set
            if cond is None or self._applies(type_, cond.name.value):
                self._select(view, type_, sub, out, children)

    def _applies(self, type_: GraphQLNamedType | None, condition: str) -> bool:
        if type_ is None:
            return False
        if type_.name == condition:
            return True
        target = self.schema.get_type(condition)
        return (
            target is not None
            and is_abstract_type(target)
            and isinstance(type_, GraphQLObjectType)
            and self.schema.is_sub_type(target, type_)
        )

    def _is_connection(self, type_: GraphQLNamedType | None, name: str) -> bool:
        key = (type_.name if type_ is not None else "", name)
        found = self._connection.get(key)
        if found is None:
            definition = getattr(type_, "fields", {}).get(name) if type_ is not None else None
            found = definition is not None and get_named_type(definition.type).name.endswith(
                "Connection"
            )
            self._connection[key] = found
        return found

    def _field(
        self,
        view: Mapping[str, Any],
        type_: GraphQLNamedType | None,
        node: FieldNode,
        out: dict[str, Any],
        children: list[dict[str, Any]],
    ) -> None:
        name = node.name.value
        key = node.alias.value if node.alias else name
        if name == "__typename":
            out[key] = view.get("__typename")
            return
        value = view.get(name)
        if self._is_connection(type_, name):
            parent_id = view.get("id")
            selections = self._node_selections.get(id(node))
            if selections is None:
                selections = connection_node_selections(node, self.checked.fragments)
                self._node_selections[id(node)] = selections
            for item in value or []:
                descendants: list[dict[str, Any]] = []
                record = self._object(item, selections, descendants)
                record["__parentId"] = parent_id
                children.append(record)
                children.extend(descendants)
            return
        if node.selection_set is None or value is None:
            out[key] = value
        elif isinstance(value, list):
            out[key] = [self._object(v, [node.selection_set], children) for v in value]
        else:
            out[key] = self._object(value, [node.selection_set], children)
