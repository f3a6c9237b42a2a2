"""`route explain` on every Shopify order sample and the demo orders; `config check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from integrator.cli.config_check import config
from integrator.cli.route import route

ROOT = Path(__file__).parents[2]
DEFAULT_CONFIG = ROOT / "config"
SHOPIFY_SAMPLES = ROOT / "tests" / "fixtures" / "shopify"
DEMO_ORDERS = Path(__file__).parent / "fixtures"


def order_samples() -> list[Path]:
    return sorted(SHOPIFY_SAMPLES.glob("orders_*.json"))


def other_samples() -> list[Path]:
    return sorted(set(SHOPIFY_SAMPLES.glob("*.json")) - set(order_samples()))


def run(*args: str, config_dir: Path = DEFAULT_CONFIG, command: object = route) -> object:
    runner = CliRunner()
    return runner.invoke(
        command,
        list(args),  # type: ignore[arg-type]
        env={"INTEGRATOR_CONFIG_DIR": str(config_dir), "SHOPIFY_SHOP": None},
    )


def test_there_are_order_samples() -> None:
    assert {path.name for path in order_samples()} >= {"orders_paid.json", "orders_create.json"}


@pytest.mark.parametrize("sample", order_samples(), ids=lambda path: path.name)
def test_explain_text_on_shopify_sample(sample: Path) -> None:
    payload = json.loads(sample.read_text())
    result = run("explain", str(sample))
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(
        f"Order {payload['name']} (820982911946154508) shop jsmith.myshopify.com, ship to US\n"
        "note: the order is cancelled (financial status VOIDED)\n"
    )
    for position, item in enumerate(payload["line_items"], start=1):
        line_id = item["admin_graphql_api_id"].rsplit("/", 1)[-1]
        assert (
            f"#{position} {item['title']} x{item['quantity']}  (line {line_id}, "
            f"sku {item['sku']})" in out
        )
    # Shopify's samples are test orders ("test": true): held by the default test_orders: hold
    assert out.count("  decision:   HOLD\n") == len(payload["line_items"])
    assert out.count(
        "  reason:     test order: held (shopify.test_orders: hold; set route to produce it)\n"
    ) == len(payload["line_items"])
    assert out.count("  unknown:    product_type, tags, decoration, catalog entry\n") == len(
        payload["line_items"]
    )
    assert "note: a test order (shopify.test_orders decides)\n" in out
    assert out.endswith(
        f"0 route, {len(payload['line_items'])} hold, 0 ignore, 0 skip, 0 wait. "
        "Supplier orders: none.\n"
    )


def config_with(tmp_path: Path, shopify_section: str) -> Path:
    """The default configuration with another ``shopify:`` section."""
    routing = (DEFAULT_CONFIG / "routing.yaml").read_text()
    start = routing.index("\nshopify:\n")
    end = routing.index("\nproduction:")
    (tmp_path / "routing.yaml").write_text(
        routing[:start] + "\nshopify:\n" + shopify_section + routing[end:]
    )
    (tmp_path / "catalog.yaml").write_text((DEFAULT_CONFIG / "catalog.yaml").read_text())
    return tmp_path


@pytest.mark.parametrize("sample", order_samples(), ids=lambda path: path.name)
def test_explain_routes_test_orders_when_told_to(sample: Path, tmp_path: Path) -> None:
    config_dir = config_with(tmp_path, "  test_orders: route\n")
    payload = json.loads(sample.read_text())
    out = run("explain", str(sample), config_dir=config_dir).output
    # the samples' products are not in the demo catalog: every item is held, and says why
    assert out.count("  decision:   HOLD\n") == len(payload["line_items"])
    assert "no catalog entry for sku SKU2006-001; unmatched: hold" in out
    assert "test_orders: hold" not in out


@pytest.mark.parametrize("sample", order_samples(), ids=lambda path: path.name)
def test_explain_ignores_test_orders_when_told_to(sample: Path, tmp_path: Path) -> None:
    config_dir = config_with(tmp_path, "  test_orders: ignore\n")
    payload = json.loads(sample.read_text())
    explained = json.loads(run("explain", str(sample), "--json", config_dir=config_dir).output)
    assert [(i["decision"], i["reason"]) for i in explained["items"]] == [
        ("ignore", "test order (shopify.test_orders: ignore)")
    ] * len(payload["line_items"])


@pytest.mark.parametrize("sample", order_samples(), ids=lambda path: path.name)
def test_explain_json_on_shopify_sample(sample: Path) -> None:
    payload = json.loads(sample.read_text())
    result = run("explain", str(sample), "--json")
    assert result.exit_code == 0, result.output
    explained = json.loads(result.output)
    assert explained["order"] == {
        "id": "820982911946154508",
        "name": payload["name"],
        "shop": "jsmith.myshopify.com",
        "ship_to_country": "US",
        "financial_status": "VOIDED",
        "cancelled": True,
        "test": True,
        "fulfillment_mode": "merchant-managed",
        "fulfillment_orders_known": False,
        "fulfillment_orders": [],
        "fulfilled_at_payment": False,
    }
    assert [item["line_item_id"] for item in explained["items"]] == [
        item["admin_graphql_api_id"].rsplit("/", 1)[-1] for item in payload["line_items"]
    ]
    for item in explained["items"]:
        assert item["decision"] == "hold" and item["supplier"] is None
        assert item["product_type"] is None and item["catalog_entry"] is None
        assert item["unknown"] == ["product_type", "tags", "decoration", "catalog entry"]
    assert explained["supplier_orders"] == {}


@pytest.mark.parametrize("sample", other_samples(), ids=lambda path: path.name)
def test_explain_refuses_payloads_that_are_not_orders(sample: Path) -> None:
    result = run("explain", str(sample))
    assert result.exit_code == 1
    assert "not an order payload" in result.output


def test_explain_graphql_demo_order() -> None:
    result = run("explain", str(DEMO_ORDERS / "demo_order_graphql.json"), "--json")
    assert result.exit_code == 0, result.output
    items = {item["sku"] or item["title"]: item for item in json.loads(result.output)["items"]}
    summary = {
        key: (
            item["decision"],
            item["supplier"],
            item["rule"],
            item["decoration"],
            item["decoration_source"],
        )
        for key, item in items.items()
    }
    assert summary == {
        "TEE-BLK-M-DTG": ("route", "printful", "printed tees", "dtg", "sku_suffix:-DTG"),
        "HAT-NAVY-EMB": (
            "route",
            "printful",
            "embroidered headwear and hoodies",
            "embroidery",
            "variant_option:Decoration",
        ),
        "CANVAS-30X40": (
            "route",
            "gelato",
            "wall art to Europe",
            "none",
            "product_metafield:custom.decoration_method",
        ),
        "TEE-BLK-M-MONO": (
            "route",
            "printful",
            "personalised tees",
            "embroidery",
            "sku_pattern:-MONO$",
        ),
        "Gift card": ("skip", None, None, None, None),
        "STICKER-01": ("hold", None, None, None, None),
    }
    monogram = items["TEE-BLK-M-MONO"]["spec"]
    assert monogram["files"][-1] == {
        "placement": "embroidery_chest_left",
        "kind": "default",
        "url": "https://example.com/render/monogram.png?text=AL",
    }
    assert monogram["options"] == {"monogram_font": "serif"}
    assert monogram["packing_note"] == "Gift message: Happy birthday"
    assert items["CANVAS-30X40"]["spec"]["identifiers"] == {
        "product_uid": "canvas_300x400-mm-12x16-inch_canvas_wood-fsc-slim_4-0_ver"
    }


def test_explain_rest_demo_order_uses_catalog_hints() -> None:
    result = run("explain", str(DEMO_ORDERS / "demo_order_rest.json"))
    assert result.exit_code == 0, result.output
    assert "shop demo-store.myshopify.com, ship to US" in result.output
    assert "  product:    type Poster (from catalog), tags wall-art (from catalog)" in result.output
    assert "  decoration: uv_print (from line_item_property:Decoration)" in result.output
    assert result.output.endswith(
        "3 route, 0 hold, 0 ignore, 1 skip, 0 wait. Supplier orders: "
        "printify: 1 item(s); prodigi: 2 item(s).\n"
    )


def test_explain_reports_config_problems(tmp_path: Path) -> None:
    (tmp_path / "routing.yaml").write_text("suppliers: {}\nrules:\n  - {supplier: nobody}\n")
    (tmp_path / "catalog.yaml").write_text("[]\n")
    result = run("explain", str(DEMO_ORDERS / "demo_order_rest.json"), config_dir=tmp_path)
    assert result.exit_code == 1
    assert "routing.yaml:3: rules[0].supplier: unknown supplier 'nobody'" in result.output


def test_config_check_passes_on_the_default_config() -> None:
    result = run("check", command=config)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK shared: ")
    assert "4 suppliers (printful, printify, gelato, prodigi)" in result.output


def test_config_check_checks_every_shop() -> None:
    result = run("check", config_dir=DEFAULT_CONFIG / "examples" / "multi-shop", command=config)
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == [
        "OK shared",
        "OK acme-prints.myshopify.com",
        "OK tee-lab.myshopify.com",
    ]


def test_config_check_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "routing.yaml").write_text(
        "suppliers:\n  printful: {adapter: printfool, api_key: k}\n"
        "rules:\n  - {name: a, supplier: printful, fallback: [gelato]}\n"
    )
    (tmp_path / "catalog.yaml").write_text("- sku: A\n  gelato: {}\n")
    result = run("check", config_dir=tmp_path, command=config)
    assert result.exit_code == 1
    routing, catalog = tmp_path / "routing.yaml", tmp_path / "catalog.yaml"
    assert result.output.splitlines() == [
        f"{catalog}:2: [0].gelato: unknown supplier 'gelato' (not under suppliers: in "
        "routing.yaml)",
        f"{routing}:2: suppliers.printful.adapter: unknown adapter 'printfool' (known: "
        "printful, printify, gelato, prodigi)",
        f"{routing}:4: rules[0].fallback[0]: unknown supplier 'gelato' (configured: printful)",
        f"Error: 3 problem(s) in {tmp_path}",
    ]


def test_explain_uses_the_shops_own_routing() -> None:
    examples = DEFAULT_CONFIG / "examples" / "multi-shop"
    order_file = str(DEMO_ORDERS / "demo_order_rest.json")
    result = run(
        "explain", order_file, "--json", "--shop", "acme-prints.myshopify.com", config_dir=examples
    )
    assert result.exit_code == 0, result.output
    explained = json.loads(result.output)
    assert explained["config_files"] == [
        str(examples / "shops" / "acme-prints.myshopify.com" / "routing.yaml"),
        str(examples / "catalog.yaml"),
    ]
    first = explained["items"][0]
    assert (first["decision"], first["rule"], first["reason"]) == (
        "hold",
        "everything to gelato",
        "rule 'everything to gelato' → gelato, but there is no catalog entry for "
        "sku POSTER-A3 / variant 7101",
    )
