"""The inbox: store a delivery and enqueue its work in one transaction, or find it a duplicate."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from integrator.db.models import WebhookDelivery
from integrator.db.timestamps import utcnow
from integrator.db.upsert import insert_or_ignore
from integrator.jobqueue.jobs import enqueue, enqueue_many

# headers worth keeping for the operator; never the signature or anything secret
KEPT_HEADERS = (
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "X-Shopify-Triggered-At",
    "X-Shopify-API-Version",
    "Content-Type",
    "User-Agent",
)


@dataclass(frozen=True)
class NewDelivery:
    source: str
    topic: str
    dedupe_key: str
    body: bytes
    headers: dict[str, str]
    shop_domain: str | None = None
    event_id: str | None = None
    triggered_at: str | None = None
    api_version: str | None = None


class UnstorableDelivery(ValueError):
    """A delivery whose headers cannot be stored as they are; ``problems`` names each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# the text columns a delivery fills, with their limits read from the table itself
_TEXT_COLUMNS = ("source", "topic", "shop_domain", "event_id", "triggered_at", "api_version")


def _length(column: str) -> int | None:
    length: int | None = getattr(WebhookDelivery.__table__.c[column].type, "length", None)
    return length


_LIMITS = {name: _length(name) for name in _TEXT_COLUMNS}
_DEDUPE_LIMIT = _length("dedupe_key")


def check_storable(delivery: NewDelivery) -> None:
    """Refuse before the insert what the database would refuse in it (one bad delivery must
    not fail the others written in the same group commit).

    :raises UnstorableDelivery: naming each value that is too long or holds a NUL character.
    """
    problems: list[str] = []
    for name in _TEXT_COLUMNS:
        value = getattr(delivery, name)
        if value is None:
            continue
        limit = _LIMITS[name]
        if limit is not None and len(value) > limit:
            problems.append(f"{name} longer than {limit} characters")
        if "\x00" in value:
            problems.append(f"{name} holds a NUL character")
    if "\x00" in delivery.dedupe_key:
        problems.append("dedupe_key holds a NUL character")
    if any("\x00" in value for value in delivery.headers.values()):
        problems.append("a kept header holds a NUL character")
    if problems:
        raise UnstorableDelivery(problems)


def dedupe_column(key: str) -> str:
    """The key as stored: itself, or its SHA-256 when longer than the column (never cut, so
    two different long keys can never look like duplicates)."""
    if len(key) <= (_DEDUPE_LIMIT or len(key)):
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Stored:
    delivery_id: int | None  # None: a duplicate of a delivery we already have
    job_id: int | None

    @property
    def duplicate(self) -> bool:
        return self.delivery_id is None


def kept_headers(headers: Any) -> dict[str, str]:
    return {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}


def delivery_columns(delivery: NewDelivery) -> dict[str, Any]:
    """A delivery's column values but its body and what the service makes of it (both
    writers: this one and the PostgreSQL batch statement)."""
    return {
        "source": delivery.source,
        "topic": delivery.topic,
        "shop_domain": delivery.shop_domain,
        "dedupe_key": dedupe_column(delivery.dedupe_key),
        "event_id": delivery.event_id,
        "triggered_at": delivery.triggered_at,
        "api_version": delivery.api_version,
        "headers": delivery.headers,
        "body_sha256": hashlib.sha256(delivery.body).hexdigest(),
        "body_size": len(delivery.body),
    }


def _row(delivery: NewDelivery, job_kind: str | None, outcome: str = "stored") -> dict[str, Any]:
    return {
        **delivery_columns(delivery),
        "body": delivery.body,
        "received_at": utcnow(),
        "outcome": outcome if job_kind else "ignored",
    }


def store_delivery(
    session: Session | Connection,
    delivery: NewDelivery,
    *,
    job_kind: str | None,
    outcome: str = "stored",
) -> Stored:
    """Insert the delivery (unique on source + dedupe key) and, if new, enqueue ``job_kind``.

    :raises UnstorableDelivery: see :func:`check_storable`.
    """
    check_storable(delivery)
    values = _row(delivery, job_kind, outcome)
    delivery_id = insert_or_ignore(
        session, WebhookDelivery, values, conflict=["source", "dedupe_key"]
    )
    if delivery_id is None or job_kind is None:
        return Stored(delivery_id, None)
    job_id = enqueue(
        session,
        job_kind,
        {"delivery_id": delivery_id},
        unique_key=f"delivery:{delivery_id}",
        fair_key=delivery.shop_domain,
    )
    return Stored(delivery_id, job_id)


_STORE_MANY = {
    name: dialect.insert(WebhookDelivery.__table__)
    .on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
    .returning(WebhookDelivery.id, WebhookDelivery.source, WebhookDelivery.dedupe_key)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def store_deliveries(
    connection: Connection, deliveries: Sequence[NewDelivery], job_kinds: Sequence[str | None]
) -> list[Stored]:
    """:func:`store_delivery` for a batch: one multi-row insert for the deliveries and one for
    their jobs, whatever the batch's size (a statement per row cost more CPU than the rest of
    a webhook request). A key twice in the batch is stored once; the second is a duplicate.

    :raises UnstorableDelivery: see :func:`check_storable`.
    """
    for delivery in deliveries:
        check_storable(delivery)
    rows = [_row(d, kind) for d, kind in zip(deliveries, job_kinds, strict=True)]
    dialect = "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
    new_ids = {
        (source, key): delivery_id
        for delivery_id, source, key in connection.execute(_STORE_MANY[dialect], rows)
    }
    ids: list[int | None] = []
    for row in rows:  # the first of equal keys owns the new row; the others are duplicates
        ids.append(new_ids.pop((row["source"], row["dedupe_key"]), None))
    queued = [
        (kind, delivery_id, delivery.shop_domain)
        for delivery_id, kind, delivery in zip(ids, job_kinds, deliveries, strict=True)
        if delivery_id is not None and kind is not None
    ]
    job_ids = enqueue_many(
        connection,
        [
            (kind, {"delivery_id": delivery_id}, f"delivery:{delivery_id}")
            for kind, delivery_id, _ in queued
        ],
        fair_keys=[shop for _, _, shop in queued],
    )
    return [
        Stored(delivery_id, job_ids.get(f"delivery:{delivery_id}") if delivery_id else None)
        for delivery_id in ids
    ]


def load_delivery(session: Session, delivery_id: int) -> WebhookDelivery | None:
    return session.scalars(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)).first()


def mark_delivery(
    session: Session, delivery_id: int, outcome: str, detail: str | None = None
) -> None:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is not None:
        delivery.outcome = outcome
        delivery.outcome_detail = detail
        delivery.processed_at = utcnow()
