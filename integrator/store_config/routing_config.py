"""Check routing.yaml section by section and build its frozen values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrator.store_config import schema
from integrator.store_config.checking import SectionChecker, check_section, is_web_url
from integrator.store_config.credentials import supplier_credential_problems
from integrator.store_config.decoration import (
    DecorationConfig,
    DecorationSource,
    SourceKind,
    canonical_method,
    normalise_spelling,
)
from integrator.store_config.operations import (
    AlertSettings,
    ProductionTimes,
    ReconcileSettings,
    ShopifySettings,
)
from integrator.store_config.operations_config import build_operations
from integrator.store_config.problems import ConfigProblem, KeyPath, format_key_path
from integrator.store_config.rules import (
    Rule,
    RuleMatch,
    UnmatchedAction,
    UnmatchedPolicy,
    shadowing_rule,
)
from integrator.store_config.store import KNOWN_ADAPTERS, SupplierConfig
from integrator.store_config.yaml_document import YamlDocument

_TOP_LEVEL = (
    "suppliers",
    "decoration",
    "decoration_aliases",
    "rules",
    "unmatched",
    "shopify",
    "production",
    "reconcile",
    "alerts",
)
_SUPPLIER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_RESERVED_NAMES = frozenset(action.value for action in UnmatchedAction)


@dataclass
class RoutingParts:
    suppliers: dict[str, SupplierConfig] = field(default_factory=dict)
    # every name under `suppliers:`, even one whose section is broken, so that references
    # to it are not reported twice
    declared_suppliers: set[str] = field(default_factory=set)
    decoration: DecorationConfig = field(default_factory=DecorationConfig)
    rules: tuple[Rule, ...] = ()
    unmatched: UnmatchedPolicy = field(default_factory=UnmatchedPolicy)
    shopify: ShopifySettings = field(default_factory=ShopifySettings)
    production: ProductionTimes = field(default_factory=ProductionTimes)
    reconcile: ReconcileSettings = field(default_factory=ReconcileSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)


def build_routing(
    document: YamlDocument, problems: list[ConfigProblem], *, check_credentials: bool = True
) -> RoutingParts:
    """Check every section of routing.yaml, recording problems, and build what is sound.

    ``check_credentials=False`` leaves supplier API keys and secrets unchecked (offline tools).
    """
    check = SectionChecker(document, problems)
    data = document.data if document.data is not None else {}
    parts = RoutingParts()
    if document.unreadable:
        return parts
    if not isinstance(data, dict):
        check.report((), "the file should be a mapping of sections (suppliers, rules, …)")
        return parts
    for key in data:
        if key not in _TOP_LEVEL:
            check.report((key,), f"unknown key (sections are: {', '.join(_TOP_LEVEL)})")
    _build_suppliers(check, data.get("suppliers"), parts, check_credentials)
    parts.decoration = _build_decoration(
        check, data.get("decoration"), data.get("decoration_aliases")
    )
    parts.rules = _build_rules(check, data.get("rules"), parts)
    parts.unmatched = _build_unmatched(check, data.get("unmatched", "hold"), parts)
    build_operations(check, data, parts)
    return parts


# --- suppliers ---------------------------------------------------------------------------------


def _build_suppliers(
    check: SectionChecker, data: Any, parts: RoutingParts, check_credentials: bool
) -> None:
    if data is None:
        check.report(("suppliers",), "no suppliers configured")
        return
    if not isinstance(data, dict):
        check.report(("suppliers",), "should be a mapping of supplier name to its settings")
        return
    for name, section in data.items():
        parts.declared_suppliers.add(str(name))
        supplier = _build_supplier(check, str(name), section, check_credentials)
        if supplier is not None:
            parts.suppliers[supplier.name] = supplier


def _build_supplier(
    check: SectionChecker, name: str, data: Any, check_credentials: bool = True
) -> SupplierConfig | None:
    path: KeyPath = ("suppliers", name)
    if not _SUPPLIER_NAME.match(name) or name in _RESERVED_NAMES:
        check.report(
            path,
            "a supplier name is lower-case letters, digits, '-' or '_', "
            "and not 'hold', 'ignore' or 'route'",
        )
    section = check_section(schema.SupplierSection, data, path, check.document, check.problems)
    if section is None:
        return None
    adapter = section.adapter or name
    if adapter not in KNOWN_ADAPTERS:
        check.report(
            path + (("adapter",) if section.adapter else ()),
            f"unknown adapter {adapter!r} (known: {', '.join(KNOWN_ADAPTERS)})",
        )
        return None
    base_url = section.base_url or None
    if base_url is not None and not is_web_url(base_url):
        check.report(path + ("base_url",), f"should be an http(s) URL, got {base_url!r}")
    options = check_section(
        schema.ADAPTER_OPTIONS[adapter], section.model_extra, path, check.document, check.problems
    )
    if options is None:
        return None
    if options.callback_url and not is_web_url(options.callback_url):
        check.report(
            path + ("callback_url",), f"should be an http(s) URL, got {options.callback_url!r}"
        )
    settings = options.model_dump(exclude_none=True)
    if not settings.get("callback_url"):
        settings.pop("callback_url", None)
    if check_credentials:
        _check_credentials(check, path, settings)
    return SupplierConfig(name, adapter, base_url, settings)


def _check_credentials(check: SectionChecker, path: KeyPath, options: dict[str, Any]) -> None:
    """Report every missing, empty, sandbox or short credential, naming its variable."""
    for key, problem in supplier_credential_problems(options):
        where = path + (key,)
        shown = format_key_path(where)
        if any(p.file == check.document.file and p.key_path == shown for p in check.problems):
            continue  # already said, e.g. its environment variable is not set
        names = check.document.variables.get(where)
        subject = " + ".join(names) if names else "the value"
        check.report(where, problem if problem.startswith("missing") else f"{subject} {problem}")


# --- decoration --------------------------------------------------------------------------------


def _build_decoration(check: SectionChecker, sources: Any, aliases: Any) -> DecorationConfig:
    alias_table = _build_aliases(check, aliases)
    if sources is None:
        return DecorationConfig((), alias_table)
    if not isinstance(sources, list):
        check.report(("decoration",), "should be a list of sources, first found wins")
        return DecorationConfig((), alias_table)
    built = []
    for index, data in enumerate(sources):
        source = _build_source(check, ("decoration", index), data, alias_table)
        if source is not None:
            built.append(source)
    return DecorationConfig(tuple(built), alias_table)


def _build_aliases(check: SectionChecker, data: Any) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        check.report(("decoration_aliases",), "should map a spelling to a canonical method")
        return {}
    table = {}
    for spelling, method in data.items():
        canonical = canonical_method(str(method), {})
        if canonical is None:
            check.report(
                ("decoration_aliases", str(spelling)),
                f"{method!r} is not a canonical decoration method",
            )
            continue
        table[normalise_spelling(str(spelling))] = canonical
    return table


def _build_source(
    check: SectionChecker, path: KeyPath, data: Any, aliases: Mapping[str, str]
) -> DecorationSource | None:
    section = check_section(
        schema.DecorationSourceSection, data, path, check.document, check.problems
    )
    if section is None:
        return None
    kind_name, value = next((name, value) for name, value in section if value is not None)
    kind = SourceKind(kind_name)
    if isinstance(value, str):
        return DecorationSource(kind, value)
    table = {}
    for key, method in value.items():
        canonical = canonical_method(method, aliases)
        if canonical is None:
            check.report(path + (kind_name, key), f"unknown decoration method {method!r}")
        elif kind is SourceKind.SKU_PATTERN and not _is_regex(key):
            check.report(path + (kind_name, key), "not a valid regular expression")
        else:
            table[key] = canonical
    return DecorationSource(kind, "", table)


def _is_regex(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


# --- rules -------------------------------------------------------------------------------------


def _build_rules(check: SectionChecker, data: Any, parts: RoutingParts) -> tuple[Rule, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        check.report(("rules",), "should be a list of rules, first match wins")
        return ()
    rules: list[Rule] = []
    names: dict[str, int] = {}
    for index, item in enumerate(data):
        rule = _build_rule(check, index, item, parts)
        if rule is None:
            continue
        if rule.name in names:
            check.report(
                ("rules", index, "name"), f"duplicate rule name (also rules[{names[rule.name]}])"
            )
        names.setdefault(rule.name, index)
        shadow = shadowing_rule(rule, rules)
        if shadow is not None:
            check.report(
                ("rules", index),
                f"rule {rule.name!r} can never match: the earlier rule "
                f"{shadow.name!r} (rules[{names[shadow.name]}]) catches every item it "
                "would",
            )
        rules.append(rule)
    return tuple(rules)


def _build_rule(check: SectionChecker, index: int, data: Any, parts: RoutingParts) -> Rule | None:
    path: KeyPath = ("rules", index)
    section = check_section(schema.RuleSection, data, path, check.document, check.problems)
    if section is None:
        return None
    check.supplier_reference(path + ("supplier",), section.supplier, parts.declared_suppliers)
    for position, name in enumerate(section.fallback):
        check.supplier_reference(path + ("fallback", position), name, parts.declared_suppliers)
    chain = [section.supplier, *section.fallback]
    if len(set(chain)) != len(chain):
        check.report(path + ("fallback",), "a supplier appears twice in supplier + fallback")
    match = _build_match(check, path + ("match",), section.match, parts.decoration.aliases)
    if match is None:
        return None
    return Rule(section.name or f"rules[{index}]", match, section.supplier, tuple(section.fallback))


def _build_match(
    check: SectionChecker, path: KeyPath, section: schema.MatchSection, aliases: Mapping[str, str]
) -> RuleMatch | None:
    problems_before = len(check.problems)
    for name, values in section:
        if isinstance(values, list) and not values:
            check.report(path + (name,), "an empty list can never match")
    decorations = None
    if section.decoration is not None:
        decorations = []
        for position, value in enumerate(section.decoration):
            method = canonical_method(value, aliases)
            if method is None:
                check.report(
                    path + ("decoration", position), f"unknown decoration method {value!r}"
                )
            decorations.append(method or value)
    for position, country in enumerate(section.ship_to_country or ()):
        if not re.fullmatch(r"[A-Za-z]{2}", country):
            check.report(
                path + ("ship_to_country", position),
                f"{country!r} is not a two-letter ISO country code",
            )
    if len(check.problems) != problems_before:
        return None
    return RuleMatch(
        product_type=_folded(section.product_type),
        vendor=_folded(section.vendor),
        sku=tuple(glob.casefold() for glob in section.sku) if section.sku else None,
        tags=_folded(section.tags),
        decoration=frozenset(decorations) if decorations is not None else None,
        ship_to_country=(
            frozenset(code.upper() for code in section.ship_to_country)
            if section.ship_to_country
            else None
        ),
        personalised=section.personalised,
    )


def _folded(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(value.strip().casefold() for value in values) if values else None


def _build_unmatched(check: SectionChecker, value: Any, parts: RoutingParts) -> UnmatchedPolicy:
    text = str(value)
    if text in (UnmatchedAction.HOLD, UnmatchedAction.IGNORE):
        return UnmatchedPolicy(UnmatchedAction(text))
    if text not in parts.declared_suppliers:
        check.report(
            ("unmatched",), f"should be hold, ignore or a configured supplier, got {text!r}"
        )
        return UnmatchedPolicy()
    return UnmatchedPolicy(UnmatchedAction.ROUTE, text)
