"""Canonical item stages and the forward-only state machine.

Main line: received → routed → submitted → in_production → shipped → delivered.
Side states: on_hold, failed, cancelled, returned. An item remembers the furthest main
stage it reached (``reached``); a late or repeated event can never move it behind that.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"
    SUBMITTED = "submitted"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    ON_HOLD = "on_hold"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RETURNED = "returned"


MAIN_LINE: tuple[Stage, ...] = (
    Stage.RECEIVED,
    Stage.ROUTED,
    Stage.SUBMITTED,
    Stage.IN_PRODUCTION,
    Stage.SHIPPED,
    Stage.DELIVERED,
)
RANK: dict[Stage, int] = {stage: index for index, stage in enumerate(MAIN_LINE)}
TERMINAL: frozenset[Stage] = frozenset({Stage.CANCELLED, Stage.RETURNED})
OPEN_BEFORE_SHIPPING: frozenset[Stage] = frozenset(
    {
        Stage.RECEIVED,
        Stage.ROUTED,
        Stage.SUBMITTED,
        Stage.IN_PRODUCTION,
        Stage.ON_HOLD,
        Stage.FAILED,
    }
)


def is_main(stage: Stage) -> bool:
    return stage in RANK


def accepts(current: Stage, reached: Stage, new: Stage) -> bool:
    """Say whether an item at ``current`` (furthest main stage ``reached``) may move to ``new``.

    Events arrive late, twice and out of order, so this is the only gate for every
    supplier callback, poll and Shopify event. Operator actions (release, re-route, retry)
    bypass it: ``integrator.pipeline.timeline.reset`` starts the item again from
    ``received``, once ``integrator.pipeline.operator`` has checked the item's stage and
    asked the supplier that it no longer makes the item.
    """
    if new == current or current in TERMINAL:
        return False
    if is_main(new):
        return RANK[new] > RANK[reached]
    shipped = RANK[reached] >= RANK[Stage.SHIPPED]
    if new in (Stage.ON_HOLD, Stage.FAILED, Stage.CANCELLED):
        return not shipped
    if new == Stage.RETURNED:
        return shipped
    return False


def advance(current: Stage, reached: Stage, new: Stage) -> tuple[Stage, Stage] | None:
    """Return the (current, reached) pair after ``new``, or None when the event is ignored."""
    if not accepts(current, reached, new):
        return None
    if is_main(new):
        return new, new
    return new, reached


def release(current: Stage, reached: Stage) -> tuple[Stage, Stage] | None:
    """A supplier lifted its hold: an item on hold goes back to the main stage it had reached
    before the hold (the hold never changed ``reached``). Anything else is not on hold: None."""
    if current != Stage.ON_HOLD:
        return None
    return reached, reached


def can_reroute(current: Stage) -> bool:
    """An operator may re-route or release an item that is held or failed, before shipping."""
    return current in (Stage.ON_HOLD, Stage.FAILED, Stage.RECEIVED, Stage.ROUTED)
