"""Documents built from others, so each field list is written once and two paths cannot drift.

The paged orders query is the bulk file's Order selection plus refund_details.graphql's refund
children, merged into the paging shell `orders_page.graphql`; `refund_children.graphql` spreads
the fragments refund_details.graphql defines. Both are sent fragment-free, with the fields of
the hand-written documents they replaced (the paged query's refund children now also report
pageInfo.endCursor, a free scalar nothing reads). Merging follows GraphQL's own rule (fields
with one response key are one field, their selections united); where both sides give arguments
or directives, the later source wins, so the shell decides page sizes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

Fragments = Mapping[str, FragmentDefinitionNode]


def orders_page(shell: str, bulk: str, details: str) -> str:
    """`shell` with its Order node holding every field of `bulk`'s Order and `details`' Order."""
    shell_doc, details_doc = parse(shell), parse(details)
    order = _field_at(_operation(parse(bulk)).selection_set, "orders", "edges", "node")
    refunded = _on_type(_field_at(_operation(details_doc).selection_set, "nodes"), "Order")
    target = _field_at(_operation(shell_doc).selection_set, "orders", "edges", "node")
    sources = [order.selection_set, refunded, target.selection_set]
    pieces = [_inline(s, _fragments(details_doc)).selections for s in sources if s is not None]
    node = replace(target, selection_set=SelectionSetNode(selections=_merged(_chain(pieces))))
    return print_ast(visit(shell_doc, _Replace(target, node)))


def refund_children(children: str, details: str) -> str:
    """`children` with the fragments it spreads, defined in `details`, written out in place
    (also order_agreement_rest.graphql with order_agreements.graphql's)."""
    operation = _operation(parse(children))
    selections = _inline(operation.selection_set, _fragments(parse(details)))
    return print_ast(replace(operation, selection_set=selections))


def _operation(document: DocumentNode) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise ValueError(f"expected one operation, found {len(operations)}")
    return operations[0]


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _field_at(selection_set: SelectionSetNode | None, *path: str) -> FieldNode:
    """The field reached by following response keys from `selection_set`."""
    found: FieldNode | None = None
    for key in path:
        found = next((f for f in _fields(selection_set) if _key(f) == key), None)
        if found is None:
            raise ValueError(f"no field {key!r} on the way to {'.'.join(path)}")
        selection_set = found.selection_set
    assert found is not None
    return found


def _on_type(field: FieldNode, type_name: str) -> SelectionSetNode:
    for selection in field.selection_set.selections if field.selection_set else ():
        if not isinstance(selection, InlineFragmentNode) or selection.type_condition is None:
            continue
        if selection.type_condition.name.value == type_name:
            return selection.selection_set
    raise ValueError(f"{_key(field)} has no `... on {type_name}`")


def _fields(selection_set: SelectionSetNode | None) -> Iterable[FieldNode]:
    selections = selection_set.selections if selection_set else ()
    return (s for s in selections if isinstance(s, FieldNode))


def _key(field: FieldNode) -> str:
    return (field.alias or field.name).value


def _chain(pieces: Iterable[Iterable[SelectionNode]]) -> list[SelectionNode]:
    return [s for piece in pieces for s in piece]


def _inline(selection_set: SelectionSetNode, fragments: Fragments) -> SelectionSetNode:
    """Every named fragment spread replaced by the fragment's selections. The connector spreads a
    fragment only where its type condition is the field's own type, so splicing keeps the
    meaning (the tests validate the results against the Admin schema)."""
    out: list[SelectionNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None:
                raise ValueError(f"fragment {selection.name.value} is not defined")
            out.extend(_inline(fragment.selection_set, fragments).selections)
        elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
            inner = _inline(selection.selection_set, fragments)
            out.append(replace(selection, selection_set=inner))
        else:
            out.append(selection)
    return SelectionSetNode(selections=_merged(out))


def _merged(selections: Iterable[SelectionNode]) -> tuple[SelectionNode, ...]:
    """One field per response key, in order of first appearance (other selections as they are)."""
    fields: dict[str, FieldNode] = {}
    order: list[SelectionNode | str] = []
    for selection in selections:
        if not isinstance(selection, FieldNode):
            order.append(selection)
        elif (key := _key(selection)) in fields:
            fields[key] = _merge_field(fields[key], selection)
        else:
            fields[key] = selection
            order.append(key)
    return tuple(fields[item] if isinstance(item, str) else item for item in order)


def _merge_field(first: FieldNode, later: FieldNode) -> FieldNode:
    if first.name.value != later.name.value:
        raise ValueError(f"{_key(first)} names both {first.name.value} and {later.name.value}")
    selection_set = first.selection_set or later.selection_set
    if first.selection_set and later.selection_set:
        both = [*first.selection_set.selections, *later.selection_set.selections]
        selection_set = SelectionSetNode(selections=_merged(both))
    return replace(
        first,
        arguments=later.arguments or first.arguments,
        directives=later.directives or first.directives,
        selection_set=selection_set,
    )


class _Replace(Visitor):
    """Swaps one node (by identity) for another while `visit` copies the path above it."""

    def __init__(self, old: FieldNode, new: FieldNode) -> None:
        super().__init__()
        self.old, self.new = old, new

    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        return self.new if node is self.old else None
