"""One harness per supplier: its sandbox mounted in-process, an adapter pointed at it, and a
receiver standing in for our callback endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from integrator.domain.model import (
    Address,
    PrintFile,
    SupplierEvent,
    SupplierItemSpec,
    SupplierLine,
    SupplierOrderRequest,
)
from integrator.sandbox.suppliers import SANDBOXES, SandboxSupplier
from integrator.sandbox.suppliers.transport import mount
from integrator.suppliers.base import SupplierAdapter
from integrator.suppliers.http import CircuitBreaker, RateLimiter
from integrator.suppliers.registry import build_adapter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "suppliers"
API_KEY = "sandbox-key"
SECRET = "s3cret-callback-token-0123456789abcdef"  # 32+ characters, as setup requires
RECEIVER = "http://integrator.test"
# adapter read timeout and how long a "timeout" fault makes the sandbox sleep
READ_TIMEOUT = 1.0  # 0.25 s timed out ordinary calls on the shared machine at load 16
SANDBOX_SLEEP = 1.5

OPTIONS: dict[str, dict[str, Any]] = {
    "printful": {"store_id": "12", "confirm": True},
    "printify": {"shop_id": "815256", "send_to_production": False},
    "gelato": {"order_type": "order"},
    "prodigi": {},
}
IDENTIFIERS: dict[str, list[dict[str, str]]] = {
    "printful": [{"variant_id": "4011"}, {"variant_id": "4012"}],
    "printify": [{"product_id": "5d39b159e7c48c000728c89f", "variant_id": "6202"},
                 {"product_id": "5d39b159e7c48c000728c89f", "variant_id": "6203"}],
    "gelato": [{"product_uid": "apparel_product_gca_t-shirt_gsc_crewneck_gcu_unisex_gqa_classic"
                               "_gsi_s_gco_white_gpr_4-4"},
               {"product_uid": "poster_product_pf_a4_pt_200-gsm-poster-paper_cl_4-0_ver"}],
    "prodigi": [{"sku": "GLOBAL-PHO-12X16-PRO-LUS"}, {"sku": "GLOBAL-CAN-10X10"}],
}
UNAVAILABLE = {"printful": "9999", "printify": "9999", "gelato": "discontinued_uid",
               "prodigi": "GLOBAL-GONE"}
LINE_IDS = ("111", "222")
CREATE_PATHS = {"printful": "/orders", "printify": "/v1/shops/815256/orders.json",
                "gelato": "/v4/orders", "prodigi": "/v4.0/Orders"}


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    query: dict[str, str]


@dataclass
class Harness:
    key: str
    sandbox: SandboxSupplier
    adapter: SupplierAdapter
    received: list[Received] = field(default_factory=list)

    def request(self, order_id: str = "820982911946154508", *,
                identifiers: list[dict[str, str]] | None = None,
                recipient: Address | None = None) -> SupplierOrderRequest:
        ids = identifiers or IDENTIFIERS[self.key]
        lines = tuple(
            SupplierLine(
                line_item_id=LINE_IDS[n],
                quantity=n + 1,
                # a product saved in a Printify shop prints its own artwork: no files for it
                spec=SupplierItemSpec(ids[n], files=() if "product_id" in ids[n] else (
                    PrintFile("front", f"https://cdn.test/{n}.png"),)),
                title=f"Item {n}",
            )
            for n in range(len(ids))
        )
        return SupplierOrderRequest(
            external_ref=self.adapter.reference_for("shop.myshopify.com", order_id),
            shop="shop.myshopify.com",
            order_id=order_id,
            order_name="#1001",
            recipient=recipient or Address(
                name="Jane Doe", address1="19749 Dearborn St", city="Chatsworth",
                province_code="CA", zip="91311", country_code="US", email="jane@example.com"),
            lines=lines,
        )

    def fail_create(self, fault: str, times: int = 1) -> None:
        self.sandbox.faults.fail_next(fault, times, method="POST", path=CREATE_PATHS[self.key])

    def item_key(self, line_item_id: str) -> str:
        """How ``sandbox.advance`` names one of our lines: by our line item id, which every
        adapter sends as the item's reference (Printify: line item ``external_id``)."""
        return line_item_id

    def events(self, body: bytes) -> list[SupplierEvent]:
        """A callback as the pipeline reads it: parsed, then completed from the supplier."""
        return self.adapter.complete_events(self.adapter.parse_callback(body))


def receiver(harness_ref: list[Harness]) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        harness_ref[0].received.append(Received(
            dict(request.headers.items()), request.get_data(), dict(request.args.items())))
        return Response("", status=200)(environ, start_response)

    return app


def make_harness(key: str, adapter_options: dict[str, Any] | None = None,
                 **sandbox_kwargs: Any) -> Harness:
    sandbox = SANDBOXES[key](api_key=API_KEY, callback_secret=SECRET,
                             unavailable={UNAVAILABLE[key]}, **sandbox_kwargs)
    sandbox.faults.timeout_sleep_seconds = SANDBOX_SLEEP
    session = requests.Session()
    base_url = f"http://{key}.sandbox"
    mount(session, base_url, sandbox)
    options = {**OPTIONS[key], "api_key": API_KEY, "callback_secret": SECRET,
               "timeout_seconds": READ_TIMEOUT, **(adapter_options or {})}
    adapter = build_adapter(key, key, base_url, options, session,
                            breaker=CircuitBreaker(threshold=50),
                            limiter=RateLimiter(10_000), get_wait_seconds=0)
    harness = Harness(key, sandbox, adapter)
    ref = [harness]
    mount(session, RECEIVER, receiver(ref))
    sandbox.callback_session = session
    sandbox.callback_url = f"{RECEIVER}/webhooks/suppliers/{key}?token={SECRET}"
    return harness


@pytest.fixture(params=sorted(SANDBOXES))
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    made = make_harness(request.param)
    yield made
    made.sandbox.wait_idle()


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))
