"""Load and check a store's routing.yaml and catalog.yaml; every problem is reported at once.

A shop may have its own files in ``<config_dir>/shops/<shop-domain>/``; each file it lacks
comes from ``<config_dir>`` itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from integrator.store_config.catalog_config import build_catalog
from integrator.store_config.credentials import CREDENTIAL_KEYS
from integrator.store_config.interpolation import interpolate, variables_by_path
from integrator.store_config.problems import ConfigError, ConfigProblem, KeyPath
from integrator.store_config.routing_config import RoutingParts, build_routing
from integrator.store_config.store import StoreConfig
from integrator.store_config.yaml_document import YamlDocument, parse_yaml

ROUTING_FILE = "routing.yaml"
CATALOG_FILE = "catalog.yaml"
SHOPS_FOLDER = "shops"

_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+$")


def config_files(config_dir: Path, shop: str | None = None) -> tuple[Path, Path]:
    """Return the routing and catalog files for ``shop``: its own where present, else shared."""
    chosen = []
    for name in (ROUTING_FILE, CATALOG_FILE):
        own = config_dir / SHOPS_FOLDER / shop / name if shop else None
        chosen.append(own if own is not None and own.is_file() else config_dir / name)
    return chosen[0], chosen[1]


def shops_with_own_config(config_dir: Path) -> list[str]:
    """Shop domains that have a folder under ``<config_dir>/shops``, sorted."""
    folder = config_dir / SHOPS_FOLDER
    if not folder.is_dir():
        return []
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir())


def load_store_config(
    config_dir: Path,
    environ: Mapping[str, str],
    shop: str | None = None,
    *,
    credentials: bool = True,
) -> StoreConfig:
    """Read, interpolate and check the configuration for ``shop`` (or the shared one).

    ``credentials=False`` is for offline tools that never call a supplier (``route
    explain``, ``suppliers setup`` making the missing secrets): supplier credentials (and
    variables of the supplier sections, such as account ids) are then neither required nor
    checked.

    :raises ConfigError: with every problem found, each with file, key path and line.
    """
    problems: list[ConfigProblem] = []
    if shop is not None and not _SHOP_DOMAIN.match(shop):
        raise ConfigError(
            [ConfigProblem(str(config_dir), "", None, f"{shop!r} is not a shop domain")]
        )
    routing_path, catalog_path = config_files(config_dir, shop)
    routing = _read(routing_path, problems)
    catalog = _read(catalog_path, problems)
    return _build(routing, catalog, environ, shop, problems, credentials)


def parse_store_config(
    routing: Any,
    catalog: Any,
    environ: Mapping[str, str] | None = None,
    shop: str | None = None,
) -> StoreConfig:
    """Check already-parsed routing and catalog data (tests, benchmarks); no line numbers.

    :raises ConfigError: with every problem found.
    """
    problems: list[ConfigProblem] = []
    return _build(
        YamlDocument(ROUTING_FILE, routing),
        YamlDocument(CATALOG_FILE, catalog),
        environ or {},
        shop,
        problems,
    )


def _read(path: Path, problems: list[ConfigProblem]) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        problems.append(ConfigProblem(str(path), "", None, f"cannot read: {error.strerror}"))
        return YamlDocument(str(path), None, unreadable=True)
    return parse_yaml(text, str(path), problems)


def _build(
    routing: YamlDocument,
    catalog: YamlDocument,
    environ: Mapping[str, str],
    shop: str | None,
    problems: list[ConfigProblem],
    credentials: bool = True,
) -> StoreConfig:
    for document in (routing, catalog):
        document.variables = variables_by_path(document.data)
        document.data = _interpolated(document, environ, problems, credentials)
    parts: RoutingParts = build_routing(routing, problems, check_credentials=credentials)
    entries = build_catalog(catalog, parts.suppliers, parts.declared_suppliers, problems)
    if problems:
        raise ConfigError(problems)
    return StoreConfig(
        suppliers=parts.suppliers,
        decoration=parts.decoration,
        rules=parts.rules,
        unmatched=parts.unmatched,
        catalog=entries,
        shopify=parts.shopify,
        production=parts.production,
        reconcile=parts.reconcile,
        alerts=parts.alerts,
        shop=shop,
        files=(routing.file, catalog.file),
    )


def is_credential_path(path: KeyPath) -> bool:
    """``suppliers.<name>.<credential>``: an API key or a secret."""
    return len(path) == 3 and path[0] == "suppliers" and path[2] in CREDENTIAL_KEYS


def _interpolated(
    document: YamlDocument,
    environ: Mapping[str, str],
    problems: list[ConfigProblem],
    credentials: bool = True,
) -> Any:
    def missing(path: KeyPath, name: str) -> None:
        if not credentials and path[:1] == ("suppliers",):
            return  # offline: how to reach a supplier does not matter
        if is_credential_path(path):
            problems.append(
                document.problem(
                    path,
                    f"environment variable {name} is not set: a secret has no default; "
                    "set it in the environment of every process",
                )
            )
            return
        problems.append(
            document.problem(
                path,
                f"environment variable {name} is not set (write ${{{name}:-default}} "
                "for a default)",
            )
        )

    return interpolate(document.data, environ, missing)
