"""``integrator demo``: the whole flow on this machine, with no accounts.

Sandbox Shopify and sandbox suppliers on loopback, a temporary SQLite database, the web app,
a worker and the clock. A handful of realistic orders go in as signed ``orders/paid``
webhooks; the sandbox suppliers produce, ship (one order in two parcels) and deliver; the
timeline of every item and the Shopify fulfillments come out.

The shop is connected as a fulfillment service (the default for public-app installs, docs/adr/
0002): our service and location are set up and the catalog stocked there, so Shopify splits
an order between the merchant's own location and ours, and only our lines are produced; the
merchant's automation requests fulfillment of our fulfillment orders, which the integrator
accepts, naming the supplier.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from integrator.db.models import ItemEvent, LineItem, Order, Shipment, SupplierOrder
from integrator.domain.statuses import ShipmentSyncStatus, SupplierOrderStatus
from integrator.jobqueue.status import JobStatus
from integrator.pipeline.job_kinds import JobKind
from integrator.sandbox.shopify import AddressSpec, LineSpec, VariantSpec
from integrator.sandbox.stack import Stack, StackOptions

DEADLINE_SECONDS = 50.0
GERMANY = AddressSpec(
    first_name="Grete",
    last_name="Muster",
    city="Berlin",
    zip="10115",
    country="Germany",
    country_code="DE",
)
USA = AddressSpec(
    first_name="Sam",
    last_name="Sample",
    address1="1 Main St",
    city="Austin",
    province="Texas",
    province_code="TX",
    zip="78701",
    country="United States",
    country_code="US",
)

# the merchant's own product (not in the catalog: stocked only at the shop's location), and a
# product the merchant stocked at our location though the catalog does not know it
MERCHANT_OWN_SKU = "CANDLE-OWN"
MISTAKEN_SKU = "SOCKS-RAINBOW"

# (what the order shows, its lines, where it ships)
DEMO_ORDERS: list[tuple[str, list[LineSpec], AddressSpec]] = [
    (
        "multi-supplier: DTG tee and a mug",
        [LineSpec("TEE-BLK-M-DTG", 2), LineSpec("MUG-11OZ-WHT", 1)],
        USA,
    ),
    (
        "embroidered hat and hoodie, shipped in two parcels",
        [LineSpec("HAT-NAVY-EMB", 1), LineSpec("HOODIE-GRY-L-EMB", 1)],
        USA,
    ),
    (
        "personalised monogram tee",
        [
            LineSpec(
                "TEE-BLK-M-MONO",
                1,
                properties={"Monogram": "ADA", "Gift message": "Happy birthday!", "_font": "serif"},
            )
        ],
        USA,
    ),
    ("wall art to Germany", [LineSpec("CANVAS-30X40", 1), LineSpec("POSTER-A3", 2)], GERMANY),
    (
        "phone case with a gift card (no shipping)",
        [
            LineSpec("CASE-IPHONE15-CLEAR", 1),
            LineSpec(
                "GIFT-CARD-25", 1, requires_shipping=False, title="Gift card $25", price="25.00"
            ),
        ],
        USA,
    ),
    (
        "split: a tee made by us, the merchant's own candle shipped by the merchant",
        [LineSpec("TEE-WHT-L-DTG", 1), LineSpec(MERCHANT_OWN_SKU, 1)],
        USA,
    ),
    (
        "an item with no catalog entry, stocked at our location by mistake (request rejected)",
        [LineSpec("TEE-BLK-M-DTG", 1), LineSpec(MISTAKEN_SKU, 1)],
        USA,
    ),
]
SPLIT_ORDER = 5  # index in DEMO_ORDERS of the order split between two locations
REJECTED_ORDER = 6
TWO_PARCELS = 1
REPORTS_DELIVERY = (
    "gelato",
    "printify",
)  # index in DEMO_ORDERS of the order shipped in two parcels


@dataclass
class DemoResult:
    ok: bool
    problems: list[str] = field(default_factory=list)
    timelines: list[dict[str, Any]] = field(default_factory=list)
    fulfillments: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    console_url: str = ""
    # per fulfillment order of the split and rejected orders: location, request status, lines
    fulfillment_orders: list[dict[str, Any]] = field(default_factory=list)


class Demo:
    def __init__(self, *, workdir: Path | None = None, say: Callable[[str], None] = print) -> None:
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="integrator-demo-"))
        self.say = say
        self.stack = Stack(
            StackOptions(
                database_url=f"sqlite:///{self.workdir}/demo.db",
                loopback=True,
                mirror_stage=True,
                mode="fulfillment-service",
            )
        )
        shop = self.stack.shop
        shop.add_product("Scented candle", variants=[VariantSpec(MERCHANT_OWN_SKU)])
        shop.add_product("Rainbow socks", variants=[VariantSpec(MISTAKEN_SKU, price="12.00")])
        shop.stock(MISTAKEN_SKU, shop.fulfillment_service(self.stack.service_location)["location"])
        self.worker = self.stack.worker(threads=2, poll_interval=0.05, lease_seconds=30)
        self._threads: list[threading.Thread] = []
        self.orders: list[dict[str, Any]] = []

    def start(self) -> None:
        from integrator.scheduler import build_scheduler

        runner = threading.Thread(target=self.worker.run, name="demo-worker", daemon=True)
        runner.start()
        self._threads.append(runner)
        self.scheduler = build_scheduler(self.stack.container, background=True)
        self.scheduler.start()

    def place_orders(self) -> None:
        for label, lines, address in DEMO_ORDERS:
            order = self.stack.place_order(lines, address=address)
            self.orders.append(order)
            outcome = self.stack.send_webhook("orders/paid", order)
            self.say(f"  {order['name']}  {label}: orders/paid → {outcome.statuses[-1]}")

    def wait(self, what: str, condition: Callable[[], bool], deadline: float) -> bool:
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.1)
        self.say(f"  ! timed out waiting for {what}")
        return False

    def _count(self, query: Any) -> int:
        with self.stack.db.read() as session:
            return len(session.execute(query).all())

    def submitted(self) -> bool:
        """Every order ingested and every supplier order sent."""
        from integrator.db.models import Job

        busy = select(Job.id).where(
            Job.kind.in_((JobKind.SHOPIFY_DELIVERY, JobKind.ORDER_INGEST, JobKind.SUPPLIER_SUBMIT)),
            Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        )
        pending = select(SupplierOrder.id).where(
            SupplierOrder.status == SupplierOrderStatus.PENDING
        )
        ingested = self._count(select(Order.id)) == len(self.orders)
        return ingested and self._count(busy) == 0 and self._count(pending) == 0

    def produce(self, deadline: float) -> None:
        """Let the sandbox suppliers make and ship everything; one order in two parcels."""
        split_order = str(self.orders[TWO_PARCELS]["legacyResourceId"])
        for supplier, remote_id, _ref in self.stack.supplier_orders():
            self.stack.suppliers[supplier].advance(remote_id, "in_production")
        self.wait("items in production", lambda: self._stage_count("in_production") > 0, deadline)
        for supplier, remote_id, reference in self.stack.supplier_orders():
            sandbox = self.stack.suppliers[supplier]
            if reference.startswith(split_order):
                items = self._items_of(remote_id)
                sandbox.advance(remote_id, "shipped", items=items[:1])
                sandbox.advance(remote_id, "shipped", items=items[1:])
            else:
                sandbox.advance(remote_id, "shipped")
        self.wait("shipments synced to Shopify", self._all_synced, deadline)
        for supplier, remote_id, _ref in self.stack.supplier_orders():
            self.stack.suppliers[supplier].advance(remote_id, "delivered")

    def _items_of(self, remote_id: str) -> list[str]:
        with self.stack.db.read() as session:
            return list(
                session.scalars(
                    select(LineItem.shopify_line_item_id)
                    .join(SupplierOrder, SupplierOrder.id == LineItem.supplier_order_id)
                    .where(SupplierOrder.supplier_order_id == remote_id)
                    .order_by(LineItem.id)
                )
            )

    def _stage_count(self, stage: str) -> int:
        return self._count(select(LineItem.id).where(LineItem.stage == stage))

    def _all_synced(self) -> bool:
        routed = self._count(select(LineItem.id).where(LineItem.disposition == "route"))
        shipped = self._count(
            select(LineItem.id).where(LineItem.stage.in_(("shipped", "delivered")))
        )
        unsynced = self._count(
            select(Shipment.id).where(Shipment.sync_status != ShipmentSyncStatus.SYNCED)
        )
        return routed > 0 and shipped == routed and unsynced == 0

    def run(self) -> DemoResult:
        started = time.monotonic()
        deadline = started + DEADLINE_SECONDS
        self.say(
            f"sandbox Shopify, 4 sandbox suppliers and the web app on {self.stack.integrator_url}"
        )
        self.start()
        self.say("orders in:")
        self.place_orders()
        self.wait("supplier submissions", self.submitted, deadline)
        self.produce(deadline)
        self.wait(
            "deliveries",
            lambda: self._stage_count("delivered") >= self._reported_deliveries(),
            deadline,
        )
        result = self.collect()
        result.seconds = time.monotonic() - started
        result.console_url = f"{self.stack.integrator_url}/admin"
        return result

    def _reported_deliveries(self) -> int:
        # Printful and Prodigi report no delivery: their items end at "shipped"
        return self._count(
            select(LineItem.id).where(
                LineItem.disposition == "route", LineItem.supplier.in_(REPORTS_DELIVERY)
            )
        )

    def collect(self) -> DemoResult:
        result = DemoResult(ok=True)
        with self.stack.db.read() as session:
            for order in session.scalars(select(Order).order_by(Order.id)):
                for item in order.line_items:
                    events = session.scalars(
                        select(ItemEvent)
                        .where(ItemEvent.line_item_id == item.id)
                        .order_by(ItemEvent.id)
                    ).all()
                    shipments = [
                        s
                        for s in session.scalars(
                            select(Shipment).where(Shipment.order_id == order.id)
                        )
                        if any(str(i["line_item_id"]) == item.shopify_line_item_id for i in s.items)
                    ]
                    result.timelines.append(
                        {
                            "order": order.name,
                            "item": item.title or item.sku,
                            "sku": item.sku,
                            "supplier": item.supplier,
                            "rule": item.rule,
                            "stage": item.stage,
                            "decoration": item.decoration,
                            "reason": item.reason,
                            "stages": [(e.stage, e.occurred_at) for e in events],
                            "tracking": [f"{s.carrier} {s.tracking_number}" for s in shipments],
                            "disposition": item.disposition,
                        }
                    )
            for shipment in session.scalars(select(Shipment).order_by(Shipment.id)):
                result.fulfillments.append(
                    {
                        "order_id": shipment.order_id,
                        "supplier": shipment.supplier,
                        "tracking": shipment.tracking_number,
                        "fulfillment": shipment.shopify_fulfillment_id,
                        "items": len(shipment.items),
                        "status": shipment.sync_status,
                    }
                )
        result.fulfillment_orders = [
            self._fulfillment_order(self.orders[index], fo)
            for index in (SPLIT_ORDER, REJECTED_ORDER)
            for fo in self.orders[index]["fulfillmentOrders"]
        ]
        result.problems = self.check(result)
        result.ok = not result.problems
        return result

    def _fulfillment_order(self, order: dict[str, Any], fo: dict[str, Any]) -> dict[str, Any]:
        from integrator.sandbox.shopify.fulfillment_service import last_answer

        answer = last_answer(fo, "FULFILLMENT_REQUEST") or {}
        return {
            "order": order["name"],
            "location": fo["assignedLocation"]["location"]["name"],
            "status": fo["status"],
            "request": fo["requestStatus"],
            "lines": ", ".join(line["sku"] for line in fo["lineItems"]),
            "answer": answer.get("message") or "",
        }

    def check(self, result: DemoResult) -> list[str]:
        problems = self._check_split(result)
        for line in result.timelines:
            if line["disposition"] == "route" and line["stage"] not in ("shipped", "delivered"):
                problems.append(f"{line['order']} {line['item']}: stuck at {line['stage']}")
            if line["sku"] in (MERCHANT_OWN_SKU, MISTAKEN_SKU) and line["supplier"]:
                problems.append(f"{line['item']} was sent to {line['supplier']}")
            if line["sku"] == "GIFT-CARD-25" and line["disposition"] != "skip":
                problems.append("the gift card was not left alone")
        unsynced = [f for f in result.fulfillments if not f["fulfillment"]]
        if unsynced:
            problems.append(f"{len(unsynced)} shipment(s) without a Shopify fulfillment")
        shopify_count = sum(len(self.stack.shop.fulfillments_of(o["id"])) for o in self.orders)
        if shopify_count != len(result.fulfillments):
            problems.append(
                f"Shopify has {shopify_count} fulfillments for {len(result.fulfillments)} shipments"
            )
        return problems

    def _check_split(self, result: DemoResult) -> list[str]:
        split = [fo for fo in result.fulfillment_orders if fo["order"] == self._name(SPLIT_ORDER)]
        requests = sorted((fo["location"], fo["request"]) for fo in split)
        wanted = sorted(
            [("Shop location", "UNSUBMITTED"), (self.stack.service_location, "ACCEPTED")]
        )
        problems = [] if requests == wanted else [f"split order's fulfillment orders: {requests}"]
        rejected = [
            fo for fo in result.fulfillment_orders if fo["order"] == self._name(REJECTED_ORDER)
        ]
        if [fo["request"] for fo in rejected] != ["REJECTED"]:
            problems.append("the request with an unknown item was not rejected")
        return problems

    def _name(self, index: int) -> str:
        return str(self.orders[index]["name"])

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.worker.stop()
        for thread in self._threads:
            thread.join(5)
        self.stack.close()
