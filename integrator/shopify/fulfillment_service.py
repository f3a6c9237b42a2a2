"""Fulfillment-service mode against the Admin API: our service and its location, the requests
Shopify assigns to it and our answers (docs/adr/0002-shopify-fulfillment-mode.md).

Every function sends one of the package's operations and returns plain values; what to answer
is decided in ``integrator.routing.fulfillment_requests``, never here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from integrator.shopify.client import AdminClient

# the path Shopify appends to a service's callbackUrl for its notifications
NOTIFICATION_PATH = "fulfillment_order_notification"
# our callbackUrl below PUBLIC_URL; Shopify posts to <this>/fulfillment_order_notification
CALLBACK_PATH = "/shopify/fulfillment_service"
MAX_ASSIGNED_PAGES = 40
MESSAGE_LIMIT = 250  # the merchant reads the message in the admin; keep it short


@dataclass(frozen=True)
class FulfillmentService:
    id: str
    name: str
    callback_url: str | None
    location_id: str
    location_name: str


@dataclass(frozen=True)
class ServiceRegistration:
    service: FulfillmentService
    created: bool
    updated: bool


@dataclass(frozen=True)
class AssignedRequest:
    fulfillment_order_id: str
    order_id: str  # numeric, as the integrator keys orders
    request_status: str


def ensure_fulfillment_service(
    client: AdminClient, shop: str, name: str, callback_url: str
) -> ServiceRegistration:
    """Our fulfillment service for ``shop``, created once: found again by name (Shopify refuses
    a second of the same name), its callback URL moved when ours changed.

    :raises ShopifyUserErrors: when Shopify refuses the service (a bad URL, a missing scope).
    """
    existing = _find(client, shop, name)
    if existing is None:
        payload = client.mutate(
            shop,
            "fulfillment_service_create",
            {"name": name, "callbackUrl": callback_url, "trackingSupport": True},
            "fulfillmentServiceCreate",
        )
        return ServiceRegistration(_service(payload["fulfillmentService"]), True, False)
    if existing.callback_url == callback_url:
        return ServiceRegistration(existing, False, False)
    payload = client.mutate(
        shop,
        "fulfillment_service_update",
        {"id": existing.id, "callbackUrl": callback_url, "trackingSupport": True},
        "fulfillmentServiceUpdate",
    )
    return ServiceRegistration(_service(payload["fulfillmentService"]), False, True)


def _find(client: AdminClient, shop: str, name: str) -> FulfillmentService | None:
    services = client.execute(shop, "fulfillment_services")["shop"]["fulfillmentServices"]
    wanted = name.strip().casefold()
    for node in services:
        if str(node["serviceName"]).strip().casefold() == wanted:
            return _service(node)
    return None


def _service(node: dict[str, object]) -> FulfillmentService:
    location = node["location"]
    assert isinstance(location, dict)
    return FulfillmentService(
        id=str(node["id"]),
        name=str(node["serviceName"]),
        callback_url=str(node["callbackUrl"]) if node.get("callbackUrl") else None,
        location_id=str(location["id"]),
        location_name=str(location["name"]),
    )


def assigned_requests(
    client: AdminClient, shop: str, status: str, location_ids: tuple[str, ...] = ()
) -> Iterator[AssignedRequest]:
    """Fulfillment orders at our location(s) whose assignment status is ``status``
    (``FULFILLMENT_REQUESTED``, ``CANCELLATION_REQUESTED``…), every page."""
    after: str | None = None
    for _ in range(MAX_ASSIGNED_PAGES):
        variables = {"status": status, "locationIds": list(location_ids) or None, "after": after}
        page = client.execute(shop, "assigned_fulfillment_orders", variables)
        connection = page["assignedFulfillmentOrders"]
        for node in connection["nodes"]:
            yield AssignedRequest(
                str(node["id"]), str(node["orderId"]).rsplit("/", 1)[-1], node["requestStatus"]
            )
        if not connection["pageInfo"]["hasNextPage"]:
            return
        after = connection["pageInfo"]["endCursor"]


def accept_fulfillment_request(
    client: AdminClient, shop: str, fulfillment_order_id: str, message: str
) -> None:
    client.mutate(
        shop,
        "fulfillment_request_accept",
        {"id": fulfillment_order_id, "message": message[:MESSAGE_LIMIT]},
        "fulfillmentOrderAcceptFulfillmentRequest",
    )


def reject_fulfillment_request(
    client: AdminClient, shop: str, fulfillment_order_id: str, reason: str, message: str
) -> None:
    client.mutate(
        shop,
        "fulfillment_request_reject",
        {"id": fulfillment_order_id, "reason": reason, "message": message[:MESSAGE_LIMIT]},
        "fulfillmentOrderRejectFulfillmentRequest",
    )


def accept_cancellation_request(
    client: AdminClient, shop: str, fulfillment_order_id: str, message: str
) -> None:
    client.mutate(
        shop,
        "cancellation_request_accept",
        {"id": fulfillment_order_id, "message": message[:MESSAGE_LIMIT]},
        "fulfillmentOrderAcceptCancellationRequest",
    )


def reject_cancellation_request(
    client: AdminClient, shop: str, fulfillment_order_id: str, message: str
) -> None:
    client.mutate(
        shop,
        "cancellation_request_reject",
        {"id": fulfillment_order_id, "message": message[:MESSAGE_LIMIT]},
        "fulfillmentOrderRejectCancellationRequest",
    )
