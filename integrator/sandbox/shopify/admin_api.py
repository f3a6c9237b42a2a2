"""One Admin GraphQL request: validate, price, throttle, execute, refund, report the cost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, execute_sync

from integrator.sandbox.shopify.cost import query_cost
from integrator.sandbox.shopify.mutations import resolve_mutation_field
from integrator.sandbox.shopify.queries import resolve_query_field
from integrator.sandbox.shopify.resolvers import Info, resolve_record_field, resolve_type
from integrator.sandbox.shopify.schema import admin_schema, check_document
from integrator.sandbox.shopify.scopes import check_access

if TYPE_CHECKING:
    from integrator.sandbox.shopify.sandbox import SandboxConfig
    from integrator.sandbox.shopify.store import Shop

RATE_LIMITS_URL = "https://shopify.dev/api/usage/rate-limits"
Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class RequestContext:
    shop: Shop
    scopes: tuple[str, ...]


def answer_graphql(shop: Shop, scopes: tuple[str, ...], body: Any, config: SandboxConfig) -> Answer:
    """Answer a GraphQL request body for ``shop`` as the Admin API would."""
    with shop.lock:
        shop.counters.requests += 1
    if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
        return 400, {"errors": {"query": "Required parameter missing or invalid"}}
    checked = check_document(admin_schema(), body["query"])
    if checked.document is None:
        errors = [error.formatted for error in checked.errors]
        return config.invalid_document_status, {"errors": errors, "extensions": _cost(shop, 0, 0)}
    variables = body.get("variables") or {}
    operation_name = body.get("operationName")
    return _priced(
        shop,
        RequestContext(shop, scopes),
        checked.document,
        variables,
        operation_name,
        config.max_single_query_cost,
    )


def _priced(
    shop: Shop,
    context: RequestContext,
    document: DocumentNode,
    variables: dict[str, Any],
    operation_name: str | None,
    limit: int | None,
) -> Answer:
    schema = admin_schema()
    requested = query_cost(schema, document, operation_name, variables)
    if limit is not None and requested > limit:
        return 200, {
            "errors": [_max_cost_error(requested, limit)],
            "extensions": _cost(shop, requested, None),
        }
    # Never ask for more than the bucket can hold, or the query could never run at all.
    if not shop.bucket.take(min(requested, shop.bucket.maximum)):
        with shop.lock:
            shop.counters.throttled += 1
        return 200, {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_URL},
                }
            ],
            "extensions": _cost(shop, requested, None),
        }
    with shop.lock:
        result = execute_sync(
            schema,
            document,
            root_value=shop,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            field_resolver=_resolve,
            type_resolver=resolve_type,
        )
    actual = (
        requested
        if result.data is None
        else query_cost(schema, document, operation_name, variables, result.data)
    )
    shop.bucket.refund(min(requested, shop.bucket.maximum) - actual)
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [error.formatted for error in result.errors]
    answer["extensions"] = _cost(shop, requested, actual)
    return 200, answer


def _resolve(source: Any, info: Info, **args: Any) -> Any:
    if info.parent_type is info.schema.query_type:
        check_access(info.field_name, info.context.scopes)
        return resolve_query_field(info.context.shop, info, **args)
    if info.parent_type is info.schema.mutation_type:
        check_access(info.field_name, info.context.scopes)
        return resolve_mutation_field(info.context.shop, info, **args)
    return resolve_record_field(source, info, **args)


def _max_cost_error(requested: int, limit: int) -> dict[str, Any]:
    return {
        "message": f"Query cost is {requested}, which exceeds the single query max cost "
        f"limit ({limit}).",
        "extensions": {
            "code": "MAX_COST_EXCEEDED",
            "cost": requested,
            "maxCost": limit,
            "documentation": RATE_LIMITS_URL,
        },
    }


def _cost(shop: Shop, requested: int, actual: int | None) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": shop.bucket.status().as_json(),
        }
    }
