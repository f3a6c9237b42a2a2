"""In-memory fake shops and the Python control API that tests and the demo seed them with.

Each :class:`Shop` keeps every record in a GID-keyed index (``nodes``) and guards all reads
and writes with its own lock, so the WSGI app may serve many threads at once.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from integrator.sandbox.shopify import (
    changes,
    fulfillment,
    records,
    rest_payload,
)
from integrator.sandbox.shopify import fulfillment_service as service_rules
from integrator.sandbox.shopify.records import (
    AddressSpec,
    FulfillmentOrderSpec,
    LineSpec,
    Record,
    VariantSpec,
)
from integrator.sandbox.shopify.throttle import LeakyBucket

# the app that owns a fulfillment service; "integrator" is the app the sandbox serves
APP_KEY = "_app"
THIS_APP = "integrator"
POST_PURCHASE_HOLD = "ONLINE_STORE_POST_PURCHASE_CROSS_SELL"


@dataclass
class ShopCounters:
    requests: int = 0
    throttled: int = 0
    fulfillments_by_order: Counter[str] = field(default_factory=Counter)
    unmodelled_mutations: Counter[str] = field(default_factory=Counter)


class Shop:
    """One fake shop: its records, bucket, credentials and counters."""

    def __init__(
        self,
        domain: str,
        *,
        client_id: str,
        client_secret: str,
        bucket: LeakyBucket,
        ids: Iterable[int],
        scopes: Sequence[str],
    ) -> None:
        self.domain = domain
        self.client_id = client_id
        self.client_secret = client_secret
        self.bucket = bucket
        self.scopes = tuple(scopes)
        self.lock = threading.RLock()
        self.counters = ShopCounters()
        self.nodes: dict[str, Record] = {}
        self._by_type: dict[str, dict[str, Record]] = {}
        self._variants_by_sku: dict[str, Record] = {}
        self._ids = iter(ids)
        self._order_numbers = itertools.count(1001)
        self.record = self.register(
            {
                "__typename": "Shop",
                "id": records.gid("Shop", self.next_id()),
                "name": domain.split(".", 1)[0],
                "myshopifyDomain": domain,
                "email": f"owner@{domain}",
                "contactEmail": f"owner@{domain}",
                "currencyCode": "USD",
                "ianaTimezone": "UTC",
                "url": f"https://{domain}",
                "fulfillmentServices": [],
                "plan": {
                    "displayName": "Advanced",
                    "partnerDevelopment": False,
                    "shopifyPlus": False,
                },
            }
        )
        self.primary_location = self.register(
            records.location(self.next_id(), "Shop location", is_primary=True)
        )
        # the store's "Automatically fulfill the order's line items" checkout setting
        self.auto_fulfil_at_payment = False
        self.installed = True  # the app is installed (tokens can be granted)

    def next_id(self) -> int:
        return next(self._ids)

    def register(self, record: Record) -> Record:
        self.nodes[record["id"]] = record
        self._by_type.setdefault(record["__typename"], {})[record["id"]] = record
        return record

    def unregister(self, global_id: str) -> None:
        record = self.nodes.pop(global_id)
        del self._by_type[record["__typename"]][global_id]

    def find(self, global_id: str, type_name: str | None = None) -> Record | None:
        record = self.nodes.get(global_id)
        if record is None or (type_name and record["__typename"] != type_name):
            return None
        return record

    def all_of(self, type_name: str) -> list[Record]:
        return list(self._by_type.get(type_name, {}).values())

    # --- catalog ---------------------------------------------------------------------------

    def add_product(
        self,
        title: str,
        *,
        product_type: str = "",
        vendor: str = "Sandbox",
        tags: Sequence[str] = (),
        metafields: Mapping[str, str] | None = None,
        variants: Sequence[VariantSpec] = (),
    ) -> Record:
        """Add a product; ``metafields`` maps ``"namespace.key"`` to a value."""
        with self.lock:
            owner = self.register(
                records.product(self.next_id(), title, product_type, vendor, tags)
            )
            for key, value in (metafields or {}).items():
                owner["metafields"].append(self._metafield("PRODUCT", key, value))
            for position, spec in enumerate(variants or [VariantSpec(sku=title.upper())], 1):
                self._add_variant(owner, spec, position)
            owner["options"] = records.product_options(owner["variants"])
            return owner

    def _add_variant(self, owner: Record, spec: VariantSpec, position: int) -> None:
        record = self.register(records.variant(self.next_id(), owner, spec, position))
        # Shopify stocks a new variant at the shop's default location
        item = self.register(service_rules.inventory_item(self.next_id(), record))
        record["inventoryItem"] = item
        service_rules.activate(self.next_id(), item, self.primary_location)
        for key, value in spec.metafields.items():
            record["metafields"].append(self._metafield("PRODUCTVARIANT", key, value))
        owner["variants"].append(record)
        self._variants_by_sku.setdefault(spec.sku, record)

    def _metafield(self, owner_type: str, key: str, value: str) -> Record:
        return self.register(records.metafield(self.next_id(), owner_type, key, value))

    def variant_by_sku(self, sku: str) -> Record | None:
        return self._variants_by_sku.get(sku)

    # --- orders ----------------------------------------------------------------------------

    def create_order(
        self,
        lines: Sequence[LineSpec],
        *,
        email: str = "buyer@example.com",
        shipping_address: AddressSpec | None = None,
        financial_status: str = "PAID",
        fulfillment_orders: Sequence[FulfillmentOrderSpec] | None = None,
        tags: Sequence[str] = (),
        note: str | None = None,
        test: bool = False,
        without_shipping_address: bool = False,
        post_purchase_offer: bool = False,
    ) -> Record:
        """Create an order; ``fulfillment_orders=[]`` leaves it without any FO yet.

        ``test``: placed with a test gateway (``Order.test``). ``without_shipping_address``: a
        local pickup (or other delivery without an address). ``post_purchase_offer``: its FOs
        are held while the post-purchase offer is open (``close_post_purchase_offer``). With
        ``auto_fulfil_at_payment`` set, a paid order is fulfilled at once, as Shopify does.
        """
        with self.lock:
            order = self.register(
                self._new_order(email, shipping_address, financial_status, tags, note)
            )
            order["test"] = test
            if without_shipping_address:
                order["shippingAddress"] = None
            for spec in lines:
                line = records.line_item(self.next_id(), spec, self.variant_by_sku(spec.sku))
                order["lineItems"].append(self.register(line))
            self.set_totals(order)
            specs = self._routed_specs(order) if fulfillment_orders is None else fulfillment_orders
            if post_purchase_offer:
                specs = [
                    replace(spec, status="ON_HOLD", hold_reason=POST_PURCHASE_HOLD)
                    for spec in specs
                ]
            if without_shipping_address:
                specs = [replace(spec, delivery_method="PICK_UP") for spec in specs]
            self.add_fulfillment_orders(order["id"], specs)
            if self.auto_fulfil_at_payment and order["displayFinancialStatus"] == "PAID":
                self._fulfil_everything(order)
            return order

    def _routed_specs(self, order: Record) -> list[FulfillmentOrderSpec]:
        """Shopify's order routing: each shippable line goes to a fulfillment service's
        location that stocks its variant, the rest to the primary location, one FO each."""
        groups: dict[str, list[int]] = {}
        for index, line in enumerate(order["lineItems"]):
            if line["requiresShipping"]:
                where = service_rules.stocking_location(line["variant"], self.primary_location)
                groups.setdefault(where["id"], []).append(index)
        specs = []
        for location_id, indexes in groups.items():
            service = self.nodes[location_id].get("fulfillmentService")
            name = service["serviceName"] if service else None
            specs.append(FulfillmentOrderSpec(lines=indexes, fulfillment_service=name))
        return specs or [FulfillmentOrderSpec()]

    def _fulfil_everything(self, order: Record) -> None:
        for fo in list(order["fulfillmentOrders"]):
            if fo["status"] in fulfillment.FULFILLABLE_STATUSES:
                self.record_fulfillment(order, [(fo, fulfillment.requested_lines(fo, None))], None)

    def _new_order(
        self,
        email: str,
        address: AddressSpec | None,
        financial_status: str,
        tags: Sequence[str],
        note: str | None,
    ) -> Record:
        number = self.next_id()
        order_number = next(self._order_numbers)
        stamp = records.now_iso()
        address = address or AddressSpec()
        return {
            "__typename": "Order",
            "id": records.gid("Order", number),
            "legacyResourceId": str(number),
            "name": f"#{order_number}",
            "number": order_number - 1000,
            "email": email,
            "phone": None,
            "note": note,
            "tags": list(tags),
            "createdAt": stamp,
            "updatedAt": stamp,
            "processedAt": stamp,
            "cancelledAt": None,
            "cancelReason": None,
            "closed": False,
            "closedAt": None,
            "test": False,
            "confirmed": True,
            "currencyCode": "USD",
            "presentmentCurrencyCode": "USD",
            "displayFinancialStatus": financial_status.upper(),
            "displayFulfillmentStatus": "UNFULFILLED",
            "shippingAddress": records.mailing_address(address, self.next_id()),
            "billingAddress": records.mailing_address(address, self.next_id()),
            "lineItems": [],
            "fulfillmentOrders": [],
            "fulfillments": [],
            "metafields": [],
            "customAttributes": [],
            "discountCodes": [],
            "paymentGatewayNames": ["bogus"],
        }

    def set_totals(self, order: Record) -> None:
        total = records.order_total(order["lineItems"])
        order["requiresShipping"] = any(li["requiresShipping"] for li in order["lineItems"])
        for key in (
            "totalPriceSet",
            "subtotalPriceSet",
            "currentTotalPriceSet",
            "currentSubtotalPriceSet",
            "originalTotalPriceSet",
        ):
            order[key] = records.money_bag(total)
        order["totalShippingPriceSet"] = records.money_bag("0.00")
        paid = order["displayFinancialStatus"] == "PAID"
        order["fullyPaid"], order["unpaid"] = paid, not paid
        order["totalOutstandingSet"] = records.money_bag("0.00" if paid else total)

    def add_fulfillment_orders(
        self, order_id: str, specs: Sequence[FulfillmentOrderSpec]
    ) -> list[Record]:
        """Create FOs for an order, as Shopify's order routing does once it has finished."""
        with self.lock:
            order = self.order(order_id)
            created = [self._fulfillment_order(order, spec) for spec in specs]
            fulfillment.refresh_order(order)
            return created

    def _fulfillment_order(self, order: Record, spec: FulfillmentOrderSpec) -> Record:
        where = self.primary_location
        if spec.fulfillment_service:
            where = self.fulfillment_service(spec.fulfillment_service)["location"]
        elif spec.location_name:
            where = self._location_named(spec.location_name)
        fo = self.register(records.fulfillment_order(self.next_id(), order, where, spec))
        if spec.lines is not None:
            indexes: Sequence[int] = spec.lines
        elif spec.quantities is not None:
            indexes = list(spec.quantities)
        else:
            indexes = [i for i, line in enumerate(order["lineItems"]) if line["requiresShipping"]]
        for index in indexes:
            line = order["lineItems"][index]
            quantity = (spec.quantities or {}).get(index)
            fo["lineItems"].append(
                self.register(records.fulfillment_order_line(self.next_id(), line, quantity))
            )
        if spec.status == "ON_HOLD":
            fo["fulfillmentHolds"].append(
                records.fulfillment_hold(self.next_id(), spec.hold_reason, spec.hold_notes)
            )
        if spec.request_status == "SUBMITTED":
            fo["merchantRequests"].append(
                service_rules.merchant_request(self.next_id(), fo, "FULFILLMENT_REQUEST", None)
            )
        order["fulfillmentOrders"].append(fo)
        return fo

    def _location_named(self, name: str) -> Record:
        known = next((loc for loc in self.all_of("Location") if loc["name"] == name), None)
        return known or self.register(records.location(self.next_id(), name))

    def location(self, name: str) -> Record:
        """A merchant location by name, made if new (a warehouse, a retail store)."""
        with self.lock:
            return self._location_named(name)

    def add_fulfillment_service(self, name: str, *, app: str = "another-app") -> Record:
        """Register a fulfillment service of *another* app (Printful's, say) with its location.

        This app's own service comes from the ``fulfillmentServiceCreate`` mutation; FOs at
        another app's location are visible only with ``read_third_party_fulfillment_orders``.
        """
        with self.lock:
            return self.register_fulfillment_service(name, app=app)

    def register_fulfillment_service(
        self, name: str, *, app: str, options: Mapping[str, Any] | None = None
    ) -> Record:
        options = options or {}
        where = self.register(records.location(self.next_id(), name))
        number = self.next_id()
        service = self.register(
            {
                "__typename": "FulfillmentService",
                "id": records.gid("FulfillmentService", number),
                "serviceName": name,
                "handle": name.lower().replace(" ", "-"),
                "callbackUrl": options.get("callbackUrl"),
                "location": where,
                "type": "THIRD_PARTY",
                "trackingSupport": bool(options.get("trackingSupport")),
                "inventoryManagement": bool(options.get("inventoryManagement")),
                "fulfillmentOrdersOptIn": True,
                "requiresShippingMethod": True,
                APP_KEY: app,
            }
        )
        where.update(fulfillmentService=service, isFulfillmentService=True, shipsInventory=False)
        self.record["fulfillmentServices"].append(service)
        return service

    def fulfillment_service(self, name: str) -> Record:
        """:raises KeyError: no fulfillment service of that name."""
        for service in self.all_of("FulfillmentService"):
            if service["serviceName"] == name:
                return service
        raise KeyError(f"no fulfillment service {name!r} in {self.domain}")

    def order(self, order_id: str | int) -> Record:
        """Return an order by GID or numeric id.

        :raises KeyError: no such order in this shop.
        """
        text = str(order_id)
        global_id = text if text.startswith(records.GID_PREFIX) else records.gid("Order", text)
        found = self.find(global_id, "Order")
        if found is None:
            raise KeyError(f"no order {order_id} in {self.domain}")
        return found

    def mark_paid(self, order_id: str | int) -> Record:
        with self.lock:
            order = self.order(order_id)
            order["displayFinancialStatus"] = "PAID"
            self.set_totals(order)
            order["updatedAt"] = records.now_iso()
            return order

    def cancel_order(self, order_id: str | int, reason: str = "CUSTOMER") -> Record:
        """Cancel an order; its fulfillment orders that still had work become CANCELLED."""
        with self.lock:
            order = self.order(order_id)
            order["cancelledAt"] = order["closedAt"] = records.now_iso()
            order["cancelReason"], order["closed"] = reason.upper(), True
            for fo in order["fulfillmentOrders"]:
                if fo["status"] not in ("CLOSED", "CANCELLED"):
                    fo["status"] = "CANCELLED"
            fulfillment.refresh_order(order)
            return order

    def update_shipping_address(self, order_id: str | int, address: AddressSpec) -> Record:
        with self.lock:
            order = self.order(order_id)
            order["shippingAddress"] = records.mailing_address(address, self.next_id())
            for fo in order["fulfillmentOrders"]:
                fo["destination"] = records.destination(self.next_id(), order)
            order["updatedAt"] = records.now_iso()
            return order

    def set_fulfillment_order_status(self, fulfillment_order_id: str, status: str) -> Record:
        """Put an FO on hold, release it, or close it as someone else would."""
        with self.lock:
            fo = self._fulfillment_order_or_raise(fulfillment_order_id)
            fo["status"] = status
            if status != "ON_HOLD":
                fo["fulfillmentHolds"] = []
            elif not fo["fulfillmentHolds"]:
                fo["fulfillmentHolds"].append(records.fulfillment_hold(self.next_id(), "OTHER"))
            fulfillment.refresh_order(fo["order"])
            return fo

    # --- changes after payment (see ``changes``) ------------------------------------------

    def edit_order(
        self,
        order_id: str | int,
        *,
        add: Sequence[LineSpec] = (),
        remove: Mapping[int, int] | None = None,
        location_name: str | None = None,
    ) -> changes.LineChanges:
        """An order edit: ``add`` new line items (in a new FO, at the primary location unless
        ``location_name``), ``remove`` unfulfilled units (line index → quantity)."""
        with self.lock:
            order = self.order(order_id)
            done = changes.LineChanges(order)
            if remove:
                done.removed = changes.remove_quantities(self, order, remove).removed
            if add:
                added = changes.add_lines(
                    self, order, add, FulfillmentOrderSpec(location_name=location_name)
                )
                done.added, done.fulfillment_orders = added.added, added.fulfillment_orders
            return done

    def refund(
        self, order_id: str | int, quantities: Mapping[int, int], restock_type: str = "cancel"
    ) -> tuple[Record, changes.LineChanges]:
        """Refund unfulfilled units (line index → quantity): they leave the order."""
        with self.lock:
            return changes.refund(self, self.order(order_id), quantities, restock_type)

    def exchange(
        self, order_id: str | int, new_lines: Sequence[LineSpec], *, hold_until_returned: bool
    ) -> changes.LineChanges:
        """A return with exchange: the new items join the original order in a new FO, held
        (AWAITING_RETURN_ITEMS) until the return arrives when ``hold_until_returned``."""
        spec = (
            FulfillmentOrderSpec(status="ON_HOLD", hold_reason="AWAITING_RETURN_ITEMS")
            if hold_until_returned
            else FulfillmentOrderSpec()
        )
        with self.lock:
            return changes.add_lines(self, self.order(order_id), new_lines, spec)

    def accept_post_purchase_offer(
        self, order_id: str | int, new_lines: Sequence[LineSpec]
    ) -> changes.LineChanges:
        """The buyer took the post-purchase offer: its items join the order, held like the
        rest until the offer closes."""
        spec = FulfillmentOrderSpec(status="ON_HOLD", hold_reason=POST_PURCHASE_HOLD)
        with self.lock:
            return changes.add_lines(self, self.order(order_id), new_lines, spec)

    def close_post_purchase_offer(self, order_id: str | int) -> list[Record]:
        """The offer window closed: Shopify releases the post-purchase holds."""
        with self.lock:
            order = self.order(order_id)
            held = [
                fo
                for fo in order["fulfillmentOrders"]
                if fo["status"] == "ON_HOLD"
                and any(h["reason"] == POST_PURCHASE_HOLD for h in fo["fulfillmentHolds"])
            ]
            return [changes.release(fo) for fo in held]

    def hold_fulfillment_order(
        self, fulfillment_order_id: str, reason: str = "OTHER", notes: str | None = None
    ) -> Record:
        with self.lock:
            fo = self._fulfillment_order_or_raise(fulfillment_order_id)
            return changes.hold(self, fo, reason, notes)

    def release_hold(self, fulfillment_order_id: str) -> Record:
        with self.lock:
            return changes.release(self._fulfillment_order_or_raise(fulfillment_order_id))

    def make_due(self, fulfillment_order_id: str) -> Record:
        """A scheduled FO (a prepaid subscription's next delivery) becomes due."""
        with self.lock:
            return changes.make_due(self._fulfillment_order_or_raise(fulfillment_order_id))

    def move_fulfillment_order(
        self,
        fulfillment_order_id: str,
        *,
        location_name: str | None = None,
        fulfillment_service: str | None = None,
        quantities: Mapping[str, int] | None = None,
    ) -> tuple[Record, Record]:
        """Move FO line items (FO line id → quantity; default all) to another location."""
        with self.lock:
            fo = self._fulfillment_order_or_raise(fulfillment_order_id)
            where = (
                self.fulfillment_service(fulfillment_service)["location"]
                if fulfillment_service
                else self._location_named(location_name or self.primary_location["name"])
            )
            return changes.move(self, fo, where, quantities)

    def cancel_fulfillment_order(self, fulfillment_order_id: str) -> Record:
        with self.lock:
            fo = self._fulfillment_order_or_raise(fulfillment_order_id)
            return changes.cancel_fulfillment_order(fo)

    def delete_webhook_subscriptions(self, topic: str) -> int:
        """Shopify deletes an API-made subscription after repeated failed deliveries."""
        with self.lock:
            gone = [s for s in self.all_of("WebhookSubscription") if s["topic"] == topic]
            for subscription in gone:
                self.unregister(subscription["id"])
            return len(gone)

    def request_fulfillment(self, fulfillment_order_id: str, message: str | None = None) -> Record:
        """The merchant presses *Request fulfillment* on an FO at a fulfillment service.

        :raises fulfillment.FulfillmentRefused: not a service's FO, or not requestable.
        """
        with self.lock:
            fo = self._fulfillment_order_or_raise(fulfillment_order_id)
            service_rules.submit_fulfillment_request(self.next_id(), fo, message)
            return fo

    def request_cancellation(self, fulfillment_order_id: str, message: str | None = None) -> Record:
        """The merchant asks the fulfillment service to cancel an FO it accepted.

        :raises fulfillment.FulfillmentRefused: the FO's request was not accepted.
        """
        with self.lock:
            fo = self._fulfillment_order_or_raise(fulfillment_order_id)
            service_rules.submit_cancellation_request(self.next_id(), fo, message)
            return fo

    def stock(self, sku: str, location: Record) -> Record:
        """Stock a variant at a location, as the merchant does in the admin.

        :raises KeyError: no variant with that SKU.
        """
        with self.lock:
            variant = self._variants_by_sku[sku]
            level, _ = service_rules.activate(self.next_id(), variant["inventoryItem"], location)
            return level

    def stocked_at(self, sku: str) -> list[str]:
        """The names of the locations where the variant with ``sku`` is stocked."""
        with self.lock:
            item = self._variants_by_sku[sku]["inventoryItem"]
            return [lv["location"]["name"] for lv in item["inventoryLevels"] if lv["isActive"]]

    def _fulfillment_order_or_raise(self, fulfillment_order_id: str) -> Record:
        fo = self.find(fulfillment_order_id, "FulfillmentOrder")
        if fo is None:
            raise KeyError(f"no fulfillment order {fulfillment_order_id} in {self.domain}")
        return fo

    def fulfil(
        self,
        fulfillment_order_id: str,
        quantities: Mapping[str, int] | None = None,
        tracking: Mapping[str, Any] | None = None,
    ) -> Record:
        """Fulfil FO line items (``{fo_line_item_gid: quantity}``, default all that remain) as
        the merchant would in the admin, outside the app.

        :raises fulfillment.FulfillmentRefused: the FO or quantities do not allow it.
        """
        with self.lock:
            fo = self._fulfillment_order_or_raise(fulfillment_order_id)
            fulfillment.check_fulfillable(fo)
            wanted = [{"id": k, "quantity": v} for k, v in (quantities or {}).items()]
            plan = [(fo, fulfillment.requested_lines(fo, wanted))]
            return self.record_fulfillment(fo["order"], plan, tracking)

    def record_fulfillment(
        self, order: Record, plan: fulfillment.Plan, tracking: Mapping[str, Any] | None
    ) -> Record:
        created = fulfillment.create_fulfillment(
            self.next_id(), order, plan, tracking, self.next_id
        )
        for item in [created, *created["fulfillmentLineItems"]]:
            self.register(item)
        return created

    def fulfillments_of(self, order_id: str | int) -> list[Record]:
        with self.lock:
            return list(self.order(order_id)["fulfillments"])

    def webhook_payload(self, order_id: str | int) -> dict[str, Any]:
        """Return the REST webhook body Shopify would send for this order (orders/* topics)."""
        with self.lock:
            return rest_payload.order_payload(self.order(order_id), self.domain)

    def shop_payload(self) -> dict[str, Any]:
        """Return the REST body of ``app/uninstalled`` (the shop object)."""
        return rest_payload.shop_payload(self.record, self.primary_location)
