"""Check catalog.yaml entry by entry and build the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrator.domain.model import PrintFile
from integrator.domain.public_urls import NotPublicUrl, public_url
from integrator.store_config import schema
from integrator.store_config.catalog import (
    REQUIRED_IDENTIFIERS,
    CarryAs,
    Catalog,
    CatalogEntry,
    PersonalisationMapping,
    SupplierListing,
    missing_identifiers,
)
from integrator.store_config.checking import check_section, is_web_url
from integrator.store_config.problems import ConfigProblem, KeyPath
from integrator.store_config.store import SupplierConfig
from integrator.store_config.yaml_document import YamlDocument

_IDENTIFIER_KEYS: Mapping[str, frozenset[str]] = {
    adapter: frozenset(key for keys in alternatives for key in keys)
    for adapter, alternatives in REQUIRED_IDENTIFIERS.items()
}


def build_catalog(
    document: YamlDocument,
    suppliers: Mapping[str, SupplierConfig],
    declared: set[str],
    problems: list[ConfigProblem],
) -> Catalog:
    """Check every entry, recording problems, and return the catalog of the sound ones."""
    data = document.data if document.data is not None else []
    if not isinstance(data, list):
        problems.append(document.problem((), "the file should be a list of catalog entries"))
        return Catalog()
    entries = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data):
        entry = _build_entry(document, index, item, suppliers, declared, problems)
        if entry is None:
            continue
        for key in (
            f"sku {entry.sku}" if entry.sku else None,
            f"variant_id {entry.variant_id}" if entry.variant_id else None,
        ):
            if key is None:
                continue
            if key in seen:
                problems.append(document.problem((index,), f"duplicate {key} (also [{seen[key]}])"))
            seen.setdefault(key, index)
        entries.append(entry)
    return Catalog(tuple(entries))


def _build_entry(
    document: YamlDocument,
    index: int,
    data: Any,
    suppliers: Mapping[str, SupplierConfig],
    declared: set[str],
    problems: list[ConfigProblem],
) -> CatalogEntry | None:
    path: KeyPath = (index,)
    section = check_section(schema.CatalogEntrySection, data, path, document, problems)
    if section is None:
        return None
    count = len(problems)
    if not section.sku and not section.variant_id:
        problems.append(document.problem(path, "an entry needs a sku or a variant_id"))
    personalisation = _build_mappings(
        document, path + ("personalisation",), section.personalisation, problems
    )
    listings = {}
    for supplier, listing_data in (section.model_extra or {}).items():
        listing = _build_listing(
            document, path + (supplier,), supplier, listing_data, suppliers, declared, problems
        )
        if listing is not None:
            listings[supplier] = listing
    if not section.model_extra:
        problems.append(document.problem(path, "the entry names no supplier"))
    if len(problems) != count:
        return None
    return CatalogEntry(
        sku=section.sku.strip() if section.sku else None,
        variant_id=section.variant_id,
        listings=listings,
        title=section.title,
        product_type=section.product_type,
        vendor=section.vendor,
        tags=tuple(section.tags),
        personalisation=personalisation,
    )


def _build_listing(
    document: YamlDocument,
    path: KeyPath,
    supplier: str,
    data: Any,
    suppliers: Mapping[str, SupplierConfig],
    declared: set[str],
    problems: list[ConfigProblem],
) -> SupplierListing | None:
    if supplier not in declared:
        problems.append(
            document.problem(
                path, f"unknown supplier {supplier!r} (not under suppliers: in routing.yaml)"
            )
        )
        return None
    section = check_section(schema.ListingSection, data, path, document, problems)
    if section is None or supplier not in suppliers:
        return None  # a broken supplier section is reported in routing.yaml
    adapter = suppliers[supplier].adapter
    identifiers = _identifiers(document, path, adapter, section.model_extra or {}, problems)
    missing = missing_identifiers(adapter, identifiers)
    if missing is not None:
        problems.append(
            document.problem(
                path, f"missing identifiers for {supplier} ({adapter}): needs {missing}"
            )
        )
    for position, print_file in enumerate(section.files):
        refusal = _print_file_refusal(print_file.url)
        if refusal is not None:
            problems.append(document.problem(path + ("files", position, "url"), refusal))
    mappings = (
        None
        if section.personalisation is None
        else _build_mappings(
            document, path + ("personalisation",), section.personalisation, problems
        )
    )
    return SupplierListing(
        supplier,
        identifiers,
        tuple(PrintFile(file.placement, file.url, file.kind) for file in section.files),
        dict(section.options),
        mappings,
    )


def _print_file_refusal(url: str) -> str | None:
    """Why a catalog print file cannot be sent to a supplier (who fetches it), or None."""
    if not is_web_url(url):
        return f"should be an http(s) URL, got {url!r}"
    try:
        public_url(url)
    except NotPublicUrl as refusal:
        return f"should be a public http(s) URL: {url!r} {refusal}"
    return None


def _identifiers(
    document: YamlDocument,
    path: KeyPath,
    adapter: str,
    extra: Mapping[str, Any],
    problems: list[ConfigProblem],
) -> dict[str, str]:
    allowed = _IDENTIFIER_KEYS.get(adapter, frozenset())
    identifiers = {}
    for key, value in extra.items():
        if key not in allowed:
            problems.append(
                document.problem(
                    path + (key,),
                    f"unknown key (identifiers for {adapter}: "
                    f"{', '.join(sorted(allowed))}; or files, options, "
                    "personalisation)",
                )
            )
        elif isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(document.problem(path + (key,), "should be a string or a number"))
        else:
            identifiers[key] = str(value)
    return identifiers


def _build_mappings(
    document: YamlDocument,
    path: KeyPath,
    sections: list[schema.PersonalisationSection],
    problems: list[ConfigProblem],
) -> tuple[PersonalisationMapping, ...]:
    mappings = []
    for position, section in enumerate(sections):
        carry_as = CarryAs(section.carry_as)
        if carry_as is CarryAs.FILE and not section.placement:
            problems.append(document.problem(path + (position,), "a file layer needs a placement"))
        if section.url_template is not None and "{value}" not in section.url_template:
            problems.append(
                document.problem(
                    path + (position, "url_template"), "the template should contain {value}"
                )
            )
        mappings.append(
            PersonalisationMapping(
                section.property,
                carry_as,
                section.placement,
                section.url_template,
                section.kind,
                section.option,
                section.label,
            )
        )
    return tuple(mappings)
