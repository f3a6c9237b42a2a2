"""Routing rules: what a rule matches, which rule an item meets first, and shadowed rules."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple


class ItemFacts(NamedTuple):
    """What rules look at, case-folded once per line item (None = not known). A named tuple
    because one is built per line item, and that is the hot path."""

    product_type: str | None = None
    vendor: str | None = None
    sku: str | None = None
    tags: frozenset[str] = frozenset()
    decoration: str | None = None
    ship_to_country: str | None = None
    personalised: bool = False


@dataclass(frozen=True)
class RuleMatch:
    """Conditions of one rule; None means "any". Lists inside a condition are alternatives;
    every condition given must hold. Values are stored case-folded (countries upper-case)."""

    product_type: frozenset[str] | None = None
    vendor: frozenset[str] | None = None
    sku: tuple[str, ...] | None = None  # globs
    tags: frozenset[str] | None = None  # the item has at least one of them
    decoration: frozenset[str] | None = None
    ship_to_country: frozenset[str] | None = None
    personalised: bool | None = None

    def matches(self, facts: ItemFacts) -> bool:
        """Say whether an item with ``facts`` meets every condition of this rule."""
        # a plain loop: measurably faster than all() over a generator on this hot path
        for check in self._checks:  # noqa: SIM110
            if not check(facts):
                return False
        return True

    @cached_property
    def _checks(self) -> tuple[Callable[[ItemFacts], bool], ...]:
        """One small predicate per condition given, so absent conditions cost nothing.
        (None is never in a set of strings, so a missing fact fails its condition.)"""
        checks: list[Callable[[ItemFacts], bool]] = []
        if (product_types := self.product_type) is not None:
            checks.append(lambda facts: facts.product_type in product_types)
        if (decorations := self.decoration) is not None:
            checks.append(lambda facts: facts.decoration in decorations)
        if (countries := self.ship_to_country) is not None:
            checks.append(lambda facts: facts.ship_to_country in countries)
        if (vendors := self.vendor) is not None:
            checks.append(lambda facts: facts.vendor in vendors)
        if (personalised := self.personalised) is not None:
            checks.append(lambda facts: facts.personalised is personalised)
        if (tags := self.tags) is not None:
            checks.append(lambda facts: not tags.isdisjoint(facts.tags))
        if self.sku is not None:
            regex = re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in self.sku))
            checks.append(
                lambda facts: facts.sku is not None and regex.match(facts.sku) is not None
            )
        return tuple(checks)


@dataclass(frozen=True)
class Rule:
    name: str
    match: RuleMatch
    supplier: str
    fallback: tuple[str, ...] = ()

    @property
    def chain(self) -> tuple[str, ...]:
        """The supplier and then its fallbacks, in the order they are tried."""
        return (self.supplier, *self.fallback)


class UnmatchedAction(StrEnum):
    HOLD = "hold"
    IGNORE = "ignore"
    ROUTE = "route"  # to ``UnmatchedPolicy.supplier``


@dataclass(frozen=True)
class UnmatchedPolicy:
    action: UnmatchedAction = UnmatchedAction.HOLD
    supplier: str | None = None


# --- first match, fast -----------------------------------------------------------------------

_INDEXED = ("product_type", "decoration", "vendor", "ship_to_country", "tags")


@dataclass(frozen=True)
class RuleIndex:
    """Rules bucketed by one exact-valued condition, so an item checks only rules that could
    match it, in their original order; the answer is always that of a linear scan."""

    rules: tuple[Rule, ...]
    buckets: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)
    unindexed: tuple[int, ...] = ()

    @classmethod
    def build(cls, rules: Sequence[Rule]) -> RuleIndex:
        buckets: dict[str, dict[str, list[int]]] = {name: {} for name in _INDEXED}
        unindexed: list[int] = []
        for position, rule in enumerate(rules):
            condition = next((name for name in _INDEXED if getattr(rule.match, name)), None)
            if condition is None:
                unindexed.append(position)
                continue
            for value in getattr(rule.match, condition):
                buckets[condition].setdefault(value, []).append(position)
        return cls(
            tuple(rules),
            {
                name: {value: tuple(found) for value, found in by_value.items()}
                for name, by_value in buckets.items()
                if by_value
            },
            tuple(unindexed),
        )

    def first_match(self, facts: ItemFacts) -> Rule | None:
        """Return the first rule (in file order) whose conditions ``facts`` meet."""
        rules = self.rules
        for position in self._candidates(facts):
            if rules[position].match.matches(facts):
                return rules[position]
        return None

    def _candidates(self, facts: ItemFacts) -> Iterable[int]:
        groups = [self.unindexed] if self.unindexed else []
        for name, by_value in self.buckets.items():
            value = getattr(facts, name)
            if name == "tags":
                groups += [by_value[tag] for tag in value if tag in by_value]
            elif value is not None and value in by_value:
                groups.append(by_value[value])
        if len(groups) == 1:
            return groups[0]
        return sorted({position for group in groups for position in group})


# --- rules that can never match ---------------------------------------------------------------


def shadowing_rule(rule: Rule, earlier: Sequence[Rule]) -> Rule | None:
    """Return an earlier rule that catches every item ``rule`` would catch, if any."""
    return next((first for first in earlier if covers(first.match, rule.match)), None)


def covers(first: RuleMatch, later: RuleMatch) -> bool:
    """Say whether every item meeting ``later`` also meets ``first`` (a safe approximation:
    True is always right; some covering pairs with overlapping globs are not detected)."""
    return (
        _set_covers(first.product_type, later.product_type)
        and _set_covers(first.vendor, later.vendor)
        and _set_covers(first.decoration, later.decoration)
        and _set_covers(first.ship_to_country, later.ship_to_country)
        and _set_covers(first.tags, later.tags)
        and (first.personalised is None or first.personalised == later.personalised)
        and _globs_cover(first.sku, later.sku)
    )


def _set_covers(first: frozenset[str] | None, later: frozenset[str] | None) -> bool:
    if first is None:
        return True
    return later is not None and later <= first


def _globs_cover(first: tuple[str, ...] | None, later: tuple[str, ...] | None) -> bool:
    if first is None:
        return True
    if later is None:
        return False  # even "*" needs a SKU, and the later rule also takes items without one
    return all(any(_glob_covers(outer, inner) for outer in first) for inner in later)


def _glob_covers(outer: str, inner: str) -> bool:
    if outer in ("*", inner):
        return True
    if not _has_wildcard(inner):
        return fnmatch.fnmatchcase(inner, outer)
    # "TEE-*" covers "TEE-BLK-*": a trailing-star prefix that the inner glob's literal start extends
    if outer.endswith("*") and not _has_wildcard(outer[:-1]):
        literal_start = re.split(r"[*?\[]", inner, maxsplit=1)[0]
        return literal_start.startswith(outer[:-1])
    return False


def _has_wildcard(glob: str) -> bool:
    return any(char in glob for char in "*?[")
