"""Decide, for every line item of an order, which supplier makes it, or why nobody does."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import NamedTuple

from integrator.domain.model import (
    Disposition,
    EnrichedOrder,
    FulfillmentOrderLineRef,
    ItemDecision,
    OrderLine,
    SupplierItemSpec,
)
from integrator.routing.assignment import LineAssignment, Ownership, assign_lines
from integrator.store_config.catalog import (
    CatalogEntry,
    PersonalisationError,
    build_spec,
    is_personalised,
)
from integrator.store_config.decoration import Decoration, resolve_decoration
from integrator.store_config.operations import TestOrders
from integrator.store_config.rules import ItemFacts, Rule, UnmatchedAction
from integrator.store_config.store import StoreConfig

UNMATCHED_RULE = "unmatched"
# Shopify fulfilling every item this soon after payment is its "automatically fulfill" setting
AUTOMATIC_FULFILMENT_WINDOW = timedelta(minutes=10)
AUTOMATIC_FULFILMENT = (
    "already fulfilled by Shopify when the order was paid: the store fulfils line items "
    "automatically (Settings → Checkout → Order processing); turn that off so that the "
    "integrator can route them"
)


class LineFacts(NamedTuple):
    """Everything routing learnt about a line, with where product data came from."""

    facts: ItemFacts
    entry: CatalogEntry | None
    decoration: Decoration
    product_type: str | None
    product_type_from: str | None  # "order", "catalog" or None (unknown)
    vendor: str | None
    vendor_from: str | None
    tags: tuple[str, ...]
    tags_from: str | None


def default_ownership(config: StoreConfig) -> Ownership:
    """Merchant-managed fulfillment orders at ``shopify.locations`` (all when empty)."""
    return Ownership(locations=config.shopify.locations)


def route_order(
    order: EnrichedOrder, config: StoreConfig, ownership: Ownership | None = None
) -> tuple[ItemDecision, ...]:
    """Return exactly one decision per line item, in line order; the same input always
    gives the same decisions.

    When the order carries its fulfillment orders (the enrichment query's answer), only the
    quantity in open fulfillment orders that ``ownership`` may fulfil is routed; lines held or
    scheduled there wait, lines at other locations are skipped, naming the location.
    """
    country = order.shipping_address.country_code if order.shipping_address else None
    assignments = (
        assign_lines(order, ownership or default_ownership(config))
        if order.fulfillment_orders_known
        else {}
    )
    automatic = fulfilled_at_payment(order)
    return tuple(
        _route_order_line(
            order, line, country, config, assignments.get(line.line_item_id), automatic
        )
        for line in order.lines
    )


def fulfilled_at_payment(order: EnrichedOrder) -> bool:
    """Shopify fulfilled every shippable line within minutes of the order being placed: the
    store's automatic fulfilment is on, and nothing is left for the integrator."""
    shippable = [line for line in order.lines if line.requires_shipping and not line.is_gift_card]
    placed = order.processed_at or order.created_at
    if not shippable or placed is None or order.first_fulfilled_at is None:
        return False
    done = all(line.fulfillable_quantity == 0 and line.quantity > 0 for line in shippable)
    return done and order.first_fulfilled_at - placed <= AUTOMATIC_FULFILMENT_WINDOW


def _route_order_line(
    order: EnrichedOrder,
    line: OrderLine,
    country: str | None,
    config: StoreConfig,
    assignment: LineAssignment | None,
    automatic: bool,
) -> ItemDecision:
    skip_reason = _reason_to_skip(line)
    if skip_reason is not None:
        if automatic and line.fulfillable_quantity == 0:
            skip_reason = AUTOMATIC_FULFILMENT
        return ItemDecision(line.line_item_id, Disposition.SKIP, skip_reason, quantity=0)
    if assignment is not None:
        not_now = _not_ours_now(order, line, assignment)
        if not_now is not None:
            return not_now
    quantity = assignment.open_quantity if assignment is not None else None
    refs = assignment.open_lines if assignment is not None else ()
    if order.test and config.shopify.test_orders is not TestOrders.ROUTE:
        return _test_order(line, country, config, quantity, refs)
    if order.shipping_address is None or (assignment and assignment.pickup_location):
        where = assignment.pickup_location if assignment else None
        known = learn_line(line, country, config)
        reason = (
            f"local pickup at {where}: there is no shipping address to send it to"
            if where
            else "the order has no shipping address (local pickup or another delivery "
            "method without one): nothing can be sent"
        )
        return replace(
            _decision(line, known, Disposition.HOLD, reason),
            quantity=quantity,
            fulfillment_order_lines=refs,
        )
    decision = route_line(line, country, config)
    if assignment is None:
        return decision
    return replace(
        decision,
        reason=decision.reason + _assignment_note(assignment),
        quantity=quantity,
        fulfillment_order_lines=refs,
    )


def _not_ours_now(
    order: EnrichedOrder, line: OrderLine, assignment: LineAssignment
) -> ItemDecision | None:
    """A wait or skip decided by the fulfillment orders, or None when some is ours now."""
    if assignment.open_quantity > 0:
        return None
    if assignment.waiting_quantity > 0:
        return ItemDecision(
            line.line_item_id,
            Disposition.WAIT,
            assignment.waiting_reason,
            quantity=assignment.waiting_quantity,
        )
    if not order.fulfillment_orders:
        return ItemDecision(
            line.line_item_id,
            Disposition.WAIT,
            "Shopify has not created fulfillment orders yet (its order routing is running)",
            quantity=line.fulfillable_quantity or line.quantity,
        )
    reasons = [f"{quantity} {why}" for why, quantity in assignment.elsewhere]
    if assignment.hidden_quantity:
        reasons.append(
            f"{assignment.hidden_quantity} in no fulfillment order this app can see "
            "(assigned to another fulfillment service's location)"
        )
    if not reasons:
        reasons.append("nothing left to fulfil in its fulfillment orders")
    return ItemDecision(line.line_item_id, Disposition.SKIP, "; ".join(reasons), quantity=0)


def _assignment_note(assignment: LineAssignment) -> str:
    notes = []
    if assignment.waiting_quantity:
        notes.append(f"{assignment.waiting_quantity} more wait: {assignment.waiting_reason}")
    notes += [f"{quantity} more {why}" for why, quantity in assignment.elsewhere]
    if assignment.hidden_quantity:
        notes.append(f"{assignment.hidden_quantity} more in fulfillment orders of another app")
    return "".join(f"; {note}" for note in notes)


def _test_order(
    line: OrderLine,
    country: str | None,
    config: StoreConfig,
    quantity: int | None,
    refs: tuple[FulfillmentOrderLineRef, ...],
) -> ItemDecision:
    known = learn_line(line, country, config)
    if config.shopify.test_orders is TestOrders.IGNORE:
        disposition, reason = Disposition.IGNORE, "test order (shopify.test_orders: ignore)"
    else:
        disposition = Disposition.HOLD
        reason = "test order: held (shopify.test_orders: hold; set route to produce it)"
    decision = _decision(line, known, disposition, reason)
    return replace(decision, quantity=quantity, fulfillment_order_lines=refs)


def route_line(line: OrderLine, ship_to_country: str | None, config: StoreConfig) -> ItemDecision:
    """Decide one line item: skip it, send it to a supplier, ignore it or hold it."""
    skip_reason = _reason_to_skip(line)
    if skip_reason is not None:
        return ItemDecision(line.line_item_id, Disposition.SKIP, skip_reason)
    known = learn_line(line, ship_to_country, config)
    rule = config.rule_index.first_match(known.facts)
    if rule is None:
        return _unmatched(line, known, config)
    return _decide_for_chain(line, known, config, rule.name, rule.chain, _rule_reason(rule))


def group_by_supplier(
    decisions: tuple[ItemDecision, ...] | list[ItemDecision],
) -> dict[str, list[ItemDecision]]:
    """Group routed decisions by supplier (one supplier order each), suppliers sorted."""
    groups: dict[str, list[ItemDecision]] = {}
    for decision in decisions:
        if decision.disposition is Disposition.ROUTE and decision.supplier is not None:
            groups.setdefault(decision.supplier, []).append(decision)
    return dict(sorted(groups.items()))


def next_supplier(
    decision: ItemDecision, order_line: OrderLine, config: StoreConfig, failed_supplier: str
) -> ItemDecision:
    """Move an item that ``failed_supplier`` cannot make to the next supplier of its chain
    with a catalog entry, or hold it, naming why."""
    remaining = tuple(name for name in decision.fallbacks if name != failed_supplier)
    entry = config.catalog.find(order_line)
    prefix = f"{failed_supplier} cannot make it"
    if entry is None:
        return _hold(decision, f"{prefix}; no catalog entry for {_identity(order_line)}")
    skipped = []
    for position, supplier in enumerate(remaining):
        if supplier not in entry.listings or supplier not in config.suppliers:
            skipped.append(supplier)
            continue
        try:
            spec = build_spec(entry, supplier, order_line.properties, config.decoration_properties)
        except PersonalisationError as error:
            return _hold(decision, f"{prefix}; {error}")
        return ItemDecision(
            decision.line_item_id,
            Disposition.ROUTE,
            f"{prefix}; failover to {supplier}" + _skipped_note(skipped, supplier),
            supplier,
            decision.rule,
            decision.decoration,
            decision.decoration_source,
            entry.key,
            spec,
            remaining[position + 1 :],
        )
    if skipped:
        return _hold(
            decision,
            f"{prefix}; no catalog entry at the remaining fallbacks ({', '.join(skipped)})",
        )
    return _hold(decision, f"{prefix}; no fallback supplier left")


def route_manually(
    line: OrderLine, config: StoreConfig, supplier: str, who: str = "operator"
) -> ItemDecision:
    """Send an item to ``supplier`` because a person said so (re-route of a held item).

    Still needs the supplier's catalog listing; without one the item stays held, saying why.
    """
    known = learn_line(line, None, config)
    entry, decoration = known.entry, known.decoration
    rule = f"manual:{who}"
    hold = ItemDecision(
        line.line_item_id,
        Disposition.HOLD,
        "",
        None,
        rule,
        decoration.method,
        decoration.source,
        entry.key if entry else None,
    )
    if supplier not in config.suppliers:
        return _hold(hold, f"{who} chose {supplier!r}, which is not a configured supplier")
    if entry is None or supplier not in entry.listings:
        return _hold(
            hold, f"{who} chose {supplier}, but it has no catalog listing for {_identity(line)}"
        )
    try:
        spec = build_spec(entry, supplier, line.properties, config.decoration_properties)
    except PersonalisationError as error:
        return _hold(hold, f"{who} chose {supplier}; {error}")
    return ItemDecision(
        line.line_item_id,
        Disposition.ROUTE,
        f"{who} chose {supplier}",
        supplier,
        rule,
        decoration.method,
        decoration.source,
        entry.key,
        spec,
    )


def learn_line(line: OrderLine, ship_to_country: str | None, config: StoreConfig) -> LineFacts:
    """Gather what rules look at: order data first, catalog hints where the order is silent."""
    entry = config.catalog.find(line)
    product_type, product_type_from = _with_hint(
        line.product_type, entry.product_type if entry else None
    )
    vendor, vendor_from = _with_hint(line.vendor, entry.vendor if entry else None)
    tags, tags_from = _tags_with_hint(line.tags, entry.tags if entry else ())
    decoration = resolve_decoration(
        line if tags == line.tags else replace(line, tags=tags), config.decoration, product_type
    )
    facts = ItemFacts(
        product_type=product_type.strip().casefold() if product_type else None,
        vendor=vendor.strip().casefold() if vendor else None,
        sku=line.sku.strip().casefold() if line.sku else None,
        tags=frozenset(tag.strip().casefold() for tag in tags),
        decoration=decoration.method,
        ship_to_country=ship_to_country.upper() if ship_to_country else None,
        personalised=is_personalised(line.properties, config.decoration_properties),
    )
    return LineFacts(
        facts,
        entry,
        decoration,
        product_type,
        product_type_from,
        vendor,
        vendor_from,
        tags,
        tags_from,
    )


# --- parts -------------------------------------------------------------------------------------


def _reason_to_skip(line: OrderLine) -> str | None:
    if line.is_gift_card:
        return "gift card: nothing to make or ship"
    if not line.requires_shipping:
        return "needs no shipping (digital or service item)"
    if line.fulfillable_quantity == 0:
        return "already fulfilled or removed (nothing left to fulfil)"
    return None


def _unmatched(line: OrderLine, known: LineFacts, config: StoreConfig) -> ItemDecision:
    why = f"no rule matches ({_describe(known)})"
    if known.entry is None:
        why += f"; no catalog entry for {_identity(line)}"
    policy = config.unmatched
    if policy.action is UnmatchedAction.ROUTE and policy.supplier is not None:
        return _decide_for_chain(
            line,
            known,
            config,
            UNMATCHED_RULE,
            (policy.supplier,),
            f"{why}; unmatched items go to {policy.supplier}",
        )
    disposition = (
        Disposition.IGNORE if policy.action is UnmatchedAction.IGNORE else Disposition.HOLD
    )
    suffix = (
        "; unmatched: ignore (the merchant fulfils it)"
        if disposition is Disposition.IGNORE
        else "; unmatched: hold"
    )
    return _decision(line, known, disposition, why + suffix)


def _decide_for_chain(
    line: OrderLine,
    known: LineFacts,
    config: StoreConfig,
    rule_name: str,
    chain: tuple[str, ...],
    reason: str,
) -> ItemDecision:
    entry = known.entry
    if entry is None:
        return _decision(
            line,
            known,
            Disposition.HOLD,
            f"{reason}, but there is no catalog entry for {_identity(line)}",
            rule=rule_name,
        )
    for position, supplier in enumerate(chain):
        if supplier not in entry.listings:
            continue
        try:
            spec = build_spec(entry, supplier, line.properties, config.decoration_properties)
        except PersonalisationError as error:
            return _decision(line, known, Disposition.HOLD, f"{reason}; {error}", rule=rule_name)
        return _decision(
            line,
            known,
            Disposition.ROUTE,
            reason + _skipped_note(chain[:position], supplier),
            rule=rule_name,
            supplier=supplier,
            spec=spec,
            fallbacks=chain[position + 1 :],
        )
    return _decision(
        line,
        known,
        Disposition.HOLD,
        f"{reason}, but catalog entry {entry.key} has no listing for {', '.join(chain)}",
        rule=rule_name,
    )


def _decision(
    line: OrderLine,
    known: LineFacts,
    disposition: Disposition,
    reason: str,
    *,
    rule: str | None = None,
    supplier: str | None = None,
    spec: SupplierItemSpec | None = None,
    fallbacks: tuple[str, ...] = (),
) -> ItemDecision:
    return ItemDecision(
        line.line_item_id,
        disposition,
        reason,
        supplier,
        rule,
        known.decoration.method,
        known.decoration.source,
        known.entry.key if known.entry else None,
        spec,
        fallbacks,
    )


def _hold(decision: ItemDecision, reason: str) -> ItemDecision:
    return ItemDecision(
        decision.line_item_id,
        Disposition.HOLD,
        reason,
        None,
        decision.rule,
        decision.decoration,
        decision.decoration_source,
        decision.catalog_key,
    )


def _rule_reason(rule: Rule) -> str:
    return f"rule {rule.name!r} → {rule.supplier}"


def _skipped_note(skipped: tuple[str, ...] | list[str], chosen: str) -> str:
    if not skipped:
        return ""
    return f"; no catalog listing at {', '.join(skipped)}, so fallback {chosen}"


def _describe(known: LineFacts) -> str:
    facts = known.facts
    return ", ".join(
        (
            f"product_type={known.product_type or 'unknown'}",
            f"decoration={facts.decoration or 'unknown'}",
            f"ship_to={facts.ship_to_country or 'unknown'}",
        )
    )


def _identity(line: OrderLine) -> str:
    parts = [
        f"sku {line.sku}" if line.sku else "",
        f"variant {line.variant_id}" if line.variant_id else "",
    ]
    return " / ".join(part for part in parts if part) or "a line without sku or variant"


def _with_hint(value: str | None, hint: str | None) -> tuple[str | None, str | None]:
    if value:
        return value, "order"
    if hint:
        return hint, "catalog"
    return None, None


def _tags_with_hint(
    tags: tuple[str, ...], hint: tuple[str, ...]
) -> tuple[tuple[str, ...], str | None]:
    if tags:
        return tags, "order"
    if hint:
        return hint, "catalog"
    return (), None
