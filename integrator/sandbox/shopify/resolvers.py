"""Generic resolution of GraphQL-shaped records, so any valid selection gets an answer.

Records are dicts keyed by field name. On top of graphql-core's default lookup this adds:
lists under ``*Connection`` fields become paginated connections; ``first`` trims plain lists;
``metafield(namespace, key)`` and ``metafields(namespace, keys)`` read a record's metafields;
and a field a record lacks gets a neutral placeholder (null, or a zero value of its type when
it is non-null), which is how the sandbox answers parts of the schema it does not model.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    get_named_type,
    is_abstract_type,
)

from integrator.sandbox.shopify.records import Record, now_iso, type_of

if TYPE_CHECKING:
    Info = GraphQLResolveInfo[Any]
else:
    Info = GraphQLResolveInfo

MAX_PAGE_SIZE = 250
Entry = tuple[tuple[Any, ...], Record]
FieldResolver = Callable[..., Any]

SCALAR_PLACEHOLDERS: Mapping[str, Any] = {
    "Int": 0,
    "Float": 0.0,
    "Boolean": False,
    "ID": "gid://shopify/Placeholder/0",
    "URL": "https://example.com/",
    "Money": "0.0",
    "Decimal": "0.0",
    "UnsignedInt64": "0",
    "JSON": {},
    "HTML": "",
    "FormattedString": "",
    "Color": "#000000",
    "BigInt": "0",
}


def is_connection(output_type: GraphQLOutputType) -> bool:
    named = get_named_type(output_type)
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and ("pageInfo" in named.fields)
    )


def resolve_record_field(source: Any, info: Info, **args: Any) -> Any:
    """Resolve a field of a record (a dict) the generic way described above."""
    special = ARGUMENT_FIELDS.get(info.field_name)
    if special is not None and isinstance(source, Mapping):
        return special(source, info, **args)
    if isinstance(source, Mapping):
        if info.field_name not in source:
            return placeholder(info.return_type, info)
        value = source[info.field_name]
    else:
        value = getattr(source, info.field_name, None)
    return shape(value, info, args)


def shape(value: Any, info: Info, args: Mapping[str, Any]) -> Any:
    """Fit a stored value to the field: paginate lists under connections, honour ``first``."""
    if not isinstance(value, list):
        return value
    if is_connection(info.return_type):
        entries = [((index,), item) for index, item in enumerate(value)]
        return paginate(entries[::-1] if args.get("reverse") else entries, args)
    first = args.get("first")
    return value[:first] if isinstance(first, int) else value


def paginate(entries: Sequence[Entry], args: Mapping[str, Any]) -> Record:
    """Build a connection page; each entry's key is its opaque (keyset) cursor.

    :raises GraphQLError: neither ``first`` nor ``last`` given, or a page over 250.
    """
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    if max(first or 0, last or 0) > MAX_PAGE_SIZE:
        raise GraphQLError(f"The maximum page size is {MAX_PAGE_SIZE}.")
    reverse = bool(args.get("reverse"))
    window = _between(list(entries), args.get("after"), args.get("before"), reverse)
    page = window[:first] if first is not None else window[-last:] if last else []
    edges = [{"cursor": encode_cursor(key), "node": node} for key, node in page]
    return {
        "edges": edges,
        "nodes": [node for _, node in page],
        "pageInfo": {
            "hasNextPage": first is not None and len(window) > len(page),
            "hasPreviousPage": (last is not None and len(window) > len(page))
            or args.get("after") is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _between(
    entries: list[Entry], after: str | None, before: str | None, reverse: bool
) -> list[Entry]:
    def beyond(key: tuple[Any, ...], cursor: tuple[Any, ...]) -> bool:
        return key < cursor if reverse else key > cursor

    if after:
        after_key = decode_cursor(after)
        entries = [entry for entry in entries if beyond(entry[0], after_key)]
    if before:
        before_key = decode_cursor(before)
        entries = [entry for entry in entries if beyond(before_key, entry[0])]
    return entries


def encode_cursor(key: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    """:raises GraphQLError: for a cursor the sandbox did not hand out."""
    try:
        return tuple(json.loads(base64.urlsafe_b64decode(cursor.encode())))
    except (ValueError, TypeError) as error:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from error


def placeholder(output_type: GraphQLOutputType, info: Info) -> Any:
    """Return null, or for a non-null field the neutral value of its type."""
    if not isinstance(output_type, GraphQLNonNull):
        return None
    inner = output_type.of_type
    if isinstance(inner, GraphQLList):
        return []
    if isinstance(inner, GraphQLScalarType):
        if inner.name == "DateTime":
            return now_iso()
        return SCALAR_PLACEHOLDERS.get(inner.name, "")
    if isinstance(inner, GraphQLEnumType):
        return next(iter(inner.values))
    if is_connection(inner):
        return paginate([], {"first": 0})
    if is_abstract_type(inner):
        return {"__typename": info.schema.get_possible_types(inner)[0].name}
    return {"__typename": inner.name}


def resolve_type(value: Any, info: Info, abstract_type: GraphQLAbstractType) -> str:
    """Name the concrete type of a record served where an interface or union is expected."""
    if isinstance(value, Mapping):
        name = value.get("__typename") or type_of(str(value.get("id", "")))
        if name:
            return str(name)
    return info.schema.get_possible_types(abstract_type)[0].name


def _metafield(
    source: Mapping[str, Any], info: Info, namespace: str | None = None, key: str = "", **_: Any
) -> Record | None:
    # Without a namespace, Shopify reads ``key`` as "namespace.key".
    if namespace is None:
        namespace, _dot, key = key.rpartition(".")
    wanted = (namespace or "custom", key)
    return next(
        (
            field
            for field in source.get("metafields", [])
            if (field["namespace"], field["key"]) == wanted
        ),
        None,
    )


def _metafields(
    source: Mapping[str, Any],
    info: Info,
    namespace: str | None = None,
    keys: Sequence[str] | None = None,
    **args: Any,
) -> Any:
    chosen = [
        field
        for field in source.get("metafields", [])
        if (namespace is None or field["namespace"] == namespace)
        and (keys is None or f"{field['namespace']}.{field['key']}" in keys)
    ]
    return shape(chosen, info, args)


def _merchant_requests(
    source: Mapping[str, Any], info: Info, kind: str | None = None, **args: Any
) -> Any:
    chosen = [r for r in source.get("merchantRequests", []) if kind in (None, r["kind"])]
    return shape(chosen, info, args)


def _fulfillment_orders(source: Mapping[str, Any], info: Info, **args: Any) -> Any:
    from integrator.sandbox.shopify.scopes import can_read_fulfillment_order
    from integrator.sandbox.shopify.store import THIS_APP

    scopes = info.context.scopes if info.context else ()
    chosen = [
        fo
        for fo in source.get("fulfillmentOrders", [])
        if can_read_fulfillment_order(fo, scopes, THIS_APP)
        and (args.get("displayable") is not True or fo["status"] not in ("CANCELLED", "CLOSED"))
    ]
    return shape(chosen, info, args)


def _inventory_levels(
    source: Mapping[str, Any],
    info: Info,
    includeInactive: bool = False,
    **args: Any,  # noqa: N803
) -> Any:
    levels = source.get("inventoryLevels") or []
    if source.get("__typename") not in ("InventoryItem", "Location"):
        return levels  # a mutation payload's levels
    chosen = [level for level in levels if includeInactive or level["isActive"]]
    return shape(chosen, info, args)


def _inventory_level(
    source: Mapping[str, Any],
    info: Info,
    locationId: str = "",  # noqa: N803
    includeInactive: bool = False,  # noqa: N803
    **_: Any,
) -> Record | None:
    if source.get("__typename") not in ("InventoryItem", "Location"):
        return source.get("inventoryLevel")  # a mutation payload's level
    return next(
        (
            level
            for level in source.get("inventoryLevels", [])
            if level["location"]["id"] == locationId and (includeInactive or level["isActive"])
        ),
        None,
    )


ARGUMENT_FIELDS: dict[str, FieldResolver] = {
    "inventoryLevels": _inventory_levels,
    "inventoryLevel": _inventory_level,
    "metafield": _metafield,
    "metafields": _metafields,
    "merchantRequests": _merchant_requests,
    "fulfillmentOrders": _fulfillment_orders,
}
