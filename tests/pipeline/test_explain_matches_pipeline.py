"""`integrator route explain` on the enrichment query's answer decides exactly as the pipeline
did for the same order: the fulfillment-order decisions (wait with Shopify's reason, skip
naming the location) included."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from integrator.cli.route import route
from integrator.sandbox.shopify import FulfillmentOrderSpec, LineSpec
from integrator.sandbox.stack import Stack

from .conftest import drain, items_of

CONFIG = Path(__file__).parents[2] / "config"


def test_explain_on_the_enrichment_answer_decides_as_production(
    stack: Stack, tmp_path: Path
) -> None:
    stack.configure_shopify(locations=("Shop location",))
    order = stack.shop.create_order(
        [
            LineSpec("TEE-BLK-M-DTG", 2),
            LineSpec("MUG-11OZ-WHT"),
            LineSpec("CANVAS-30X40"),
            LineSpec("HAT-NAVY-EMB"),
            LineSpec("POSTER-A3"),
        ],
        fulfillment_orders=[
            FulfillmentOrderSpec(lines=[0]),
            FulfillmentOrderSpec(lines=[1], status="ON_HOLD", hold_reason="HIGH_RISK_OF_FRAUD"),
            FulfillmentOrderSpec(lines=[2], status="SCHEDULED", fulfill_at="2027-01-05T09:00:00Z"),
            FulfillmentOrderSpec(lines=[3], location_name="Main warehouse"),
        ],
    )
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack)
    produced = [(i.shopify_line_item_id, i.disposition, i.reason) for i in items_of(stack, order)]

    answer = stack.container.shopify.execute(
        stack.options.shop,
        "order_for_routing",
        # one page holding every line and fulfillment order (production reads further pages)
        {
            "orderId": order["id"],
            "metafieldKeys": ["custom.decoration_method"],
            "lines": 10,
            "fulfillmentOrders": 10,
        },
    )
    saved = tmp_path / "order.json"
    saved.write_text(json.dumps({"data": answer}))
    runner = CliRunner()
    env = {"INTEGRATOR_CONFIG_DIR": str(CONFIG), "SHOPIFY_SHOP": None}
    args = [str(saved), "--shop", stack.options.shop, "--location", "Shop location"]
    explained = json.loads(runner.invoke(route, ["explain", *args, "--json"], env=env).output)
    text = runner.invoke(route, ["explain", *args], env=env).output

    assert [(i["line_item_id"], i["decision"], i["reason"]) for i in explained["items"]] == produced
    assert [i["decision"] for i in explained["items"]] == ["route", "wait", "wait", "skip", "skip"]
    assert explained["items"][0]["routed_quantity"] == 2
    assert "  decision:   WAIT\n  reason:     on hold in Shopify at Shop location: high risk" in text
    assert "due 2027-01-05 09:00 UTC" in text
    assert "1 assigned to Main warehouse, which is not one of shopify.locations" in text
    # the poster is in no fulfillment order at all (Shopify hides another app's from us)
    assert "1 in no fulfillment order this app can see" in text
    assert "fulfillment orders (merchant-managed):" in text
