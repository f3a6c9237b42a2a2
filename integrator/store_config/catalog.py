"""The catalog: what each Shopify variant is at each supplier, and the spec sent for an item."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from urllib.parse import quote

from integrator.domain.model import OrderLine, PrintFile, SupplierItemSpec
from integrator.domain.public_urls import NotPublicUrl, public_url

# SupplierItemSpec.identifiers each adapter needs; any one alternative (a tuple) is enough.
REQUIRED_IDENTIFIERS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "printful": (("variant_id",), ("sync_variant_id",)),
    "printify": (("product_id", "variant_id"),),
    "gelato": (("product_uid",),),
    "prodigi": (("sku",),),
}


def missing_identifiers(adapter: str, identifiers: Mapping[str, str]) -> str | None:
    """Describe what ``identifiers`` lacks for ``adapter``, or None when it has enough."""
    alternatives = REQUIRED_IDENTIFIERS.get(adapter, ())
    if not alternatives or any(all(identifiers.get(key) for key in keys) for keys in alternatives):
        return None
    return " or ".join(" and ".join(keys) for keys in alternatives)


class CarryAs(StrEnum):
    FILE = "file"
    OPTION = "option"
    PACKING_NOTE = "packing_note"


@dataclass(frozen=True)
class PersonalisationMapping:
    """How one line item property reaches the supplier."""

    property: str
    carry_as: CarryAs
    placement: str | None = None  # file layers
    url_template: str | None = None  # file layers from text, "{value}" is URL-quoted
    kind: str = "default"  # file layers
    option: str | None = None  # option name at the supplier
    label: str | None = None  # packing-note label, default the property name


@dataclass(frozen=True)
class SupplierListing:
    """One catalog entry's identity at one supplier."""

    supplier: str
    identifiers: Mapping[str, str]
    files: tuple[PrintFile, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    # None: use the entry's mapping
    personalisation: tuple[PersonalisationMapping, ...] | None = None

    @cached_property
    def base_spec(self) -> SupplierItemSpec:
        """The spec of an item without personalisation, built once and shared."""
        return SupplierItemSpec(dict(self.identifiers), self.files, dict(self.options))


@dataclass(frozen=True)
class CatalogEntry:
    sku: str | None
    variant_id: str | None
    listings: Mapping[str, SupplierListing]
    title: str | None = None
    # hints for offline explain and for products the shop left untyped
    product_type: str | None = None
    vendor: str | None = None
    tags: tuple[str, ...] = ()
    personalisation: tuple[PersonalisationMapping, ...] = ()

    @property
    def key(self) -> str:
        """How decisions name this entry: ``sku:TEE-BLK-M`` or ``variant:4242``."""
        return f"sku:{self.sku}" if self.sku else f"variant:{self.variant_id}"

    def mappings_for(self, supplier: str) -> tuple[PersonalisationMapping, ...]:
        listing = self.listings[supplier]
        return self.personalisation if listing.personalisation is None else listing.personalisation


@dataclass(frozen=True)
class Catalog:
    entries: tuple[CatalogEntry, ...] = ()

    @cached_property
    def _by_variant(self) -> dict[str, CatalogEntry]:
        return {entry.variant_id: entry for entry in self.entries if entry.variant_id}

    @cached_property
    def _by_sku(self) -> dict[str, CatalogEntry]:
        return {entry.sku: entry for entry in self.entries if entry.sku}

    def find(self, line: OrderLine) -> CatalogEntry | None:
        """Return the entry for the line's variant id, else for its SKU, else None."""
        if line.variant_id and line.variant_id in self._by_variant:
            return self._by_variant[line.variant_id]
        if line.sku:
            return self._by_sku.get(line.sku.strip())
        return None

    def __len__(self) -> int:
        return len(self.entries)


class PersonalisationError(ValueError):
    """A property cannot be carried the way the catalog says (e.g. a file that is no URL)."""


def build_spec(
    entry: CatalogEntry, supplier: str, properties: Mapping[str, str], skip: frozenset[str]
) -> SupplierItemSpec:
    """Return what the item is at ``supplier``, with its personalisation carried over.

    Properties named in the mapping follow it (private ``_`` ones only then); other public
    properties, except those in ``skip`` (casefolded, e.g. the decoration property), become
    packing-note lines so that a customer's text is never dropped silently.

    :raises PersonalisationError: a property mapped to a file layer is not a URL.
    """
    listing = entry.listings[supplier]
    if not properties:
        return listing.base_spec
    by_name = {mapping.property.casefold(): mapping for mapping in entry.mappings_for(supplier)}
    files = list(listing.files)
    options = dict(listing.options)
    notes: list[str] = []
    for name, value in properties.items():
        folded = name.casefold()
        mapping = by_name.get(folded)
        if mapping is None:
            if not name.startswith("_") and folded not in skip and value.strip():
                notes.append(f"{name}: {value}")
            continue
        _carry(mapping, name, value, files, options, notes)
    return SupplierItemSpec(
        dict(listing.identifiers), tuple(files), options, "\n".join(notes) or None
    )


def _carry(
    mapping: PersonalisationMapping,
    name: str,
    value: str,
    files: list[PrintFile],
    options: dict[str, str],
    notes: list[str],
) -> None:
    if not value.strip():
        return
    match mapping.carry_as:
        case CarryAs.FILE:
            files.append(
                PrintFile(
                    mapping.placement or "front", _file_url(mapping, name, value), mapping.kind
                )
            )
        case CarryAs.OPTION:
            options[mapping.option or name] = value
        case CarryAs.PACKING_NOTE:
            notes.append(f"{mapping.label or name}: {value}")


def _file_url(mapping: PersonalisationMapping, name: str, value: str) -> str:
    if mapping.url_template:
        return mapping.url_template.replace("{value}", quote(value, safe=""))
    if value.startswith(("https://", "http://")):
        try:
            return public_url(value)
        except NotPublicUrl as refusal:
            raise PersonalisationError(f"property {name!r}: the file URL {refusal}") from None
    raise PersonalisationError(f"property {name!r} should be a file URL, got {value!r}")


def is_personalised(properties: Mapping[str, str], skip: Collection[str]) -> bool:
    """An item is personalised when it carries a public property other than those in ``skip``."""
    return any(
        value.strip() and not name.startswith("_") and name.casefold() not in skip
        for name, value in properties.items()
    )
