"""The executable schema: schema.graphql plus resolvers over the generator's objects.

Root fields read the generator lazily; nested connections and `first`-limited lists page the
plain lists held in views (views.py). Abstract types resolve through each view's `__typename`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    build_schema,
    get_named_type,
)

from sandbox.shopify import generate, paging, profile, search, shopifyql
from sandbox.shopify.encoding import parse_gid
from sandbox.shopify.views import View, customer_view, event_view, order_view
from sandbox.world import ShopProfile, World

if TYPE_CHECKING:
    from sandbox.shopify.bulk import BulkOperations

Info = GraphQLResolveInfo["Context"]
SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
ORDER_SEARCH = {
    "updated_at",
    "created_at",
    "processed_at",
    "id",
    "test",
    "financial_status",
    "email",
    "name",
}
CUSTOMER_SEARCH = {"updated_at", "created_at", "id", "email", "state"}
EVENT_SEARCH = {"created_at", "id", "action", "subject_type", "comments"}


@dataclass
class Context:
    """Per-request state the resolvers need; `warnings` feed `extensions.search`."""

    world: World
    shop: ShopProfile
    bulk: BulkOperations
    base_url: str
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.shop.timezone)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def order_values(order: Any) -> dict[str, Callable[[], Any]]:
    return {
        "updated_at": lambda: order.updated_at,
        "created_at": lambda: order.created_at,
        "processed_at": lambda: order.processed_at,
        "id": lambda: order.id,
        "test": lambda: order.test,
        "financial_status": lambda: order.display_financial_status,
        "email": lambda: order.email,
        "name": lambda: order.name,
    }


def iter_orders(ctx: Context, query: str | None, path: str) -> Iterator[Any]:
    """Orders matching a search string, oldest update first, as of the sandbox clock."""
    parsed = _search(ctx, query, ORDER_SEARCH, path)
    lower = parsed.lower_bound("updated_at", ctx.tz)
    for order in generate.iter_orders(ctx.world, ctx.shop, updated_at_min=lower):
        if parsed.matches(order_values(order), ctx.tz):
            yield order


def iter_customers(ctx: Context, query: str | None, path: str) -> Iterator[Any]:
    parsed = _search(ctx, query, CUSTOMER_SEARCH, path)
    lower = parsed.lower_bound("updated_at", ctx.tz)
    for customer in generate.iter_customers(ctx.world, ctx.shop, updated_at_min=lower):
        if parsed.matches(_attributes(customer, CUSTOMER_SEARCH), ctx.tz):
            yield customer


def iter_events(ctx: Context, query: str | None, path: str) -> Iterator[Any]:
    parsed = _search(ctx, query, EVENT_SEARCH, path)
    since = parsed.lower_bound("created_at", ctx.tz)
    for event in generate.iter_deletions(ctx.world, ctx.shop, since=since):
        values = _attributes(event, EVENT_SEARCH - {"comments"})
        values["comments"] = lambda: False
        if parsed.matches(values, ctx.tz):
            yield event


def _attributes(obj: Any, names: set[str]) -> dict[str, Callable[[], Any]]:
    """Search-field accessors reading the same-named attributes of a model object."""
    return {name: partial(getattr, obj, name) for name in names}


def _search(ctx: Context, query: str | None, known: set[str], path: str) -> search.Search:
    parsed = search.parse(query, known)
    if parsed.warnings:
        ctx.warnings.append({"path": [path], "query": query, "warnings": parsed.warnings})
    return parsed


def _sort_key(sort_key: str) -> Callable[[Any], Any]:
    attr = {
        "UPDATED_AT": "updated_at",
        "CREATED_AT": "created_at",
        "PROCESSED_AT": "processed_at",
    }.get(sort_key)
    if attr is None:
        return lambda obj: obj.id
    return lambda obj: (_iso(getattr(obj, attr)), obj.id)


def resolve_orders(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    ctx: Context = info.context
    first, last = args.get("first"), args.get("last")
    paging.page_size(first, last)
    sort_key, reverse = args.get("sortKey", "ID"), bool(args.get("reverse"))
    if sort_key == "UPDATED_AT" and not reverse and last is None and args.get("before") is None:
        return _orders_by_update(ctx, args.get("query"), first or 0, args.get("after"))
    key = _sort_key(sort_key)
    keyed = sorted(
        ((key(o), o.id) for o in iter_orders(ctx, args.get("query"), "orders")), reverse=reverse
    )

    def render(order_id: int) -> View | None:
        order = generate.get_order(ctx.world, ctx.shop, order_id)
        return order_view(order) if order is not None else None

    ids = [order_id for _, order_id in keyed]
    keys = dict(zip(ids, (k for k, _ in keyed), strict=True))
    return paging.connection(
        ids,
        lambda i: keys[i],
        render,
        first=first,
        after=args.get("after"),
        last=last,
        before=args.get("before"),
    )


def _orders_by_update(
    ctx: Context, query: str | None, first: int, after: str | None
) -> dict[str, Any]:
    """The incremental path: stream from the cursor's update time, stop one past the page."""
    start = paging.cursor_key(after)
    bound = datetime.fromisoformat(start[0]) if isinstance(start, tuple) else None
    text = query or ""
    if bound is not None:
        text += f" updated_at:>='{bound.isoformat()}'"
    page: list[tuple[Any, Any]] = []
    for order in iter_orders(ctx, text, "orders"):
        key = (_iso(order.updated_at), order.id)
        if start is not None and key <= start:
            continue
        page.append((list(key), order))
        if len(page) > first:
            break
    has_next = len(page) > first
    return paging.build(page[:first], order_view, has_next, start is not None)


def resolve_customers(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    ctx: Context = info.context
    paging.page_size(args.get("first"), args.get("last"))
    key = _sort_key(args.get("sortKey", "ID"))
    items = sorted(
        iter_customers(ctx, args.get("query"), "customers"),
        key=key,
        reverse=bool(args.get("reverse")),
    )
    return paging.connection(
        items,
        lambda c: _jsonable(key(c)),
        customer_view,
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
    )


def resolve_events(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    ctx: Context = info.context
    paging.page_size(args.get("first"), args.get("last"))
    key = _sort_key(args.get("sortKey", "ID"))
    items = sorted(
        iter_events(ctx, args.get("query"), "events"), key=key, reverse=bool(args.get("reverse"))
    )
    return paging.connection(
        items,
        lambda e: _jsonable(key(e)),
        event_view,
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
    )


def _jsonable(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key


def resolve_node(ctx: Context, node_id: str) -> View | None:
    parsed = parse_gid(node_id)
    if parsed is None:
        raise GraphQLError(f"Invalid global id '{node_id}'")
    type_name, object_id = parsed
    if type_name == "Order":
        order = generate.get_order(ctx.world, ctx.shop, object_id)
        return order_view(order) if order is not None else None
    if type_name == "Refund":  # refund ids are <order id> * 100 + 60 + index (refunds.py)
        order = generate.get_order(ctx.world, ctx.shop, object_id // 100)
        refunds = order_view(order).get("refunds") if order is not None else None
        return next((r for r in refunds or [] if r.get("id") == node_id), None)
    if type_name == "Customer":
        found = next(
            (c for c in generate.iter_customers(ctx.world, ctx.shop) if c.id == object_id), None
        )
        return customer_view(found) if found is not None else None
    if type_name == "BulkOperation":
        return ctx.bulk.view(ctx.shop, object_id, ctx.base_url)
    return None


def _root_node(_: Any, info: Info, id: str) -> View | None:
    return resolve_node(info.context, id)


def _root_nodes(_: Any, info: Info, ids: list[str]) -> list[View | None]:
    if len(ids) > paging.MAX_PAGE:
        raise GraphQLError(f"The ids argument accepts at most {paging.MAX_PAGE} ids.")
    return [resolve_node(info.context, i) for i in ids]


def _root_typed(type_name: str) -> Callable[..., View | None]:
    def resolve(_: Any, info: Info, id: str) -> View | None:
        parsed = parse_gid(id)
        if parsed is None or parsed[0] != type_name:
            raise GraphQLError(f"Invalid id: {id}")
        return resolve_node(info.context, id)

    return resolve


def _bulk_operations(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    ctx: Context = info.context
    paging.page_size(args.get("first"), args.get("last"))
    views = ctx.bulk.views(ctx.shop, ctx.base_url, args.get("query"))
    if args.get("reverse"):
        views.reverse()
    return paging.connection(
        views,
        lambda v: v["id"],
        lambda v: v,
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
    )


def _current_bulk(_: Any, info: Info, type: str = "QUERY") -> View | None:
    ctx: Context = info.context
    if type != "QUERY":
        return None
    views = ctx.bulk.views(ctx.shop, ctx.base_url, None)
    return views[0] if views else None


def _run_bulk(_: Any, info: Info, query: str, groupObjects: bool = False) -> View:
    ctx: Context = info.context
    return ctx.bulk.submit(ctx.shop, query, group_objects=groupObjects, base_url=ctx.base_url)


def _cancel_bulk(_: Any, info: Info, id: str) -> View:
    ctx: Context = info.context
    return ctx.bulk.cancel(ctx.shop, id, ctx.base_url)


def _list_connection(source: Any, info: Info, **args: Any) -> dict[str, Any] | None:
    items = source.get(info.field_name) if isinstance(source, dict) else None
    if items is None:
        return None
    paging.page_size(args.get("first"), args.get("last"))
    items = list(reversed(items)) if args.get("reverse") else items
    return paging.connection(
        items,
        lambda item: item.get("id") or id(item),
        lambda v: v,
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
    )


def _limited_list(source: Any, info: Info, **args: Any) -> Any:
    items = source.get(info.field_name) if isinstance(source, dict) else None
    first = args.get("first")
    return items[:first] if items is not None and first is not None else items


def type_of(value: Any, *_: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None


@cache
def schema() -> GraphQLSchema:
    built = build_schema(SCHEMA_PATH.read_text())
    for type_ in built.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, definition in type_.fields.items():
            named = get_named_type(definition.type)
            inner = (
                definition.type.of_type
                if isinstance(definition.type, GraphQLNonNull)
                else definition.type
            )
            if named.name.endswith("Connection"):
                definition.resolve = _list_connection
            elif isinstance(inner, GraphQLList) and "first" in definition.args:
                definition.resolve = _limited_list
            if type_.name == "QueryRoot":
                definition.resolve = _ROOT.get(name, definition.resolve)
            elif type_.name == "Mutation":
                definition.resolve = _MUTATIONS[name]
    return built


def _shop(_: Any, info: Info) -> View:
    return profile.shop_view(info.context.world, info.context.shop)


def _shopifyql(_: Any, info: Info, query: str) -> View:
    ctx: Context = info.context
    if not shopifyql.has_reports_scope(ctx.world, ctx.shop.shop_id):
        raise shopifyql.access_denied()
    return shopifyql.answer(ctx.world, ctx.shop, query)


_ROOT: dict[str, Callable[..., Any]] = {
    "shop": _shop,
    "orders": resolve_orders,
    "order": _root_typed("Order"),
    "customers": resolve_customers,
    "customer": _root_typed("Customer"),
    "events": resolve_events,
    "node": _root_node,
    "nodes": _root_nodes,
    "bulkOperation": _root_typed("BulkOperation"),
    "bulkOperations": _bulk_operations,
    "currentBulkOperation": _current_bulk,
    "shopifyqlQuery": _shopifyql,
}
_MUTATIONS: dict[str, Callable[..., Any]] = {
    "bulkOperationRunQuery": _run_bulk,
    "bulkOperationCancel": _cancel_bulk,
}
