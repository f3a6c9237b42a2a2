"""Enqueue the mirror of an order's production stage to Shopify (the job is
``tracking.mirror_order_stage``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import Order
from integrator.jobqueue.jobs import enqueue
from integrator.pipeline.job_kinds import JobKind


def enqueue_mirror(session: Session, container: Container, row: Order) -> None:
    """Mirror the production stage to Shopify (metafield + tag) when the store wants it."""
    if not container.config(row.shop_domain).shopify.mirror_stage or not row.production_stage:
        return
    enqueue(
        session,
        JobKind.SHOPIFY_MIRROR_STAGE,
        {"order_id": row.id},
        unique_key=f"mirror:{row.id}:{row.production_stage}",
    )
