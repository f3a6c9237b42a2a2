"""What a fulfillment service answers Shopify (fulfillment-service mode, docs/adr/0002). Pure:
it reads the order, routing's decisions and what our items became; it asks nobody.

A **fulfillment request** is accepted when routing places every line of the fulfillment order
with a supplier (the message names them); otherwise it is rejected with the reason Shopify
shows the merchant: no routing rule, no catalog entry, an address the suppliers cannot ship
to, no shipping address. A **cancellation request** is accepted when nothing of the
fulfillment order is at a supplier any more (never sent, or the supplier cancelled), and
rejected with the supplier's own answer when it would not cancel (production started).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from integrator.domain.model import (
    Disposition,
    EnrichedOrder,
    FulfillmentOrder,
    ItemDecision,
    OrderLine,
)
from integrator.routing.router import route_line
from integrator.store_config.store import StoreConfig


class RejectionReason(StrEnum):
    """The values of Shopify's ``FulfillmentOrderRejectionReason`` the integrator gives."""

    INELIGIBLE_PRODUCT = "INELIGIBLE_PRODUCT"  # no routing rule takes it
    INVALID_SKU = "INVALID_SKU"  # no catalog entry (or listing) for the variant
    UNDELIVERABLE_DESTINATION = "UNDELIVERABLE_DESTINATION"  # no supplier ships there
    INCORRECT_ADDRESS = "INCORRECT_ADDRESS"  # no shipping address to send it to
    OTHER = "OTHER"


# the order in which a rejection names its reason when lines fail differently
REASON_WEIGHT = {reason: weight for weight, reason in enumerate(RejectionReason)}


@dataclass(frozen=True)
class RequestAnswer:
    fulfillment_order_id: str
    accept: bool
    message: str
    reason: RejectionReason | None = None


@dataclass(frozen=True)
class LineProblem:
    title: str
    reason: RejectionReason
    detail: str


def answer_fulfillment_request(
    fo: FulfillmentOrder,
    order: EnrichedOrder,
    decisions: Mapping[str, ItemDecision],
    config: StoreConfig,
) -> RequestAnswer:
    """Accept or reject the fulfillment request waiting on ``fo``. ``decisions`` are routing's,
    taken as if the request were accepted (every line of ``fo`` open to us)."""
    lines = {line.line_item_id: line for line in order.lines}
    suppliers: dict[str, list[str]] = {}
    problems: list[LineProblem] = []
    for fo_line in fo.lines:
        line = lines.get(fo_line.line_item_id)
        decision = decisions.get(fo_line.line_item_id)
        if line is None or fo_line.remaining_quantity <= 0:
            continue
        if decision is not None and decision.disposition is Disposition.ROUTE and decision.supplier:
            suppliers.setdefault(decision.supplier, []).append(
                _label(line, fo_line.remaining_quantity)
            )
            continue
        problems.append(_problem(line, decision, order, config))
    if problems:
        worst = min((p.reason for p in problems), key=REASON_WEIGHT.__getitem__)
        detail = "; ".join(f"{p.title}: {p.detail}" for p in problems)
        return RequestAnswer(fo.id, False, f"Cannot make this order: {detail}", worst)
    if not suppliers:
        return RequestAnswer(
            fo.id, False, "Nothing left to make in this fulfillment order", RejectionReason.OTHER
        )
    made_by = "; ".join(
        f"{name}: {', '.join(titles)}" for name, titles in sorted(suppliers.items())
    )
    return RequestAnswer(fo.id, True, f"Accepted; made by {made_by}")


def _label(line: OrderLine, quantity: int) -> str:
    return f"{quantity} × {line.title}" if quantity != 1 else line.title


def _problem(
    line: OrderLine, decision: ItemDecision | None, order: EnrichedOrder, config: StoreConfig
) -> LineProblem:
    title = line.title or line.sku or line.line_item_id
    if order.shipping_address is None:
        return LineProblem(
            title, RejectionReason.INCORRECT_ADDRESS, "the order has no shipping address"
        )
    if decision is None:
        return LineProblem(title, RejectionReason.OTHER, "not routed")
    if decision.catalog_key is None:
        return LineProblem(
            title, RejectionReason.INVALID_SKU, f"no catalog entry for sku {line.sku or '(none)'}"
        )
    country = order.shipping_address.country_code
    if decision.rule is None and _ships_elsewhere(line, country, config):
        return LineProblem(
            title, RejectionReason.UNDELIVERABLE_DESTINATION, f"no supplier ships it to {country}"
        )
    if decision.rule is None:
        return LineProblem(title, RejectionReason.INELIGIBLE_PRODUCT, "no routing rule takes it")
    return LineProblem(title, RejectionReason.OTHER, decision.reason)


def _ships_elsewhere(line: OrderLine, country: str | None, config: StoreConfig) -> bool:
    """Some rule would route the line to another destination: the address is the problem."""
    countries = sorted(
        {c for rule in config.rules for c in rule.match.ship_to_country or () if c != country}
    )
    return any(
        route_line(line, other, config).disposition is Disposition.ROUTE for other in countries
    )


# --- cancellation requests -------------------------------------------------------------------


@dataclass(frozen=True)
class ItemAtSupplier:
    """What one of our items on the fulfillment order's lines became after we tried to stop it."""

    title: str
    supplier: str | None
    stopped: bool  # never sent, cancelled here, or cancelled by the supplier
    supplier_answer: str = ""  # the supplier's refusal, when it would not cancel


def answer_cancellation_request(fo_id: str, items: Iterable[ItemAtSupplier]) -> RequestAnswer:
    """Accept when nothing of the fulfillment order is still being made; otherwise reject with
    the suppliers' answers, which the merchant sees in Shopify."""
    items = list(items)
    going = [item for item in items if not item.stopped]
    if going:
        detail = "; ".join(
            f"{item.title} at {item.supplier or 'a supplier'}: {item.supplier_answer or 'in production'}"
            for item in going
        )
        return RequestAnswer(fo_id, False, f"Production has started, cannot cancel: {detail}")
    cancelled = sorted({item.supplier for item in items if item.supplier})
    if cancelled:
        return RequestAnswer(fo_id, True, f"Cancelled at {', '.join(cancelled)}")
    return RequestAnswer(fo_id, True, "Cancelled; nothing had been sent to a supplier")


def accepting(fo: FulfillmentOrder) -> FulfillmentOrder:
    """The fulfillment order as if its request were accepted (routing's what-if)."""
    return replace(fo, request_status="ACCEPTED", status="IN_PROGRESS")
