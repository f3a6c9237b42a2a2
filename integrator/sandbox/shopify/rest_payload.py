"""REST-shaped webhook bodies (``orders/*``) for sandbox orders.

Same keys as Shopify's documented ``orders/paid`` example (tests/fixtures/shopify/
orders_paid.json); values come from the order record, the rest are Shopify's neutral defaults.
"""

from __future__ import annotations

from typing import Any

from integrator.sandbox.shopify.records import Record, number_of

FINANCIAL_STATUS = {
    "PAID": "paid",
    "PENDING": "pending",
    "AUTHORIZED": "authorized",
    "PARTIALLY_PAID": "partially_paid",
    "REFUNDED": "refunded",
    "VOIDED": "voided",
    "PARTIALLY_REFUNDED": "partially_refunded",
}
FULFILLMENT_STATUS = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}


def order_payload(order: Record, shop_domain: str) -> dict[str, Any]:
    """Return the body Shopify posts for ``orders/create|paid|updated|cancelled``."""
    total = order["totalPriceSet"]["shopMoney"]["amount"]
    zero = _money_set("0.00")
    payload: dict[str, Any] = {
        "id": int(number_of(order["id"])),
        "admin_graphql_api_id": order["id"],
        "app_id": None,
        "browser_ip": None,
        "buyer_accepts_marketing": False,
        "cancel_reason": (order["cancelReason"] or "").lower() or None,
        "cancelled_at": order["cancelledAt"],
        "cart_token": None,
        "checkout_token": None,
        "client_details": None,
        "closed_at": order["closedAt"],
        "confirmation_number": None,
        "confirmed": True,
        "contact_email": order["email"],
        "created_at": order["createdAt"],
        "currency": "USD",
        "current_shipping_price_set": zero,
        "current_subtotal_price": total,
        "current_subtotal_price_set": _money_set(total),
        "current_total_additional_fees_set": None,
        "current_total_discounts": "0.00",
        "current_total_discounts_set": zero,
        "current_total_duties_set": None,
        "current_total_price": total,
        "current_total_price_set": _money_set(total),
        "current_total_tax": "0.00",
        "current_total_tax_set": zero,
        "customer_locale": "en",
        "device_id": None,
        "discount_codes": [],
        "duties_included": False,
        "email": order["email"],
        "estimated_taxes": False,
        "financial_status": FINANCIAL_STATUS.get(order["displayFinancialStatus"], "pending"),
        "fulfillment_status": FULFILLMENT_STATUS.get(order["displayFulfillmentStatus"]),
        "landing_site": None,
        "landing_site_ref": None,
        "location_id": None,
        "merchant_business_entity_id": None,
        "merchant_of_record_app_id": None,
        "name": order["name"],
        "note": order["note"],
        "note_attributes": [],
        "number": order["number"],
        "order_number": int(order["name"].lstrip("#")),
        "order_status_url": f"https://{shop_domain}/orders/{number_of(order['id'])}/authenticate",
        "original_total_additional_fees_set": None,
        "original_total_duties_set": None,
        "payment_gateway_names": list(order["paymentGatewayNames"]),
        "phone": order["phone"],
        "po_number": None,
        "presentment_currency": "USD",
        "processed_at": order["processedAt"],
        "reference": None,
        "referring_site": None,
        "source_identifier": None,
        "source_name": "web",
        "source_url": None,
        "subtotal_price": total,
        "subtotal_price_set": _money_set(total),
        "tags": ", ".join(order["tags"]),
        "tax_exempt": False,
        "tax_lines": [],
        "taxes_included": False,
        "test": bool(order["test"]),
        "token": f"sandbox{number_of(order['id'])}",
        "total_cash_rounding_payment_adjustment_set": zero,
        "total_cash_rounding_refund_adjustment_set": zero,
        "total_discounts": "0.00",
        "total_discounts_set": zero,
        "total_line_items_price": total,
        "total_line_items_price_set": _money_set(total),
        "total_outstanding": order["totalOutstandingSet"]["shopMoney"]["amount"],
        "total_price": total,
        "total_price_set": _money_set(total),
        "total_shipping_price_set": zero,
        "total_tax": "0.00",
        "total_tax_set": zero,
        "total_tip_received": "0.00",
        "total_weight": 0,
        "updated_at": order["updatedAt"],
        "user_id": None,
        "billing_address": _address(order["billingAddress"]),
        "customer": _customer(order),
        "discount_applications": [],
        "fulfillments": [_fulfillment(f, order) for f in order["fulfillments"]],
        "line_items": [_line_item(line) for line in order["lineItems"]],
        "line_item_groups": [],
        "payment_terms": None,
        "refunds": [],
        "returns": [],
        "shipping_address": _address(order["shippingAddress"]),
        "shipping_lines": [],
    }
    return payload


def shop_payload(shop: Record, primary_location: Record) -> dict[str, Any]:
    """Return the shop object Shopify posts for ``app/uninstalled`` (sample's keys)."""
    address = primary_location["address"]
    email = shop["email"]
    return {
        "id": int(number_of(shop["id"])),
        "name": shop["name"],
        "email": email,
        "domain": None,
        "province": None,
        "country": address["countryCode"],
        "address1": address["address1"],
        "zip": address["zip"],
        "city": address["city"],
        "source": None,
        "phone": None,
        "latitude": None,
        "longitude": None,
        "primary_locale": "en",
        "address2": None,
        "created_at": None,
        "updated_at": None,
        "country_code": address["countryCode"],
        "country_name": address["countryCode"],
        "currency": shop["currencyCode"],
        "customer_email": email,
        "timezone": "(GMT+00:00) UTC",
        "iana_timezone": shop["ianaTimezone"],
        "shop_owner": "Sandbox Owner",
        "money_format": "${{amount}}",
        "money_with_currency_format": "${{amount}} USD",
        "weight_unit": "kg",
        "province_code": None,
        "taxes_included": None,
        "auto_configure_tax_inclusivity": None,
        "tax_shipping": None,
        "county_taxes": None,
        "plan_display_name": shop["plan"]["displayName"],
        "plan_name": "advanced",
        "has_discounts": False,
        "has_gift_cards": False,
        "myshopify_domain": shop["myshopifyDomain"],
        "google_apps_domain": None,
        "google_apps_login_enabled": None,
        "money_in_emails_format": "${{amount}}",
        "money_with_currency_in_emails_format": "${{amount}} USD",
        "eligible_for_payments": True,
        "requires_extra_payments_agreement": False,
        "password_enabled": None,
        "has_storefront": True,
        "finances": True,
        "primary_location_id": int(number_of(primary_location["id"])),
        "checkout_api_supported": True,
        "multi_location_enabled": True,
        "setup_required": False,
        "pre_launch_enabled": False,
        "enabled_presentment_currencies": ["USD"],
        "marketing_sms_consent_enabled_at_checkout": False,
        "transactional_sms_disabled": False,
    }


def _money_set(amount: str) -> dict[str, Any]:
    money = {"amount": amount, "currency_code": "USD"}
    return {"shop_money": money, "presentment_money": dict(money)}


def _address(address: Record | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "first_name": address["firstName"],
        "address1": address["address1"],
        "phone": address["phone"],
        "city": address["city"],
        "zip": address["zip"],
        "province": address["province"],
        "country": address["country"],
        "last_name": address["lastName"],
        "address2": address["address2"],
        "company": address["company"],
        "latitude": None,
        "longitude": None,
        "name": address["name"],
        "country_code": address["countryCodeV2"],
        "province_code": address["provinceCode"],
    }


def _customer(order: Record) -> dict[str, Any]:
    number = int(number_of(order["id"])) + 7
    names = order["shippingAddress"] or order["billingAddress"]
    return {
        "id": number,
        "created_at": order["createdAt"],
        "updated_at": order["updatedAt"],
        "first_name": names["firstName"],
        "last_name": names["lastName"],
        "state": "disabled",
        "note": None,
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "email": order["email"],
        "phone": None,
        "currency": "USD",
        "tax_exemptions": [],
        "admin_graphql_api_id": f"gid://shopify/Customer/{number}",
        "default_address": {
            **(_address(names) or {}),
            "id": number + 1,
            "customer_id": number,
            "default": True,
        },
    }


def _line_item(line: Record) -> dict[str, Any]:
    price = line["originalUnitPrice"]
    variant, owner = line["variant"], line["product"]
    return {
        "id": int(number_of(line["id"])),
        "admin_graphql_api_id": line["id"],
        "attributed_staffs": [],
        "current_quantity": line["currentQuantity"],
        "fulfillable_quantity": line["fulfillableQuantity"],
        "fulfillment_service": "manual",
        "fulfillment_status": {"fulfilled": "fulfilled", "partial": "partial"}.get(
            line["fulfillmentStatus"]
        ),
        "gift_card": False,
        "grams": 100,
        "name": line["name"],
        "price": price,
        "price_set": _money_set(price),
        "product_exists": owner is not None,
        "product_id": int(number_of(owner["id"])) if owner else None,
        "properties": [{"name": a["key"], "value": a["value"]} for a in line["customAttributes"]],
        "quantity": line["quantity"],
        "requires_shipping": line["requiresShipping"],
        "sales_line_item_group_id": None,
        "sku": line["sku"],
        "taxable": True,
        "title": line["title"],
        "total_discount": "0.00",
        "total_discount_set": _money_set("0.00"),
        "variant_id": int(number_of(variant["id"])) if variant else None,
        "variant_inventory_management": "shopify" if variant else None,
        "variant_title": line["variantTitle"],
        "vendor": line["vendor"],
        "tax_lines": [],
        "duties": [],
        "discount_allocations": [],
    }


def _fulfillment(fulfillment: Record, order: Record) -> dict[str, Any]:
    tracking = fulfillment["trackingInfo"]
    return {
        "id": int(number_of(fulfillment["id"])),
        "admin_graphql_api_id": fulfillment["id"],
        "order_id": int(number_of(order["id"])),
        "name": fulfillment["name"],
        "status": "success",
        "created_at": fulfillment["createdAt"],
        "updated_at": fulfillment["updatedAt"],
        "tracking_company": tracking[0]["company"] if tracking else None,
        "tracking_number": tracking[0]["number"] if tracking else None,
        "tracking_numbers": [t["number"] for t in tracking],
        "tracking_url": tracking[0]["url"] if tracking else None,
        "tracking_urls": [t["url"] for t in tracking],
        "line_items": [
            {
                "id": int(number_of(item["lineItem"]["id"])),
                "quantity": item["quantity"],
                "sku": item["lineItem"]["sku"],
            }
            for item in fulfillment["fulfillmentLineItems"]
        ],
    }
