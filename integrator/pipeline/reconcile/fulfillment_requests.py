"""``fulfillment_requests``: fulfillment-service mode's requests whose webhook and callback
notification were both missed."""

from __future__ import annotations

from datetime import datetime

from integrator.bootstrap import Container
from integrator.pipeline.reconcile.passes import PassReport, served_shops


def fulfillment_requests(
    container: Container, *, dry_run: bool = False, since: datetime | None = None
) -> PassReport:
    """Requests waiting at our location (assigned FOs with a submitted fulfillment or
    cancellation request); their orders are followed, which answers them."""
    from integrator.pipeline.fulfillment_requests import poll_assigned_requests

    report = PassReport("fulfillment_requests")
    for shop in served_shops(container):
        poll = poll_assigned_requests(container, shop, dry_run=dry_run)
        report.found += poll.found
        report.enqueued += poll.enqueued
        report.notes += poll.notes
    return report
