"""Builders for the sandbox's in-memory records, kept in Admin GraphQL shape.

Every record is a plain dict keyed by GraphQL field names (camelCase) with a ``__typename``,
so graphql-core's default resolution can serve any selection of them. Records reference each
other directly (an order's fulfillment orders point back at the order), like the graph does.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Record = dict[str, Any]

GID_PREFIX = "gid://shopify/"


def gid(type_name: str, number: int | str) -> str:
    """Return the global id Shopify gives object ``number`` of ``type_name``."""
    return f"{GID_PREFIX}{type_name}/{number}"


def number_of(global_id: str) -> str:
    """Return the numeric part of a GID (``gid://shopify/Order/42`` → ``"42"``)."""
    return global_id.rsplit("/", 1)[-1].split("?", 1)[0]


def type_of(global_id: str) -> str | None:
    """Return the type name inside a GID, or None when it is not a Shopify GID."""
    if not global_id.startswith(GID_PREFIX):
        return None
    parts = global_id[len(GID_PREFIX) :].split("/")
    return parts[0] if len(parts) == 2 and parts[0] else None


_last_stamp = [datetime.min.replace(tzinfo=UTC)]
_stamp_lock = threading.Lock()


def now_iso() -> str:
    """Return a timestamp later than any given before, so ``updated_at`` orders every change."""
    with _stamp_lock:
        moment = max(datetime.now(UTC), _last_stamp[0] + timedelta(milliseconds=1))
        _last_stamp[0] = moment
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money_bag(amount: str, currency: str = "USD") -> Record:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


@dataclass(frozen=True)
class AddressSpec:
    first_name: str = "Ada"
    last_name: str = "Lovelace"
    address1: str = "1 Sandbox Street"
    address2: str | None = None
    city: str = "Berlin"
    province: str | None = None
    province_code: str | None = None
    zip: str = "10115"
    country: str = "Germany"
    country_code: str = "DE"
    phone: str | None = None
    company: str | None = None


@dataclass(frozen=True)
class VariantSpec:
    sku: str
    options: Mapping[str, str] = field(default_factory=dict)
    price: str = "25.00"
    metafields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LineSpec:
    """One line of a new order; ``sku`` picks a seeded variant, or makes a custom item."""

    sku: str
    quantity: int = 1
    properties: Mapping[str, str] = field(default_factory=dict)
    requires_shipping: bool = True
    title: str | None = None
    price: str | None = None


@dataclass(frozen=True)
class FulfillmentOrderSpec:
    """How to group an order's lines into one fulfillment order (indexes into the lines).

    ``quantities`` puts only part of a line here (index → quantity; the rest of the line goes
    in another spec). ``location_name`` names a merchant location (made if new);
    ``fulfillment_service`` a fulfillment service's location instead (see
    ``Shop.add_fulfillment_service``). ``status`` ON_HOLD uses ``hold_reason``; SCHEDULED uses
    ``fulfill_at``.
    """

    lines: Sequence[int] | None = None  # None: every line that requires shipping
    status: str = "OPEN"
    request_status: str = "UNSUBMITTED"
    location_name: str | None = None
    quantities: Mapping[int, int] | None = None
    fulfillment_service: str | None = None
    hold_reason: str = "AWAITING_PAYMENT"
    hold_notes: str | None = None
    fulfill_at: str | None = None  # ISO timestamp
    delivery_method: str = "SHIPPING"  # DeliveryMethodType


def mailing_address(spec: AddressSpec, number: int) -> Record:
    name = f"{spec.first_name} {spec.last_name}".strip()
    return {
        "__typename": "MailingAddress",
        "id": gid("MailingAddress", number),
        "firstName": spec.first_name,
        "lastName": spec.last_name,
        "name": name,
        "company": spec.company,
        "address1": spec.address1,
        "address2": spec.address2,
        "city": spec.city,
        "province": spec.province,
        "provinceCode": spec.province_code,
        "zip": spec.zip,
        "country": spec.country,
        "countryCode": spec.country_code,
        "countryCodeV2": spec.country_code,
        "phone": spec.phone,
        "formatted": [name, spec.address1, f"{spec.zip} {spec.city}", spec.country],
    }


def metafield(number: int, owner_type: str, namespaced_key: str, value: str) -> Record:
    namespace, _, key = namespaced_key.rpartition(".")
    return {
        "__typename": "Metafield",
        "id": gid("Metafield", number),
        "legacyResourceId": str(number),
        "namespace": namespace or "custom",
        "key": key,
        "value": value,
        "type": "single_line_text_field",
        "ownerType": owner_type,
        "createdAt": now_iso(),
        "updatedAt": now_iso(),
    }


def product(number: int, title: str, product_type: str, vendor: str, tags: Sequence[str]) -> Record:
    stamp = now_iso()
    return {
        "__typename": "Product",
        "id": gid("Product", number),
        "legacyResourceId": str(number),
        "title": title,
        "handle": title.lower().replace(" ", "-"),
        "productType": product_type,
        "vendor": vendor,
        "tags": list(tags),
        "status": "ACTIVE",
        "createdAt": stamp,
        "updatedAt": stamp,
        "options": [],
        "variants": [],
        "metafields": [],
        "hasOnlyDefaultVariant": False,
        "isGiftCard": False,
    }


def variant(number: int, owner: Record, spec: VariantSpec, position: int) -> Record:
    options = [{"name": name, "value": value} for name, value in spec.options.items()]
    title = " / ".join(spec.options.values()) or "Default Title"
    return {
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", number),
        "legacyResourceId": str(number),
        "sku": spec.sku,
        "title": title,
        "displayName": f"{owner['title']} - {title}",
        "price": spec.price,
        "position": position,
        "selectedOptions": options,
        "product": owner,
        "metafields": [],
        "createdAt": owner["createdAt"],
        "updatedAt": owner["updatedAt"],
        "availableForSale": True,
        "taxable": True,
        "inventoryPolicy": "DENY",
    }


def product_options(variants: Sequence[Record]) -> list[Record]:
    values: dict[str, list[str]] = {}
    for each in variants:
        for option in each["selectedOptions"]:
            known = values.setdefault(option["name"], [])
            if option["value"] not in known:
                known.append(option["value"])
    return [
        {
            "__typename": "ProductOption",
            "id": gid("ProductOption", position + 1),
            "name": name,
            "position": position + 1,
            "values": known,
        }
        for position, (name, known) in enumerate(values.items())
    ]


def line_item(number: int, spec: LineSpec, variant_record: Record | None) -> Record:
    owner = variant_record["product"] if variant_record else None
    title = spec.title or (owner["title"] if owner else spec.sku)
    price = spec.price or (variant_record["price"] if variant_record else "10.00")
    return {
        "__typename": "LineItem",
        "id": gid("LineItem", number),
        "name": f"{title} - {variant_record['title']}" if variant_record else title,
        "title": title,
        "sku": spec.sku,
        "quantity": spec.quantity,
        "currentQuantity": spec.quantity,
        "unfulfilledQuantity": spec.quantity,
        "fulfillableQuantity": spec.quantity,
        "nonFulfillableQuantity": 0,
        "refundableQuantity": spec.quantity,
        "requiresShipping": spec.requires_shipping,
        "customAttributes": [{"key": k, "value": v} for k, v in spec.properties.items()],
        "variant": variant_record,
        "product": owner,
        "variantTitle": variant_record["title"] if variant_record else None,
        "vendor": owner["vendor"] if owner else None,
        "fulfillmentStatus": "unfulfilled",
        "isGiftCard": False,
        "taxable": True,
        "originalUnitPrice": price,
        "originalUnitPriceSet": money_bag(price),
        "discountedUnitPriceSet": money_bag(price),
        "originalTotalSet": money_bag(_times(price, spec.quantity)),
    }


def _times(price: str, quantity: int) -> str:
    return f"{float(price) * quantity:.2f}"


def order_total(lines: Sequence[Record]) -> str:
    return (
        f"{sum(float(line['originalUnitPrice']) * line['currentQuantity'] for line in lines):.2f}"
    )


def location(number: int, name: str, *, is_primary: bool = False) -> Record:
    return {
        "__typename": "Location",
        "id": gid("Location", number),
        "legacyResourceId": str(number),
        "name": name,
        "isActive": True,
        "isPrimary": is_primary,
        "isFulfillmentService": False,
        "fulfillmentService": None,
        "shipsInventory": True,
        "fulfillsOnlineOrders": True,
        "address": {
            "address1": "1 Warehouse Way",
            "city": "Berlin",
            "countryCode": "DE",
            "zip": "10115",
            "formatted": ["1 Warehouse Way", "10115 Berlin"],
        },
    }


def fulfillment_order(
    number: int, order: Record, where: Record, spec: FulfillmentOrderSpec
) -> Record:
    return {
        "__typename": "FulfillmentOrder",
        "id": gid("FulfillmentOrder", number),
        "status": spec.status,
        "requestStatus": spec.request_status,
        "order": order,
        "orderId": order["id"],
        "orderName": order["name"],
        "orderProcessedAt": order["processedAt"],
        "createdAt": now_iso(),
        "updatedAt": now_iso(),
        "assignedLocation": assigned_location(where),
        "destination": destination(number, order),
        "fulfillAt": spec.fulfill_at,
        "fulfillBy": None,
        "deliveryMethod": {
            "__typename": "DeliveryMethod",
            "id": gid("DeliveryMethod", number),
            "methodType": spec.delivery_method,
            "presentedName": spec.delivery_method.replace("_", " ").capitalize(),
        },
        "lineItems": [],
        "merchantRequests": [],
        "fulfillments": [],
        "fulfillmentHolds": [],
        "supportedActions": [],
    }


def assigned_location(where: Record) -> Record:
    return {
        "__typename": "FulfillmentOrderAssignedLocation",
        "name": where["name"],
        "address1": where["address"]["address1"],
        "city": where["address"]["city"],
        "countryCode": where["address"]["countryCode"],
        "zip": where["address"]["zip"],
        "location": where,
    }


def destination(number: int, order: Record) -> Record:
    """Return an FO destination copied from the order's shipping address."""
    shipping = order.get("shippingAddress") or {}
    copied = (
        "firstName",
        "lastName",
        "company",
        "address1",
        "address2",
        "city",
        "province",
        "zip",
        "phone",
    )
    return {
        "__typename": "FulfillmentOrderDestination",
        "id": gid("FulfillmentOrderDestination", number),
        **{key: shipping.get(key) for key in copied},
        "countryCode": shipping.get("countryCodeV2"),
        "email": order.get("email"),
    }


def fulfillment_order_line(number: int, line: Record, quantity: int | None = None) -> Record:
    quantity = line["quantity"] if quantity is None else quantity
    return {
        "__typename": "FulfillmentOrderLineItem",
        "id": gid("FulfillmentOrderLineItem", number),
        "totalQuantity": quantity,
        "remainingQuantity": quantity,
        "sku": line["sku"],
        "lineItem": line,
        "variant": line["variant"],
        "productTitle": line["title"],
        "variantTitle": line["variantTitle"],
        "vendor": line["vendor"],
        "requiresShipping": line["requiresShipping"],
        "warnings": [],
    }


def fulfillment_hold(
    number: int, reason: str, notes: str | None = None, handle: str | None = None
) -> Record:
    return {
        "__typename": "FulfillmentHold",
        "id": gid("FulfillmentHold", number),
        "reason": reason,
        "reasonNotes": notes,
        "handle": handle,
        "displayReason": reason.replace("_", " ").capitalize(),
        "heldByRequestingApp": False,
    }


def tracking_info(tracking: Mapping[str, Any]) -> list[Record]:
    """Turn a FulfillmentTrackingInput into the list Fulfillment.trackingInfo answers."""
    numbers = list(tracking.get("numbers") or []) or [tracking.get("number")]
    urls = list(tracking.get("urls") or []) or [tracking.get("url")]
    company = tracking.get("company")
    return [
        {
            "__typename": "FulfillmentTrackingInfo",
            "company": company,
            "number": number,
            "url": urls[index] if index < len(urls) else None,
        }
        for index, number in enumerate(numbers)
        if number is not None or index == 0
    ]
