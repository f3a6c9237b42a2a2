from __future__ import annotations

from bench.chaos.throttled_shopify import run


def test_tracking_sync_against_a_small_bucket_waits_and_never_fails(database_url: str) -> None:
    # a tracking sync is one 10-point fulfillmentCreate (enrichment kept the FO lines): a
    # 20-point bucket restoring 20 points/s allows two syncs a second, fewer than the shipped
    # callbacks ask for, so the client must wait. (At 100 points/s it waited only when the
    # syncs happened to overlap: since the worker wakes on each enqueue, each callback's sync
    # ran as soon as it arrived and the bucket refilled in between.)
    figures = run(database_url, 4, bucket=20.0, threads=3, restore=20.0)

    assert figures.extra["shipments"] == 16
    assert figures.extra["failed_syncs"] == 0, figures.report()
    assert figures.extra["fulfillments"] == 16
    assert figures.extra["throttle_waits_during_sync"] > 0, figures.report()
    assert figures.duplicates == figures.lost == figures.stuck == 0, figures.report()
