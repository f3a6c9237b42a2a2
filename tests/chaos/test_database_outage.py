from __future__ import annotations

import pytest

from bench.chaos.database_outage import run


@pytest.mark.answer_deadline  # the receiver as deployed: a store that takes too long is a 503
def test_deliveries_during_an_outage_get_503_or_are_stored_and_none_is_missing(
    database_url: str,
) -> None:
    figures = run(database_url, 12, down_seconds=4.0)

    answers = figures.extra["webhook_answers"]
    assert set(answers) <= {200, 503}, figures.report()
    # a delivery sent once while the outage surely holds is refused, so that Shopify resends it
    assert figures.extra["probe_answers"] == [503], figures.report()
    assert figures.extra["acknowledged_but_not_stored"] == 0
    assert figures.extra["deliveries_never_acknowledged"] == 0
    assert figures.lost == 0, figures.report()
    assert figures.duplicates == 0, figures.report()
    assert figures.stuck == 0, figures.report()
