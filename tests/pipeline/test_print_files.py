"""From a paid Shopify order to the supplier's HTTP request: every item reaches its supplier
with the print files the catalog (and the customer's personalisation) give it.

The requests are recorded as they leave the adapters' HTTP session, so this checks what was
sent, not what a sandbox chose to keep.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import requests

from integrator.sandbox.shopify import LineSpec
from integrator.sandbox.stack import Stack

from .conftest import drain, items_of

ART = "https://example.com/art"
CREATE = {
    "/orders": "printful",
    "/v1/shops/2002/orders.json": "printify",
    "/v4/orders": "gelato",
    "/v4.0/Orders": "prodigi",
}


def record_orders(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    """Order-creation bodies by supplier, as the adapters send them."""
    sent: dict[str, list[dict[str, Any]]] = {}

    def hook(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        request = response.request
        supplier = CREATE.get(urlsplit(request.url or "").path)
        if request.method == "POST" and supplier is not None and request.body:
            sent.setdefault(supplier, []).append(json.loads(request.body))

    # every adapter of the in-process stack shares one session
    stack.container.adapter("printful").http.session.hooks["response"].append(hook)
    return sent


def test_every_item_reaches_its_supplier_with_its_print_files(stack: Stack) -> None:
    sent = record_orders(stack)
    order = stack.shop.create_order(
        [
            LineSpec("TEE-BLK-M-DTG"),
            LineSpec("TEE-BLK-M-MONO", properties={"Monogram": "AL"}),
            LineSpec("CANVAS-30X40"),
            LineSpec("MUG-11OZ-WHT"),
        ]
    )  # shipped to Berlin: the canvas goes to Gelato, the mug to Prodigi
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack)

    line_of = {item.sku: item.shopify_line_item_id for item in items_of(stack)}
    assert {item.stage for item in items_of(stack)} == {"submitted"}
    assert sorted(sent) == ["gelato", "printful", "prodigi"]
    ((printful,), (gelato,), (prodigi,)) = sent["printful"], sent["gelato"], sent["prodigi"]
    assert {i["external_id"]: (i["variant_id"], i["files"]) for i in printful["items"]} == {
        line_of["TEE-BLK-M-DTG"]: (4017, [{"type": "front", "url": f"{ART}/logo-tee-front.png"}]),
        line_of["TEE-BLK-M-MONO"]: (
            4017,
            [
                {"type": "front", "url": f"{ART}/monogram-tee-base.png"},
                {
                    "type": "embroidery_chest_left",
                    "url": "https://example.com/render/monogram.png?text=AL",
                },
            ],
        ),
    }
    assert [(i["itemReferenceId"], i["productUid"], i["files"]) for i in gelato["items"]] == [
        (
            line_of["CANVAS-30X40"],
            "canvas_300x400-mm-12x16-inch_canvas_wood-fsc-slim_4-0_ver",
            [{"type": "default", "url": f"{ART}/mountains-30x40.png"}],
        )
    ]
    assert [(i["merchantReference"], i["sku"], i["assets"]) for i in prodigi["items"]] == [
        (
            line_of["MUG-11OZ-WHT"],
            "GLOBAL-MUG-11OZ",
            [{"printArea": "default", "url": f"{ART}/mug-wrap.png"}],
        )
    ]
