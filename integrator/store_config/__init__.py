"""A store's configuration: routing.yaml and catalog.yaml read, checked and built into frozen
values (suppliers and their credentials, catalog, routing rules, operational settings).

Every problem is reported at once, naming file, key path and problem (:mod:`.loading`).
"""

from integrator.store_config.loading import load_store_config, parse_store_config
from integrator.store_config.problems import ConfigError, ConfigProblem
from integrator.store_config.store import StoreConfig, SupplierConfig

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "StoreConfig",
    "SupplierConfig",
    "load_store_config",
    "parse_store_config",
]
