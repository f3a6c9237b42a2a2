from __future__ import annotations

from bench.chaos.duplicate_storm import COPIES, run


def test_tripled_webhooks_and_doubled_callbacks_make_one_of_everything(database_url: str) -> None:
    figures = run(database_url, 8, threads=3)

    assert figures.duplicates == 0, figures.report()
    assert figures.lost == 0, figures.report()
    assert figures.stuck == 0, figures.report()
    assert figures.extra["webhook_answers"] == {200: 8 * COPIES}
    assert figures.extra["shipments"] == figures.extra["fulfillments"] > 0
    assert figures.extra["supplier_orders"] == figures.extra["shipments"]
