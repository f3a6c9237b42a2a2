"""The forward-only state machine, checked against a table written out by hand.

Every state an item can be in (its stage and the furthest main stage it reached) is paired
with every stage an event can name; the table says which moves are allowed. The table is the
specification: it is spelled out here, not derived from ``accepts``.
"""

from __future__ import annotations

import pytest

from integrator.domain.stages import MAIN_LINE, Stage, accepts, advance, can_reroute

S = Stage
RECEIVED, ROUTED, SUBMITTED, IN_PRODUCTION = S.RECEIVED, S.ROUTED, S.SUBMITTED, S.IN_PRODUCTION
SHIPPED, DELIVERED = S.SHIPPED, S.DELIVERED
ON_HOLD, FAILED, CANCELLED, RETURNED = S.ON_HOLD, S.FAILED, S.CANCELLED, S.RETURNED
BEFORE_SHIPPING = (RECEIVED, ROUTED, SUBMITTED, IN_PRODUCTION)

# (current stage, furthest main stage reached) → the stages an event may move the item to
ACCEPTED: dict[tuple[Stage, Stage], frozenset[Stage]] = {
    # on the main line: forward along it, or aside to a hold, a failure or a cancellation
    (RECEIVED, RECEIVED): frozenset(
        {ROUTED, SUBMITTED, IN_PRODUCTION, SHIPPED, DELIVERED, ON_HOLD, FAILED, CANCELLED}
    ),
    (ROUTED, ROUTED): frozenset(
        {SUBMITTED, IN_PRODUCTION, SHIPPED, DELIVERED, ON_HOLD, FAILED, CANCELLED}
    ),
    (SUBMITTED, SUBMITTED): frozenset(
        {IN_PRODUCTION, SHIPPED, DELIVERED, ON_HOLD, FAILED, CANCELLED}
    ),
    (IN_PRODUCTION, IN_PRODUCTION): frozenset({SHIPPED, DELIVERED, ON_HOLD, FAILED, CANCELLED}),
    # shipped: it exists and is on its way; it can only arrive or come back
    (SHIPPED, SHIPPED): frozenset({DELIVERED, RETURNED}),
    (DELIVERED, DELIVERED): frozenset({RETURNED}),
    # held before shipping: on past the furthest stage reached, or failed, or cancelled
    (ON_HOLD, RECEIVED): frozenset(
        {ROUTED, SUBMITTED, IN_PRODUCTION, SHIPPED, DELIVERED, FAILED, CANCELLED}
    ),
    (ON_HOLD, ROUTED): frozenset({SUBMITTED, IN_PRODUCTION, SHIPPED, DELIVERED, FAILED, CANCELLED}),
    (ON_HOLD, SUBMITTED): frozenset({IN_PRODUCTION, SHIPPED, DELIVERED, FAILED, CANCELLED}),
    (ON_HOLD, IN_PRODUCTION): frozenset({SHIPPED, DELIVERED, FAILED, CANCELLED}),
    # failed before shipping: the same, with a hold instead of a failure
    (FAILED, RECEIVED): frozenset(
        {ROUTED, SUBMITTED, IN_PRODUCTION, SHIPPED, DELIVERED, ON_HOLD, CANCELLED}
    ),
    (FAILED, ROUTED): frozenset({SUBMITTED, IN_PRODUCTION, SHIPPED, DELIVERED, ON_HOLD, CANCELLED}),
    (FAILED, SUBMITTED): frozenset({IN_PRODUCTION, SHIPPED, DELIVERED, ON_HOLD, CANCELLED}),
    (FAILED, IN_PRODUCTION): frozenset({SHIPPED, DELIVERED, ON_HOLD, CANCELLED}),
    # cancelled and returned are terminal: no late event revives the item
    (CANCELLED, RECEIVED): frozenset(),
    (CANCELLED, ROUTED): frozenset(),
    (CANCELLED, SUBMITTED): frozenset(),
    (CANCELLED, IN_PRODUCTION): frozenset(),
    (RETURNED, SHIPPED): frozenset(),
    (RETURNED, DELIVERED): frozenset(),
}

CASES = [
    pytest.param(current, reached, new, id=f"{current}@{reached}->{new}")
    for (current, reached) in ACCEPTED
    for new in Stage
]


def test_the_table_covers_every_state_an_item_can_be_in() -> None:
    states = set(ACCEPTED)

    assert {current for current, _ in states} == set(Stage)
    assert {(stage, stage) for stage in MAIN_LINE} <= states
    for side in (ON_HOLD, FAILED, CANCELLED):
        assert {reached for current, reached in states if current == side} == set(BEFORE_SHIPPING)
    assert {reached for current, reached in states if current == RETURNED} == {SHIPPED, DELIVERED}


@pytest.mark.parametrize(("current", "reached", "new"), CASES)
def test_accepts_matches_the_table(current: Stage, reached: Stage, new: Stage) -> None:
    assert accepts(current, reached, new) is (new in ACCEPTED[(current, reached)])


@pytest.mark.parametrize(("current", "reached", "new"), CASES)
def test_advance_keeps_the_furthest_main_stage(current: Stage, reached: Stage, new: Stage) -> None:
    moved = advance(current, reached, new)

    if new not in ACCEPTED[(current, reached)]:
        assert moved is None
    elif new in MAIN_LINE:
        assert moved == (new, new)
    else:
        assert moved == (new, reached)


@pytest.mark.parametrize("side", [ON_HOLD, FAILED, CANCELLED])
@pytest.mark.parametrize("reached", [SHIPPED, DELIVERED])
def test_a_shipped_item_is_never_held_failed_or_cancelled(reached: Stage, side: Stage) -> None:
    # failed would make it re-routable: printed and sent a second time
    assert not accepts(reached, reached, side)
    assert advance(reached, reached, side) is None


@pytest.mark.parametrize("late", list(Stage))
@pytest.mark.parametrize("reached", BEFORE_SHIPPING)
def test_a_cancelled_item_stays_cancelled_whatever_comes_late(reached: Stage, late: Stage) -> None:
    assert advance(CANCELLED, reached, late) is None


@pytest.mark.parametrize(
    ("stage", "reroutable"),
    [
        (RECEIVED, True),
        (ROUTED, True),
        (SUBMITTED, False),
        (IN_PRODUCTION, False),
        (SHIPPED, False),
        (DELIVERED, False),
        (ON_HOLD, True),
        (FAILED, True),
        (CANCELLED, False),
        (RETURNED, False),
    ],
)
def test_only_items_not_yet_at_a_supplier_or_held_or_failed_can_be_rerouted(
    stage: Stage, reroutable: bool
) -> None:
    assert can_reroute(stage) is reroutable
