"""Found by the supplier-outage run: Printify orders created twice under one reference."""

from __future__ import annotations

from tests.suppliers.conftest import make_harness

NEWER_ORDERS = 60  # more than the adapter's lookup reads (5 pages of 10)


def test_a_retried_printify_create_finds_its_order_behind_many_newer_ones() -> None:
    harness = make_harness("printify")
    first = harness.request("2000")
    harness.adapter.submit(first)  # its answer "lost": the pipeline will send it again
    for number in range(NEWER_ORDERS):
        harness.adapter.submit(harness.request(f"3{number:03d}"))

    again = harness.adapter.submit(first)

    assert again.already_existed
    assert harness.sandbox.created_count(first.external_ref) == 1
