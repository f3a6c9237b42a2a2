"""The benchmark scripts' own arithmetic and inputs (not their timings)."""

from __future__ import annotations

from bench.common import percentile, print_table
from bench.ingest import SECRET, realistic_bodies
from bench.pipeline import SKU_SUPPLIER, order_mix
from integrator.shopify.webhook_verification import verify_webhook


def test_percentile_by_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([], 50) != percentile([], 50)  # NaN for no values


def test_table_is_markdown() -> None:
    table = print_table(["a", "b"], [[1, 2.5], ["x", float("nan")]])
    lines = table.splitlines()
    assert lines[0].startswith("| a") and lines[1].startswith("|---")
    assert "–" in lines[3]


def test_ingest_bodies_are_realistic_and_signed() -> None:
    bodies = realistic_bodies(5)
    for signed in bodies:
        assert 10 * 1024 <= len(signed.body) <= 20 * 1024
        assert verify_webhook(signed.body, {"X-Shopify-Hmac-Sha256": signed.hmac}, [SECRET])


def test_pipeline_mix_is_seeded_and_routable() -> None:
    first, second = order_mix(50), order_mix(50)
    assert [[(line.sku, line.quantity) for line in lines] for lines in first] == [
        [(line.sku, line.quantity) for line in lines] for lines in second
    ]
    assert all(1 <= len(lines) <= 3 for lines in first)
    assert all(line.sku in SKU_SUPPLIER for lines in first for line in lines)


def test_wakeup_bench_measures_each_pick_up(database_url: str) -> None:
    """bench/wakeup.py: an idle worker picks up each job enqueued by another connection, and
    the delay measured runs from the start of the enqueuing transaction to the handler's."""
    from bench.wakeup import pick_up_delays
    from integrator.db.database import Database

    worker_db, web_db = Database.from_url(database_url), Database.from_url(database_url)
    try:
        delays = pick_up_delays(worker_db, web_db, rounds=3)
    finally:
        worker_db.dispose()
        web_db.dispose()
    assert len(delays) == 3
    assert all(0 <= delay < 5.0 for delay in delays)
