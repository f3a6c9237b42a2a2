from __future__ import annotations

from bench.chaos.throttled_shopify import run


def test_tracking_sync_against_a_small_bucket_waits_and_never_fails(database_url: str) -> None:
    # a tracking sync is one 10-point fulfillmentCreate (enrichment kept the FO lines): a
    # 20-point bucket makes the three threads wait for each other. It restores 20 points/s, so
    # the 16 syncs need 7 s of restoring: they wait even on a loaded machine (at 100 points/s
    # a sync phase slowed to 3.9 s by other processes never waited)
    figures = run(database_url, 4, bucket=20.0, threads=3, restore_rate=20.0)

    assert figures.extra["shipments"] == 16
    assert figures.extra["failed_syncs"] == 0, figures.report()
    assert figures.extra["fulfillments"] == 16
    assert figures.extra["throttle_waits_during_sync"] > 0, figures.report()
    assert figures.duplicates == figures.lost == figures.stuck == 0, figures.report()
