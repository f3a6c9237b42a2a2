from __future__ import annotations

from bench.chaos.killed_workers import run


def test_orders_complete_once_while_worker_processes_are_sigkilled(database_url: str) -> None:
    figures = run(database_url, 6, processes=2, threads=2, kill_every=(2.0, 4.0), max_kills=4)

    assert figures.extra["sigkills"] >= 1
    assert figures.duplicates == 0, figures.report()
    assert figures.lost == 0, figures.report()
    assert figures.stuck == 0, figures.report()
    assert figures.extra["shipments"] == figures.extra["fulfillments"] > 0
