"""The derived GraphQL documents (derive.py) are valid Admin API queries that select what their
sources select: the paged orders query every leaf of the bulk file's Order and of
refund_details.graphql's, plus paging only; refund_children.graphql refund_details' children."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    print_ast,
    validate,
    visit,
)

from sandbox.shopify.resolvers import schema
from storeline.platforms.shopify import derive
from storeline.platforms.shopify.documents import QUERIES, bulk_query, document

Path = tuple[str, ...]
MONEY = {("amount",), ("currencyCode",)}
_DETAILS = "query D { nodes(ids: []) { ... on Order { id } } }"


def _leaves(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[Path]:
    """Every leaf as the response keys leading to it (`...on T` for a type condition)."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FragmentSpreadNode):
            yield from _leaves(fragments[selection.name.value].selection_set, fragments)
            continue
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            head = f"...on {condition.name.value}" if condition else "..."
        else:
            assert isinstance(selection, FieldNode)
            head = (selection.alias or selection.name).value
        inner = list(_leaves(selection.selection_set, fragments))
        yield from (((head, *rest) for rest in inner) if inner else [(head,)])


def _paths(document_: DocumentNode, *prefix: str) -> set[Path]:
    """The leaves under `prefix` (response keys from the operation's root)."""
    fragments = {
        d.name.value: d for d in document_.definitions if isinstance(d, FragmentDefinitionNode)
    }
    (operation,) = [d for d in document_.definitions if isinstance(d, OperationDefinitionNode)]
    n = len(prefix)
    return {p[n:] for p in _leaves(operation.selection_set, fragments) if p[:n] == prefix}


@pytest.fixture(scope="module")
def admin() -> GraphQLSchema:
    return schema()


@pytest.mark.parametrize(
    "name",
    [
        "orders_page",
        "refund_children",
        "refund_details",
        "bulk_orders",
        "orders_page.raw",
        "order_agreements",
        "order_agreement_rest",
    ],
)
def test_documents_validate_against_the_admin_schema(admin: GraphQLSchema, name: str) -> None:
    if name == "bulk_orders":
        text = bulk_query("bulk_orders", "updated_at:>='2026-01-01T00:00:00Z'")
    elif name == "orders_page.raw":  # the shell alone (tests/sandbox posts it as it is)
        text = (QUERIES / "orders_page.graphql").read_text()
    else:
        text = document(name)
    assert validate(admin, parse(text)) == []


def test_the_paged_query_selects_the_bulk_and_refund_fields_plus_paging_only() -> None:
    page = _paths(parse(document("orders_page")), "orders", "edges", "node")
    bulk = _paths(parse(bulk_query("bulk_orders", "")), "orders", "edges", "node")
    details = _paths(parse(document("refund_details")), "nodes", "...on Order")
    assert len(bulk) > 200
    assert bulk <= page
    assert details <= page
    children = {
        ("refunds", "refundLineItems", "edges", "node", money, "presentmentMoney", *leaf)
        for money in ("subtotalSet", "totalTaxSet")
        for leaf in MONEY
    } | {
        ("refunds", "refundShippingLines", "edges", "node", money, "presentmentMoney", *leaf)
        for money in ("subtotalAmountSet", "taxAmountSet")
        for leaf in MONEY
    }
    paging = {(c, "pageInfo", "hasNextPage") for c in ("lineItems", "shippingLines")}
    assert page - bulk - details == paging | children
    outer = _paths(parse(document("orders_page")), "orders")
    assert {p for p in outer if p[:2] != ("edges", "node")} == {
        ("pageInfo", "hasNextPage"),
        ("pageInfo", "endCursor"),
        ("edges", "cursor"),
    }


def test_every_connection_in_the_paged_query_is_paged_and_reports_more(
    admin: GraphQLSchema,
) -> None:
    """records.py tells an order cut short by a nested pageInfo.hasNextPage: every connection
    needs `first:` and that field (a connection added to the bulk file without a page size in
    the shell would be refused by Shopify)."""
    seen: dict[str, tuple[set[str], bool]] = {}
    info = TypeInfo(admin)

    class Connections(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            named = get_named_type(info.get_type())
            if named is None or not named.name.endswith("Connection"):
                return
            arguments = {a.name.value for a in node.arguments or ()}
            page_info = _paths(parse(f"{{ {print_ast(node)} }}"), node.name.value, "pageInfo")
            seen[node.name.value] = (arguments, ("hasNextPage",) in page_info)

    visit(parse(document("orders_page")), TypeInfoVisitor(info, Connections()))
    assert set(seen) == {
        "orders",
        "lineItems",
        "shippingLines",
        "refundLineItems",
        "refundShippingLines",
        "orderAdjustments",
    }
    for name, (arguments, reports_more) in seen.items():
        assert "first" in arguments, name
        assert reports_more, name


def test_refund_children_pages_the_fields_refund_details_selects() -> None:
    details = parse(document("refund_details"))
    children = parse(document("refund_children"))
    for connection in ("refundLineItems", "refundShippingLines", "orderAdjustments"):
        want = _paths(details, "nodes", "...on Order", "refunds", connection, "edges", "node")
        got = _paths(children, "node", "...on Refund", connection, "edges", "node")
        assert got == want
        assert len(got) >= 6
    assert "fragment" not in document("refund_children")  # sent written out, like before


def test_documents_are_built_once() -> None:
    assert document("orders_page") is document("orders_page")


def test_merging_unites_selections_and_the_later_arguments_win() -> None:
    shell = "query Q { orders(first: 1) { edges { node { id lines(first: 2) { total } } } } }"
    bulk = '{ orders(query: "x") { edges { node { name lines { count } } } } }'
    details = "query D { nodes(ids: []) { ... on Order { id lines(first: 9) { count } } } }"
    merged = derive.orders_page(shell, bulk, details)
    assert " ".join(merged.split()) == (
        "query Q { orders(first: 1) { edges { node {"
        " name lines(first: 2) { count total } id } } } }"
    )


def test_derivation_refuses_what_it_cannot_keep_meaningful() -> None:
    with pytest.raises(ValueError, match="Missing is not defined"):
        derive.refund_children("query C { node(id: 1) { ...Missing } }", "{ a }")
    clash = "query Q { orders { edges { node { x: id } } } }"
    with pytest.raises(ValueError, match="names both"):
        derive.orders_page(clash, "{ orders { edges { node { x: name } } } }", _DETAILS)
    with pytest.raises(ValueError, match="no field 'orders'"):
        derive.orders_page("query Q { shop { id } }", "{ a }", _DETAILS)
