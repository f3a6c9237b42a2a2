"""Decoration method of a line item: where it comes from, and its canonical name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple

from integrator.domain.model import OrderLine

CANONICAL_METHODS: frozenset[str] = frozenset(
    {
        "dtg",
        "dtf",
        "embroidery",
        "screen_print",
        "sublimation",
        "all_over_print",
        "uv_print",
        "engraving",
        "none",
    }
)

# Spellings merchants and suppliers use; the store's `decoration_aliases` add to these.
BUILT_IN_ALIASES: Mapping[str, str] = {
    "embroidered": "embroidery",
    "emb": "embroidery",
    "embroider": "embroidery",
    "direct_to_garment": "dtg",
    "direct_to_film": "dtf",
    "screenprint": "screen_print",
    "screen_printed": "screen_print",
    "screen_printing": "screen_print",
    "sublimated": "sublimation",
    "dye_sublimation": "sublimation",
    "aop": "all_over_print",
    "all_over": "all_over_print",
    "uv": "uv_print",
    "engraved": "engraving",
    "laser_engraving": "engraving",
    "no_decoration": "none",
    "blank": "none",
}


class SourceKind(StrEnum):
    LINE_ITEM_PROPERTY = "line_item_property"
    VARIANT_OPTION = "variant_option"
    PRODUCT_METAFIELD = "product_metafield"
    PRODUCT_TAG_PREFIX = "product_tag_prefix"
    SKU_SUFFIX = "sku_suffix"
    SKU_PATTERN = "sku_pattern"
    PRODUCT_TYPE_DEFAULT = "product_type_default"


@dataclass(frozen=True)
class DecorationSource:
    """One place to look. ``name`` is the property/option/metafield/prefix; ``table`` maps
    SKU suffixes, SKU regexes or product types to methods for the last three kinds."""

    kind: SourceKind
    name: str = ""
    table: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def label(self) -> str:
        return f"{self.kind.value}:{self.name}" if self.name else self.kind.value

    @cached_property
    def folded_table(self) -> tuple[tuple[str, str, str], ...]:
        """(folded key, key, method), longest key first, so "-EMB-XL" is tried before "-XL"."""
        return tuple(
            sorted(
                ((key.casefold(), key, method) for key, method in self.table.items()),
                key=lambda row: -len(row[0]),
            )
        )

    @cached_property
    def patterns(self) -> tuple[tuple[re.Pattern[str], str, str], ...]:
        return tuple(
            (re.compile(key, re.IGNORECASE), key, method) for key, method in self.table.items()
        )


@dataclass(frozen=True)
class DecorationConfig:
    sources: tuple[DecorationSource, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)  # normalised spelling → canonical

    @cached_property
    def _known_spellings(self) -> dict[str, str | None]:
        return {}

    def canonical(self, value: str) -> str | None:
        """:func:`canonical_method` with this store's aliases, remembered per raw value."""
        known = self._known_spellings
        if value in known:
            return known.get(value)  # .get: another worker thread may have just cleared it
        method = canonical_method(value, self.aliases)
        if len(known) > 10_000:  # values come from orders: keep the memory bounded
            known.clear()
        known[value] = method
        return method


class Decoration(NamedTuple):
    """The resolved method (None when no source said) and where it came from."""

    method: str | None
    source: str | None
    # values found but not understood, so an operator sees why a source was passed over
    ignored: tuple[str, ...] = ()


def normalise_spelling(value: str) -> str:
    """Fold case and separators: ``"Screen Print"`` and ``"screen-print"`` → ``"screen_print"``."""
    return re.sub(r"[\s\-]+", "_", value.strip().casefold())


def canonical_method(value: str, aliases: Mapping[str, str]) -> str | None:
    """Return the canonical method for ``value``, or None when nothing knows this spelling."""
    spelling = normalise_spelling(value)
    if spelling in CANONICAL_METHODS:
        return spelling
    return aliases.get(spelling) or BUILT_IN_ALIASES.get(spelling)


def resolve_decoration(
    line: OrderLine, config: DecorationConfig, product_type: str | None = None
) -> Decoration:
    """Try each configured source in order; the first understood value wins."""
    ignored: list[str] = []
    for source in config.sources:
        found = _look_up(source, line, product_type or line.product_type)
        if found is None:
            continue
        raw, label = found
        method = config.canonical(raw)
        if method is not None:
            return Decoration(method, label, tuple(ignored))
        ignored.append(f"{label} = {raw!r} is not a known decoration method")
    return Decoration(None, None, tuple(ignored))


def _look_up(
    source: DecorationSource, line: OrderLine, product_type: str | None
) -> tuple[str, str] | None:
    label = source.label
    match source.kind:
        case SourceKind.LINE_ITEM_PROPERTY:
            return _labelled(_get_folded(line.properties, source.name), label)
        case SourceKind.VARIANT_OPTION:
            return _labelled(_get_folded(line.variant_options, source.name), label)
        case SourceKind.PRODUCT_METAFIELD:
            return _labelled(line.metafields.get(source.name), label)
        case SourceKind.PRODUCT_TAG_PREFIX:
            return _labelled(_tag_with_prefix(line.tags, source.name), label)
        case SourceKind.SKU_SUFFIX:
            return _sku_suffix(line.sku, source)
        case SourceKind.SKU_PATTERN:
            return _sku_pattern(line.sku, source)
        case SourceKind.PRODUCT_TYPE_DEFAULT:
            return _product_type_default(product_type, source.table)
    return None


def _labelled(value: str | None, label: str) -> tuple[str, str] | None:
    return (value, label) if value and value.strip() else None


def _get_folded(values: Mapping[str, str], name: str) -> str | None:
    if name in values:
        return values[name]
    folded = name.casefold()
    for key, value in values.items():
        if key.casefold() == folded:
            return value
    return None


def _tag_with_prefix(tags: tuple[str, ...], prefix: str) -> str | None:
    folded = prefix.casefold()
    for tag in tags:
        if tag.casefold().startswith(folded):
            return tag[len(prefix) :]
    return None


def _sku_suffix(sku: str | None, source: DecorationSource) -> tuple[str, str] | None:
    if not sku:
        return None
    folded = sku.casefold()
    for folded_suffix, suffix, method in source.folded_table:
        if folded.endswith(folded_suffix):
            return method, f"sku_suffix:{suffix}"
    return None


def _sku_pattern(sku: str | None, source: DecorationSource) -> tuple[str, str] | None:
    if not sku:
        return None
    for pattern, text, method in source.patterns:
        if pattern.search(sku):
            return method, f"sku_pattern:{text}"
    return None


def _product_type_default(
    product_type: str | None, table: Mapping[str, str]
) -> tuple[str, str] | None:
    if not product_type:
        return None
    folded = product_type.casefold()
    for name, method in table.items():
        if name.casefold() == folded:
            return method, f"product_type_default:{name}"
    return None
