"""Reconciliation passes: catch what webhooks and callbacks missed. Each pass only reads and
enqueues idempotent jobs (or writes its own small facts), so running one twice is harmless.

This module is the registry: pass name → function, and the job kinds the passes run as."""

from __future__ import annotations

from collections.abc import Callable

from integrator.bootstrap import Container
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.alert_poster import post_alert
from integrator.pipeline.job_kinds import JobKind, reconcile_kind
from integrator.pipeline.reconcile.data_retention import retention
from integrator.pipeline.reconcile.fulfillment_requests import fulfillment_requests
from integrator.pipeline.reconcile.passes import PassReport, slot_of
from integrator.pipeline.reconcile.shopify_catchup import missed_orders
from integrator.pipeline.reconcile.stuck import alert_stuck_items
from integrator.pipeline.reconcile.subscriptions import webhook_subscriptions
from integrator.pipeline.reconcile.supplier_polling import poll_supplier_order, silent_suppliers
from integrator.pipeline.reconcile.sync_retries import failed_syncs
from integrator.store_config.operations import RECONCILE_PASSES

__all__ = [
    "JOB_KINDS",
    "PASSES",
    "PASS_FUNCTIONS",
    "PassReport",
    "alert_stuck_items",
    "failed_syncs",
    "fulfillment_requests",
    "missed_orders",
    "retention",
    "silent_suppliers",
    "slot_of",
    "webhook_subscriptions",
]

PASSES = RECONCILE_PASSES


PASS_FUNCTIONS: dict[str, Callable[..., PassReport]] = {
    "missed_orders": missed_orders,
    "silent_suppliers": silent_suppliers,
    "failed_syncs": failed_syncs,
    "stuck_items": alert_stuck_items,
    "retention": retention,
    "webhook_subscriptions": webhook_subscriptions,
    "fulfillment_requests": fulfillment_requests,
}


def _pass_job(name: str) -> Callable[[Container, JobContext], object]:
    def run(container: Container, context: JobContext) -> object:
        report = PASS_FUNCTIONS[name](container)
        return f"found={report.found} enqueued={report.enqueued}"

    return run


JOB_KINDS: dict[str, Callable[[Container, JobContext], object]] = {
    **{reconcile_kind(name): _pass_job(name) for name in PASSES},
    JobKind.SUPPLIER_POLL: poll_supplier_order,
    JobKind.ALERT_POST: post_alert,
}
