"""The exact order each adapter sends its supplier, print files included.

Bodies are recorded as they leave the adapter's HTTP session (a response hook on it), so the
assertions hold whatever the sandbox keeps. Each expected body is written out from the
supplier's published order-creation shape (reference/suppliers/api-notes.md §1.1, §2.1, §3.1,
§4.1), not copied from the adapter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from integrator.domain.model import (
    Address,
    PrintFile,
    SupplierItemSpec,
    SupplierLine,
    SupplierOrderRequest,
)
from integrator.suppliers.errors import SupplierRequestIncomplete
from tests.suppliers.conftest import CREATE_PATHS, Harness, make_harness

REFERENCE = "a1b2c3d4e5f6-1001"
SHOP = "shop.myshopify.com"
FRONT = "https://cdn.example.com/art/logo-front.png"
BACK = "https://cdn.example.com/art/logo-back.png"
POSTER = "https://cdn.example.com/art/mountains-a4.png"
TEE_UID = "apparel_product_gca_t-shirt_gsc_crewneck_gcu_unisex_gqa_classic_gsi_s_gco_white_gpr_4-4"
POSTER_UID = "poster_product_pf_a4_pt_200-gsm-poster-paper_cl_4-0_ver"
RECIPIENT = Address(
    name="Jane Doe",
    company="Doe Prints",
    address1="19749 Dearborn St",
    address2="Suite 4",
    city="Chatsworth",
    province_code="CA",
    zip="91311",
    country_code="US",
    phone="+1 818 555 0100",
    email="jane@example.com",
)


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    query: dict[str, str]
    body: Any


def record_requests(harness: Harness) -> list[Sent]:
    """Every request the adapter's session sends to the supplier, in order."""
    sent: list[Sent] = []
    host = urlsplit(harness.adapter.http.base_url).netloc

    def hook(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        request = response.request
        url = urlsplit(request.url or "")
        if url.netloc != host:
            return  # a callback the sandbox posted to our receiver
        raw = request.body.decode() if isinstance(request.body, bytes) else request.body
        sent.append(
            Sent(
                request.method or "",
                url.path,
                dict(parse_qsl(url.query)),
                json.loads(raw) if raw else None,
            )
        )

    harness.adapter.http.session.hooks["response"].append(hook)
    return sent


def created(harness: Harness, sent: list[Sent]) -> Sent:
    """The one order-creation request among everything the adapter sent."""
    (create,) = [s for s in sent if s.method == "POST" and s.path == CREATE_PATHS[harness.key]]
    return create


def order_request(
    lines: tuple[SupplierLine, ...], shipping_method: str | None
) -> SupplierOrderRequest:
    return SupplierOrderRequest(
        external_ref=REFERENCE,
        shop=SHOP,
        order_id="820982911946154508",
        order_name="#1001",
        recipient=RECIPIENT,
        lines=lines,
        currency="EUR",
        shipping_method=shipping_method,
    )


def test_printful_gets_catalog_variants_with_their_files_and_sync_variants_without() -> None:
    harness = make_harness("printful")
    sent = record_requests(harness)
    request = order_request(
        (
            SupplierLine(
                "111",
                1,
                SupplierItemSpec(
                    {"variant_id": "4011"},
                    files=(PrintFile("front", FRONT), PrintFile("back", BACK)),
                    options={"thread_colors": "#FFFFFF"},
                ),
                title="Logo tee",
            ),
            SupplierLine(
                "222",
                2,
                SupplierItemSpec(
                    {"variant_id": "4012"},
                    files=(PrintFile("front", FRONT, kind="preview"),),
                ),
            ),
            # a sync variant carries its own files at Printful: none are sent
            SupplierLine("333", 1, SupplierItemSpec({"sync_variant_id": "99001"}), title="Hoodie"),
        ),
        shipping_method="STANDARD",
    )

    harness.adapter.submit(request)

    create = created(harness, sent)
    assert create.query == {"confirm": "true"}
    assert create.body == {
        "external_id": REFERENCE,
        "recipient": {
            "name": "Jane Doe",
            "company": "Doe Prints",
            "address1": "19749 Dearborn St",
            "address2": "Suite 4",
            "city": "Chatsworth",
            "state_code": "CA",
            "country_code": "US",
            "zip": "91311",
            "phone": "+1 818 555 0100",
            "email": "jane@example.com",
        },
        "items": [
            {
                "external_id": "111",
                "quantity": 1,
                "variant_id": 4011,
                "files": [{"type": "front", "url": FRONT}, {"type": "back", "url": BACK}],
                "options": [{"id": "thread_colors", "value": "#FFFFFF"}],
                "name": "Logo tee",
            },
            {
                "external_id": "222",
                "quantity": 2,
                "variant_id": 4012,
                "files": [{"type": "preview", "url": FRONT}],
            },
            {"external_id": "333", "quantity": 1, "sync_variant_id": 99001, "name": "Hoodie"},
        ],
        "shipping": "STANDARD",
    }


def test_gelato_gets_every_item_with_its_files() -> None:
    harness = make_harness("gelato")
    sent = record_requests(harness)
    request = order_request(
        (
            SupplierLine(
                "111",
                1,
                SupplierItemSpec(
                    {"product_uid": TEE_UID},
                    files=(PrintFile("default", FRONT), PrintFile("back", BACK)),
                ),
            ),
            SupplierLine(
                "222",
                2,
                SupplierItemSpec({"product_uid": POSTER_UID}, files=(PrintFile("", POSTER),)),
            ),
        ),
        shipping_method="express",
    )

    harness.adapter.submit(request)

    assert created(harness, sent).body == {
        "orderType": "order",
        "orderReferenceId": REFERENCE,
        "customerReferenceId": SHOP,
        "currency": "EUR",
        "items": [
            {
                "itemReferenceId": "111",
                "productUid": TEE_UID,
                "files": [{"type": "default", "url": FRONT}, {"type": "back", "url": BACK}],
                "quantity": 1,
            },
            {
                "itemReferenceId": "222",
                "productUid": POSTER_UID,
                "files": [{"type": "default", "url": POSTER}],
                "quantity": 2,
            },
        ],
        "shippingAddress": {
            "firstName": "Jane",
            "lastName": "Doe",
            "companyName": "Doe Prints",
            "addressLine1": "19749 Dearborn St",
            "addressLine2": "Suite 4",
            "state": "CA",
            "city": "Chatsworth",
            "postCode": "91311",
            "country": "US",
            "email": "jane@example.com",
            "phone": "+1 818 555 0100",
        },
        "shipmentMethodUid": "express",
    }


def test_prodigi_gets_every_item_with_its_assets() -> None:
    callback = "https://integrator.example/webhooks/suppliers/prodigi?token=t0ken"
    harness = make_harness("prodigi", {"callback_url": callback})
    sent = record_requests(harness)
    request = order_request(
        (
            SupplierLine(
                "111",
                1,
                SupplierItemSpec(
                    {"sku": "GLOBAL-PHO-12X16-PRO-LUS"},
                    files=(PrintFile("default", POSTER),),
                    options={"sizing": "fitPrintArea", "color": "black"},
                ),
            ),
            SupplierLine(
                "222",
                2,
                SupplierItemSpec(
                    {"sku": "GLOBAL-CAN-10X10"},
                    files=(PrintFile("", FRONT), PrintFile("back", BACK)),
                ),
            ),
        ),
        shipping_method="Express",
    )

    harness.adapter.submit(request)

    assert created(harness, sent).body == {
        "merchantReference": REFERENCE,
        "idempotencyKey": REFERENCE,
        "shippingMethod": "Express",
        "recipient": {
            "name": "Jane Doe",
            "email": "jane@example.com",
            "phoneNumber": "+1 818 555 0100",
            "address": {
                "line1": "19749 Dearborn St",
                "line2": "Suite 4",
                "postalOrZipCode": "91311",
                "countryCode": "US",
                "townOrCity": "Chatsworth",
                "stateOrCounty": "CA",
            },
        },
        "items": [
            {
                "merchantReference": "111",
                "sku": "GLOBAL-PHO-12X16-PRO-LUS",
                "copies": 1,
                "sizing": "fitPrintArea",
                "attributes": {"color": "black"},
                "assets": [{"printArea": "default", "url": POSTER}],
            },
            {
                "merchantReference": "222",
                "sku": "GLOBAL-CAN-10X10",
                "copies": 2,
                "sizing": "fillPrintArea",
                "attributes": {},
                "assets": [
                    {"printArea": "default", "url": FRONT},
                    {"printArea": "back", "url": BACK},
                ],
            },
        ],
        "callbackUrl": callback,
    }


def test_printify_gets_existing_products_and_skus() -> None:
    """Printify orders name a product already made in the shop (its print areas live there)
    or a SKU (``lineItemWithProduct``, ``lineItemWithSku``)."""
    harness = make_harness("printify")
    sent = record_requests(harness)
    request = order_request(
        (
            SupplierLine(
                "111",
                1,
                SupplierItemSpec({"product_id": "5d39b159e7c48c000728c89f", "variant_id": "6202"}),
            ),
            SupplierLine("222", 2, SupplierItemSpec({"sku": "PHONE-CASE-15"}), sku="CASE-15"),
        ),
        shipping_method=None,
    )

    harness.adapter.submit(request)

    assert created(harness, sent).body == {
        "external_id": REFERENCE,
        "label": "#1001",
        "line_items": [
            # each line carries our line item id, echoed as line_items[].metadata.external_id
            {"product_id": "5d39b159e7c48c000728c89f", "variant_id": 6202, "quantity": 1,
             "external_id": "111"},
            {"sku": "PHONE-CASE-15", "quantity": 2, "external_id": "222"},
        ],
        "shipping_method": 1,
        "send_shipping_notification": False,
        "address_to": {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane@example.com",
            "phone": "+1 818 555 0100",
            "country": "US",
            "region": "CA",
            "address1": "19749 Dearborn St",
            "address2": "Suite 4",
            "city": "Chatsworth",
            "zip": "91311",
        },
    }


def test_printify_gets_print_files_as_the_print_areas_of_a_blueprint_line() -> None:
    """``lineItemWithBlueprint``: ``print_provider_id``, ``blueprint_id``, ``variant_id`` and
    ``print_areas`` (``printAreasSimple``: position → image URL); the sandbox validates the
    body against the published ``submitOrderRequest``."""
    harness = make_harness("printify")
    sent = record_requests(harness)
    request = order_request(
        (
            SupplierLine(
                "111",
                2,
                SupplierItemSpec(
                    {"blueprint_id": "9", "print_provider_id": "5", "variant_id": "17887"},
                    files=(PrintFile("front", FRONT), PrintFile("back", BACK)),
                ),
            ),
        ),
        shipping_method=None,
    )

    harness.adapter.submit(request)

    assert created(harness, sent).body["line_items"] == [
        {"print_provider_id": 5, "blueprint_id": 9, "variant_id": 17887,
         "print_areas": {"front": FRONT, "back": BACK}, "quantity": 2, "external_id": "111"},
    ]  # fmt: skip
    assert harness.sandbox.created_count(REFERENCE) == 1


def test_printify_files_for_a_saved_product_hold_the_order_before_anything_is_sent() -> None:
    """A line by product_id prints the artwork saved with the product: a print file for it
    (a catalog file or a customer's personalised layer) could not reach Printify, so the
    order is refused before any call, naming the file, instead of losing the file."""
    harness = make_harness("printify")
    sent = record_requests(harness)
    request = order_request(
        (
            SupplierLine(
                "111",
                1,
                SupplierItemSpec(
                    {"product_id": "5d39b159e7c48c000728c89f", "variant_id": "6202"},
                    files=(PrintFile("embroidery_chest_left", FRONT),),
                ),
            ),
        ),
        shipping_method=None,
    )

    with pytest.raises(SupplierRequestIncomplete) as held:
        harness.adapter.submit(request)

    assert held.value.reason == (
        "line item 111: print files (embroidery_chest_left) reach Printify only with "
        "blueprint_id and print_provider_id (print_areas); a product_id or sku prints the "
        "product's saved artwork"
    )
    assert sent == []
    assert harness.sandbox.created_count(REFERENCE) == 0
