"""Routing: which supplier makes each line item, from the store's rules and catalog.

Pure logic, no I/O besides reading the configuration files in :mod:`.config`.
"""

from integrator.routing.config import load_store_config, parse_store_config
from integrator.routing.problems import ConfigError, ConfigProblem
from integrator.routing.router import (
    group_by_supplier,
    next_supplier,
    route_line,
    route_manually,
    route_order,
)
from integrator.routing.store import StoreConfig, SupplierConfig

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "StoreConfig",
    "SupplierConfig",
    "group_by_supplier",
    "load_store_config",
    "next_supplier",
    "parse_store_config",
    "route_line",
    "route_manually",
    "route_order",
]
