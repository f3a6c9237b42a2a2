"""The subset of Shopify's search syntax (``query:`` arguments) and sort keys the sandbox knows.

Supported: ``field:value``, ``field:>=value`` (and ``>``, ``<``, ``<=``), quoted values,
``-field:value`` negation, implicit AND. Dates compare as instants; ``id`` compares numerically.
https://shopify.dev/docs/api/usage/search-syntax
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from integrator.sandbox.shopify.records import Record, number_of

TERM = re.compile(r"""(-?)(\w+):(<=|>=|<|>|=)?('[^']*'|"[^"]*"|\S+)""")
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "": operator.eq,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
FULFILLMENT_STATUS = {
    "unfulfilled": "UNFULFILLED",
    "unshipped": "UNFULFILLED",
    "shipped": "FULFILLED",
    "fulfilled": "FULFILLED",
    "partial": "PARTIALLY_FULFILLED",
    "on_hold": "ON_HOLD",
}
SORT_FIELDS = {
    "UPDATED_AT": "updatedAt",
    "CREATED_AT": "createdAt",
    "PROCESSED_AT": "processedAt",
    "TITLE": "title",
    "ORDER_NUMBER": "number",
    "NAME": "name",
    "PRODUCT_TYPE": "productType",
    "VENDOR": "vendor",
    "INVENTORY_TOTAL": "totalInventory",
}


def matching(records: Sequence[Record], query: str | None) -> list[Record]:
    """Return the records that satisfy every term of ``query``."""
    terms = TERM.findall(query or "")
    return [record for record in records if all(_satisfies(record, *term) for term in terms)]


def sorted_entries(
    records: Sequence[Record], sort_key: str | None, reverse: bool
) -> list[tuple[tuple[Any, ...], Record]]:
    """Sort for a root connection; each entry's key doubles as its keyset cursor."""
    field = SORT_FIELDS.get(sort_key or "ID")
    entries = [
        ((_sortable(record.get(field)) if field else 0, int(number_of(record["id"]))), record)
        for record in records
    ]
    return sorted(entries, key=lambda entry: entry[0], reverse=reverse)


def _sortable(value: Any) -> Any:
    return "" if value is None else value


def _satisfies(record: Record, negated: str, name: str, comparison: str, raw: str) -> bool:
    value = raw.strip("'\"")
    result = _compare(record, name, COMPARISONS[comparison], value)
    return not result if negated else result


def _compare(record: Record, name: str, compare: Callable[[Any, Any], bool], value: str) -> bool:
    if name.endswith("_at"):
        actual = record.get(_camel(name))
        return actual is not None and compare(_instant(actual), _instant(value))
    if name == "id":
        return compare(int(number_of(record["id"])), int(number_of(value)))
    special = _SPECIAL.get(name)
    if special is not None:
        return special(record, value.lower())
    return compare(str(record.get(_camel(name), "")).lower(), value.lower())


def _status(record: Record, value: str) -> bool:
    if value == "any":
        return True
    if value == "cancelled":
        return record.get("cancelledAt") is not None
    if value == "closed":
        return bool(record.get("closed"))
    return not record.get("closed") and record.get("cancelledAt") is None


_SPECIAL: dict[str, Callable[[Record, str], bool]] = {
    "financial_status": lambda r, v: str(r.get("displayFinancialStatus", "")).lower() == v,
    "fulfillment_status": lambda r, v: (
        r.get("displayFulfillmentStatus") == FULFILLMENT_STATUS.get(v, v.upper())
    ),
    "status": _status,
    "tag": lambda r, v: v in (tag.lower() for tag in r.get("tags", [])),
    "sku": lambda r, v: any(
        str(line.get("sku", "")).lower() == v
        for line in [r] * (r.get("__typename") == "ProductVariant")
        + r.get("lineItems", [])
        + r.get("variants", [])
    ),
    "name": lambda r, v: str(r.get("name", "")).lower().lstrip("#") == v.lstrip("#"),
}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
