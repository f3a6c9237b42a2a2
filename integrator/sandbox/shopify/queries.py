"""Root ``QueryRoot`` fields, answered from one shop's records.

Besides the named resolvers, two generic rules cover most of the schema: a root field with an
``id`` argument looks the record up by GID (``order``, ``product``, ``fulfillmentOrder``,
``location``…), and a root connection lists every record of its node type, filtered by
``query`` and ordered by ``sortKey`` (``orders``, ``products``, ``locations``…).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLObjectType, get_named_type

from integrator.sandbox.shopify import search
from integrator.sandbox.shopify.records import GID_PREFIX, Record, type_of
from integrator.sandbox.shopify.resolvers import (
    FieldResolver,
    Info,
    is_connection,
    paginate,
    placeholder,
)
from integrator.sandbox.shopify.scopes import can_read_fulfillment_order

if TYPE_CHECKING:
    from integrator.sandbox.shopify.store import Shop

ASSIGNMENT_STATUSES = {
    "FULFILLMENT_REQUESTED": "SUBMITTED",
    "CANCELLATION_REQUESTED": "CANCELLATION_REQUESTED",
    "FULFILLMENT_ACCEPTED": "ACCEPTED",
    "FULFILLMENT_UNSUBMITTED": "UNSUBMITTED",
}


def resolve_query_field(shop: Shop, info: Info, **args: Any) -> Any:
    named = QUERY_FIELDS.get(info.field_name)
    if named is not None:
        return named(shop, info, **args)
    if "id" in args:
        return _record_by_id(shop, info, args["id"])
    if is_connection(info.return_type):
        return _root_connection(shop, info, _node_type_name(info), args)
    return placeholder(info.return_type, info)


def valid_gid(global_id: str) -> str:
    """:raises GraphQLError: when ``global_id`` is not a Shopify GID, as Shopify does."""
    if not global_id.startswith(GID_PREFIX) or type_of(global_id) is None:
        raise GraphQLError(
            f"Invalid global id '{global_id}'", extensions={"code": "argumentLiteralsIncompatible"}
        )
    return global_id


def _record_by_id(shop: Shop, info: Info, global_id: str) -> Record | None:
    record = _visible(shop.find(valid_gid(global_id)), info)
    wanted = get_named_type(info.return_type)
    if record is None:
        return None
    if isinstance(wanted, GraphQLObjectType) and record["__typename"] != wanted.name:
        return None
    return record


def _visible(record: Record | None, info: Info) -> Record | None:
    """None for a fulfillment order the token has no scope to see, as Shopify answers."""
    from integrator.sandbox.shopify.store import THIS_APP

    if record is None or record.get("__typename") != "FulfillmentOrder":
        return record
    scopes = info.context.scopes if info.context else ()
    return record if can_read_fulfillment_order(record, scopes, THIS_APP) else None


def _node_type_name(info: Info) -> str:
    connection = get_named_type(info.return_type)
    assert isinstance(connection, GraphQLObjectType)
    return str(get_named_type(connection.fields["nodes"].type).name)


def _root_connection(
    shop: Shop,
    info: Info,
    type_name: str,
    args: dict[str, Any],
    records: Sequence[Record] | None = None,
) -> Record:
    chosen = search.matching(
        shop.all_of(type_name) if records is None else records, args.get("query")
    )
    entries = search.sorted_entries(chosen, args.get("sortKey"), bool(args.get("reverse")))
    return paginate(entries, args)


def _shop(shop: Shop, info: Info, **_: Any) -> Record:
    return shop.record


def _node(shop: Shop, info: Info, id: str) -> Record | None:  # noqa: A002
    return _visible(shop.find(valid_gid(id)), info)


def _nodes(shop: Shop, info: Info, ids: Sequence[str]) -> list[Record | None]:
    return [_visible(shop.find(valid_gid(each)), info) for each in ids]


def _current_app_installation(shop: Shop, info: Info, **_: Any) -> Record:
    scopes = info.context.scopes if info.context else shop.scopes
    return {
        "__typename": "AppInstallation",
        "id": f"gid://shopify/AppInstallation/{shop.record['id'].rsplit('/', 1)[-1]}",
        "accessScopes": [
            {"__typename": "AccessScope", "handle": scope, "description": scope} for scope in scopes
        ],
        "app": {
            "__typename": "App",
            "id": "gid://shopify/App/1",
            "title": "integrator",
            "handle": "integrator",
            "apiKey": shop.client_id,
        },
    }


def _webhook_subscriptions(shop: Shop, info: Info, **args: Any) -> Record:
    topics = args.get("topics")
    chosen = [s for s in shop.all_of("WebhookSubscription") if not topics or s["topic"] in topics]
    return _root_connection(shop, info, "WebhookSubscription", args, chosen)


def _assigned_fulfillment_orders(shop: Shop, info: Info, **args: Any) -> Record:
    from integrator.sandbox.shopify.scopes import fulfillment_order_kind
    from integrator.sandbox.shopify.store import THIS_APP

    request_status = ASSIGNMENT_STATUSES.get(args.get("assignmentStatus") or "")
    location_ids = args.get("locationIds")
    chosen = [
        fo
        for fo in shop.all_of("FulfillmentOrder")
        if fulfillment_order_kind(fo, THIS_APP) == "assigned"
        and (request_status is None or fo["requestStatus"] == request_status)
        and (not location_ids or fo["assignedLocation"]["location"]["id"] in location_ids)
    ]
    return _root_connection(shop, info, "FulfillmentOrder", args, chosen)


QUERY_FIELDS: dict[str, FieldResolver] = {
    "shop": _shop,
    "node": _node,
    "nodes": _nodes,
    "currentAppInstallation": _current_app_installation,
    "webhookSubscriptions": _webhook_subscriptions,
    "assignedFulfillmentOrders": _assigned_fulfillment_orders,
}
