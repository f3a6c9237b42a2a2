"""``Mutation`` root fields the project sends, with Shopify's ``userErrors`` behaviour.

A mutation the sandbox does not model answers an empty payload (no user errors) and is
counted in ``ShopCounters.unmodelled_mutations`` so a test can notice it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graphql import get_named_type

from integrator.sandbox.shopify import fulfillment as rules
from integrator.sandbox.shopify import fulfillment_service as service_rules
from integrator.sandbox.shopify import records
from integrator.sandbox.shopify.fulfillment import FulfillmentRefused, Plan
from integrator.sandbox.shopify.queries import valid_gid
from integrator.sandbox.shopify.records import Record, gid, now_iso
from integrator.sandbox.shopify.resolvers import FieldResolver, Info
from integrator.sandbox.shopify.schema import check_document
from integrator.sandbox.shopify.scopes import (
    can_write_fulfillment_order,
    fulfillment_order_kind,
)
from integrator.sandbox.shopify.store import THIS_APP

if TYPE_CHECKING:
    from integrator.sandbox.shopify.store import Shop


def resolve_mutation_field(shop: Shop, info: Info, **args: Any) -> Any:
    handler = MUTATIONS.get(info.field_name)
    if handler is None:
        shop.counters.unmodelled_mutations[info.field_name] += 1
        return {"__typename": get_named_type(info.return_type).name}
    return handler(shop, info, **args)


def user_error(field: Sequence[str], message: str) -> Record:
    return {"field": list(field), "message": message}


def _fulfillment_create(
    shop: Shop, info: Info, fulfillment: Mapping[str, Any], message: str | None = None
) -> Record:
    try:
        order, plan = _plan(shop, info, fulfillment["lineItemsByFulfillmentOrder"])
    except FulfillmentRefused as refused:
        return {"fulfillment": None, "userErrors": [user_error(["fulfillment"], str(refused))]}
    created = shop.record_fulfillment(order, plan, fulfillment.get("trackingInfo"))
    # Not fields of Fulfillment; kept so tests can see what the app asked Shopify to do.
    created["notifyCustomer"] = bool(fulfillment.get("notifyCustomer"))
    created["message"] = message
    shop.counters.fulfillments_by_order[order["id"]] += 1
    return {"fulfillment": created, "userErrors": []}


def _plan(shop: Shop, info: Info, groups: Sequence[Mapping[str, Any]]) -> tuple[Record, Plan]:
    plan: Plan = []
    for group in groups:
        fulfillment_order = _writable_fulfillment_order(
            shop, info, str(group["fulfillmentOrderId"])
        )
        if fulfillment_order is None:
            raise FulfillmentRefused("Fulfillment order does not exist.")
        rules.check_fulfillable(fulfillment_order)
        wanted = group.get("fulfillmentOrderLineItems")
        plan.append((fulfillment_order, rules.requested_lines(fulfillment_order, wanted)))
    if not plan or not any(requests for _, requests in plan):
        raise FulfillmentRefused("Fulfillment has no line items to fulfill.")
    orders = {fo["order"]["id"] for fo, _ in plan}
    if len(orders) > 1:
        raise FulfillmentRefused("All fulfillment orders must belong to the same order.")
    locations = {fo["assignedLocation"]["location"]["id"] for fo, _ in plan}
    if len(locations) > 1:
        raise FulfillmentRefused("All fulfillment orders must be assigned to the same location.")
    return plan[0][0]["order"], plan


def _writable_fulfillment_order(shop: Shop, info: Info, global_id: str) -> Record | None:
    """The FO, if this token may change it; otherwise Shopify does not find it."""
    found = shop.find(global_id, "FulfillmentOrder")
    scopes = info.context.scopes if info.context else ()
    if found is None or not can_write_fulfillment_order(found, scopes, THIS_APP):
        return None
    return found


def _tracking_update(
    shop: Shop,
    info: Info,
    fulfillmentId: str,  # noqa: N803
    trackingInfoInput: Mapping[str, Any],  # noqa: N803
    notifyCustomer: bool | None = None,
) -> Record:  # noqa: N803
    found = shop.find(valid_gid(fulfillmentId), "Fulfillment")
    if found is None:
        return {
            "fulfillment": None,
            "userErrors": [user_error(["fulfillmentId"], "Fulfillment does not exist.")],
        }
    rules.update_tracking(found, trackingInfoInput)
    found["notifyCustomer"] = bool(notifyCustomer)
    return {"fulfillment": found, "userErrors": []}


def _request_answer(answer: Callable[[Record, Mapping[str, Any]], None]) -> FieldResolver:
    """A fulfillment service's answer to a merchant request on an FO assigned to it (only
    those: another location's FO does not exist for ``write_assigned_fulfillment_orders``)."""

    def respond(
        shop: Shop,
        info: Info,
        id: str,  # noqa: A002
        **args: Any,
    ) -> Record:
        found = _writable_fulfillment_order(shop, info, valid_gid(id))
        if found is None or fulfillment_order_kind(found, THIS_APP) != "assigned":
            return {
                "fulfillmentOrder": None,
                "userErrors": [user_error(["id"], "Fulfillment order does not exist.")],
            }
        try:
            answer(found, args)
        except FulfillmentRefused as refused:
            return {"fulfillmentOrder": found, "userErrors": [user_error(["id"], str(refused))]}
        return {"fulfillmentOrder": found, "userErrors": []}

    return respond


def _accept(fo: Record, args: Mapping[str, Any]) -> None:
    rules.accept_fulfillment_request(fo, args.get("message"))
    for request in reversed(fo["merchantRequests"]):
        if request["kind"] == "FULFILLMENT_REQUEST":
            request["responseData"] = {"accepted": True, "message": args.get("message")}
            break


def _reject(fo: Record, args: Mapping[str, Any]) -> None:
    service_rules.reject_fulfillment_request(fo, args.get("reason"), args.get("message"))


def _accept_cancellation(fo: Record, args: Mapping[str, Any]) -> None:
    service_rules.accept_cancellation_request(fo, args.get("message"))


def _reject_cancellation(fo: Record, args: Mapping[str, Any]) -> None:
    service_rules.reject_cancellation_request(fo, args.get("message"))


def _inventory_activate(
    shop: Shop,
    info: Info,
    inventoryItemId: str,  # noqa: N803
    locationId: str,  # noqa: N803
    **_: Any,
) -> Record:
    item = shop.find(valid_gid(inventoryItemId), "InventoryItem")
    where = shop.find(valid_gid(locationId), "Location")
    if item is None:
        error = user_error(["inventoryItemId"], "The product couldn't be stocked.")
        return {"inventoryLevel": None, "userErrors": [error]}
    if where is None:
        error = user_error(["locationId"], "The location couldn't be found.")
        return {"inventoryLevel": None, "userErrors": [error]}
    level, _changed = service_rules.activate(shop.next_id(), item, where)
    return {"inventoryLevel": shop.register(level), "userErrors": []}


def _inventory_bulk_toggle(
    shop: Shop,
    info: Info,
    inventoryItemId: str,  # noqa: N803
    inventoryItemUpdates: Sequence[Mapping[str, Any]],  # noqa: N803
) -> Record:
    item = shop.find(valid_gid(inventoryItemId), "InventoryItem")
    if item is None:
        return _toggle_refused(
            ["inventoryItemId"], "INVENTORY_ITEM_NOT_FOUND", "Inventory item not found."
        )
    levels = []
    for index, update in enumerate(inventoryItemUpdates):
        where = shop.find(valid_gid(str(update["locationId"])), "Location")
        field = ["inventoryItemUpdates", str(index), "locationId"]
        if where is None:
            return _toggle_refused(field, "LOCATION_NOT_FOUND", "Location not found.")
        if update["activate"]:
            level, _changed = service_rules.activate(shop.next_id(), item, where)
            levels.append(shop.register(level))
            continue
        refused = service_rules.deactivate(item, where)
        if refused is not None:
            return _toggle_refused(
                field, refused, "Cannot unstock this product from its only location."
            )
    return {"inventoryItem": item, "inventoryLevels": levels, "userErrors": []}


def _toggle_refused(field: Sequence[str], code: str, message: str) -> Record:
    error = {**user_error(field, message), "code": code}
    return {"inventoryItem": None, "inventoryLevels": None, "userErrors": [error]}


def _hold(
    shop: Shop,
    info: Info,
    id: str,  # noqa: A002
    fulfillmentHold: Mapping[str, Any],
) -> Record:  # noqa: N803
    found = shop.find(valid_gid(id), "FulfillmentOrder")
    if found is None or found["status"] not in rules.FULFILLABLE_STATUSES:
        return {
            "fulfillmentOrder": found,
            "userErrors": [user_error(["id"], "The fulfillment order cannot be put on hold.")],
        }
    hold = records.fulfillment_hold(
        shop.next_id(),
        fulfillmentHold["reason"],
        fulfillmentHold.get("reasonNotes"),
        fulfillmentHold.get("handle"),
    )
    hold["heldByRequestingApp"] = True
    found["fulfillmentHolds"].append(hold)
    found["status"] = "ON_HOLD"
    rules.refresh_order(found["order"])
    return {"fulfillmentOrder": found, "fulfillmentHold": hold, "userErrors": []}


def _release_hold(
    shop: Shop,
    info: Info,
    id: str,  # noqa: A002
    **_: Any,
) -> Record:
    found = shop.find(valid_gid(id), "FulfillmentOrder")
    if found is None or found["status"] != "ON_HOLD":
        return {
            "fulfillmentOrder": found,
            "userErrors": [user_error(["id"], "The fulfillment order is not on hold.")],
        }
    found["fulfillmentHolds"] = []
    found["status"] = "OPEN"
    rules.refresh_order(found["order"])
    return {"fulfillmentOrder": found, "userErrors": []}


def _webhook_subscription_create(
    shop: Shop, info: Info, topic: str, webhookSubscription: Mapping[str, Any]
) -> Record:  # noqa: N803
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    field = ["webhookSubscription", "callbackUrl"]
    if not uri:
        return {
            "webhookSubscription": None,
            "userErrors": [user_error(field, "Address can't be blank")],
        }
    taken = any(s["topic"] == topic and s["uri"] == uri for s in shop.all_of("WebhookSubscription"))
    if taken:
        return {
            "webhookSubscription": None,
            "userErrors": [user_error(field, "Address for this topic has already been taken")],
        }
    number = shop.next_id()
    created = shop.register(
        {
            "__typename": "WebhookSubscription",
            "id": gid("WebhookSubscription", number),
            "legacyResourceId": str(number),
            "topic": topic,
            "uri": uri,
            "callbackUrl": uri,
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": uri},
            "format": webhookSubscription.get("format") or "JSON",
            "includeFields": list(webhookSubscription.get("includeFields") or []),
            "filter": webhookSubscription.get("filter"),
            "name": webhookSubscription.get("name"),
            "createdAt": now_iso(),
            "updatedAt": now_iso(),
        }
    )
    return {"webhookSubscription": created, "userErrors": []}


def _webhook_subscription_delete(shop: Shop, info: Info, id: str) -> Record:  # noqa: A002
    if shop.find(valid_gid(id), "WebhookSubscription") is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [user_error(["id"], "Webhook subscription does not exist")],
        }
    shop.unregister(id)
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


def _tags(adding: bool) -> FieldResolver:
    def change(
        shop: Shop,
        info: Info,
        id: str,  # noqa: A002
        tags: Sequence[str],
    ) -> Record:
        found = shop.find(valid_gid(id))
        if found is None or "tags" not in found:
            return {"node": None, "userErrors": [user_error(["id"], "Resource not found")]}
        wanted = [t.strip() for each in tags for t in each.split(",") if t.strip()]
        kept = [t for t in found["tags"] if adding or t not in wanted]
        found["tags"] = kept + [t for t in wanted if adding and t not in kept]
        found["updatedAt"] = now_iso()
        return {"node": found, "userErrors": []}

    return change


def _metafields_set(shop: Shop, info: Info, metafields: Sequence[Mapping[str, Any]]) -> Record:
    errors = [
        {
            **user_error(["metafields", str(index), "ownerId"], "Owner does not exist."),
            "code": "INVALID_VALUE",
            "elementIndex": index,
        }
        for index, wanted in enumerate(metafields)
        if shop.find(str(wanted["ownerId"])) is None
    ]
    if errors:
        return {"metafields": None, "userErrors": errors}
    return {"metafields": [_set_metafield(shop, wanted) for wanted in metafields], "userErrors": []}


def _set_metafield(shop: Shop, wanted: Mapping[str, Any]) -> Record:
    owner = shop.nodes[str(wanted["ownerId"])]
    namespace, key = wanted.get("namespace") or "custom", wanted["key"]
    owned = owner.setdefault("metafields", [])
    field = next((f for f in owned if f["namespace"] == namespace and f["key"] == key), None)
    if field is None:
        field = shop.register(
            records.metafield(
                shop.next_id(), owner["__typename"].upper(), f"{namespace}.{key}", wanted["value"]
            )
        )
        owned.append(field)
    field.update(
        value=wanted["value"], updatedAt=now_iso(), type=wanted.get("type") or field["type"]
    )
    return field


def _fulfillment_service_create(shop: Shop, info: Info, name: str, **options: Any) -> Record:
    if any(s["serviceName"] == name for s in shop.all_of("FulfillmentService")):
        return {
            "fulfillmentService": None,
            "userErrors": [user_error(["name"], "Name has already been taken")],
        }
    service = shop.register_fulfillment_service(name, app=THIS_APP, options=options)
    return {"fulfillmentService": service, "userErrors": []}


def _fulfillment_service_update(shop: Shop, info: Info, id: str, **options: Any) -> Record:  # noqa: A002
    found = shop.find(valid_gid(id), "FulfillmentService")
    if found is None or found.get("_app") != THIS_APP:
        return {
            "fulfillmentService": None,
            "userErrors": [user_error(["id"], "Fulfillment service could not be found.")],
        }
    for key in ("callbackUrl", "trackingSupport", "inventoryManagement"):
        if options.get(key) is not None:
            found[key] = options[key]
    if options.get("name"):
        found["serviceName"] = found["location"]["name"] = options["name"]
    return {"fulfillmentService": found, "userErrors": []}


def _bulk_operation_run_query(shop: Shop, info: Info, query: str, **_: Any) -> Record:
    checked = check_document(info.schema, query)
    if checked.errors:
        return {
            "bulkOperation": None,
            "userErrors": [
                {**user_error(["query"], error.message), "code": "INVALID"}
                for error in checked.errors
            ],
        }
    number = shop.next_id()
    operation = shop.register(
        {
            "__typename": "BulkOperation",
            "id": gid("BulkOperation", number),
            "status": "CREATED",
            "type": "QUERY",
            "query": query,
            "createdAt": now_iso(),
            "objectCount": "0",
            "rootObjectCount": "0",
            "url": None,
            "errorCode": None,
        }
    )
    return {"bulkOperation": operation, "userErrors": []}


MUTATIONS: dict[str, FieldResolver] = {
    "fulfillmentCreate": _fulfillment_create,
    "fulfillmentCreateV2": _fulfillment_create,
    "fulfillmentTrackingInfoUpdate": _tracking_update,
    "fulfillmentTrackingInfoUpdateV2": _tracking_update,
    "fulfillmentOrderAcceptFulfillmentRequest": _request_answer(_accept),
    "fulfillmentOrderRejectFulfillmentRequest": _request_answer(_reject),
    "fulfillmentOrderAcceptCancellationRequest": _request_answer(_accept_cancellation),
    "fulfillmentOrderRejectCancellationRequest": _request_answer(_reject_cancellation),
    "inventoryActivate": _inventory_activate,
    "inventoryBulkToggleActivation": _inventory_bulk_toggle,
    "fulfillmentOrderHold": _hold,
    "fulfillmentOrderReleaseHold": _release_hold,
    "fulfillmentServiceCreate": _fulfillment_service_create,
    "fulfillmentServiceUpdate": _fulfillment_service_update,
    "webhookSubscriptionCreate": _webhook_subscription_create,
    "webhookSubscriptionDelete": _webhook_subscription_delete,
    "tagsAdd": _tags(adding=True),
    "tagsRemove": _tags(adding=False),
    "metafieldsSet": _metafields_set,
    "bulkOperationRunQuery": _bulk_operation_run_query,
}
