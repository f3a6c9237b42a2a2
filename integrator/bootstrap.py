"""The composition root: the one place that turns Settings into working parts.

Web, worker, clock, CLI and tests all call :func:`bootstrap`; tests pass fakes in.
Configuration files are read and validated here, at start, so a bad file stops the process
with every problem named.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from integrator.db.database import Database
from integrator.domain.public_urls import Resolver
from integrator.resolver import system_resolver
from integrator.settings import Settings, SettingsError, load_settings
from integrator.store_config.problems import ConfigError

if TYPE_CHECKING:
    from limits.storage import Storage

    from integrator.shopify.client import AdminClient
    from integrator.store_config.store import StoreConfig
    from integrator.suppliers.base import SupplierAdapter

AdapterFactory = Callable[[str, "StoreConfig"], "SupplierAdapter"]

ENCRYPTION_KEY_MISSING = (
    "ENCRYPTION_KEY is not set: every process needs the same key to read the tokens the others "
    "store; make one with `integrator keys new` and give it to the web, worker and clock"
)


class StartupRefused(Exception):
    """The process must not start; ``problems`` names every reason, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class StoreConfigs:
    """The shared configuration and each shop's own (``config/shops/<domain>/``), read at start."""

    def __init__(self, shared: StoreConfig, per_shop: Mapping[str, StoreConfig]) -> None:
        self.shared = shared
        self.per_shop = dict(per_shop)

    @classmethod
    def load(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> StoreConfigs:
        """:raises ConfigError: with every problem of every file."""
        from integrator.store_config.loading import load_store_config, shops_with_own_config

        env = dict(os.environ if environ is None else environ)
        shared = load_store_config(settings.config_dir, env)
        per_shop = {
            shop: load_store_config(settings.config_dir, env, shop)
            for shop in shops_with_own_config(settings.config_dir)
        }
        return cls(shared, per_shop)

    def for_shop(self, shop: str | None) -> StoreConfig:
        return self.per_shop.get(shop or "", self.shared)


def _build_adapter(name: str, config: StoreConfig) -> SupplierAdapter:
    """An adapter whose limiter and breaker live in this process only (offline tools)."""
    return _adapter_builder(None)(name, config)


def _adapter_builder(limits_storage: Storage | None) -> AdapterFactory:
    """Adapters whose rate limiters and circuit breakers live in ``limits_storage``, which
    every process of the deployment shares (ADR 0007)."""

    def build(name: str, config: StoreConfig) -> SupplierAdapter:
        from integrator.suppliers.registry import build_adapter

        supplier = config.suppliers[name]
        return build_adapter(
            supplier.name,
            supplier.adapter,
            supplier.base_url,
            supplier.options,
            limits_storage=limits_storage,
        )

    return build


@dataclass
class Container:
    settings: Settings
    db: Database
    configs: StoreConfigs | None = None
    adapter_factory: AdapterFactory = _build_adapter
    shopify_client: AdminClient | None = None
    # resolves print-file hosts before submission (the sandbox stack injects its own)
    resolve_host: Resolver = system_resolver
    # where supplier rate limiters and circuit breakers count, shared by every process
    # (None: this process's memory)
    limits_storage: Storage | None = None

    def __post_init__(self) -> None:
        self._adapters: dict[tuple[int, str], SupplierAdapter] = {}
        self._lock = threading.Lock()

    def config(self, shop: str | None = None) -> StoreConfig:
        if self.configs is None:
            raise RuntimeError("no store configuration loaded")
        return self.configs.for_shop(shop)

    def adapter(self, supplier: str, shop: str | None = None) -> SupplierAdapter:
        """The adapter for a configured supplier (one per configuration, kept for reuse).

        :raises KeyError: when the supplier is not configured.
        """
        config = self.config(shop)
        if supplier not in config.suppliers:
            raise KeyError(supplier)
        key = (id(config), supplier)
        with self._lock:
            if key not in self._adapters:
                self._adapters[key] = self.adapter_factory(supplier, config)
            return self._adapters[key]

    @property
    def shopify(self) -> AdminClient:
        if self.shopify_client is None:
            raise RuntimeError("the Shopify client is not configured")
        return self.shopify_client

    def close(self) -> None:
        self.db.dispose()


def build_shopify_client(settings: Settings, db: Database) -> AdminClient:
    from integrator.db.shop_tokens import SqlShopTokenStore
    from integrator.shopify.connection import build_admin_client
    from integrator.shopify.tokens import TokenCipher

    if not settings.encryption_keys:
        # a throwaway key would store tokens that no other process and no restart can read
        raise SettingsError([ENCRYPTION_KEY_MISSING])
    store = SqlShopTokenStore(db, TokenCipher(list(settings.encryption_keys)))
    return build_admin_client(settings, store)


def bootstrap(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    configs: StoreConfigs | None = None,
    adapter_factory: AdapterFactory | None = None,
    shopify_client: AdminClient | None = None,
    load_config: bool = True,
    resolve_host: Resolver | None = None,
) -> Container:
    """Wire the service. :raises ConfigError: when a configuration file is invalid."""
    settings = settings or load_settings()
    db = db or Database.from_url(settings.database_url)
    limits_storage = _limits_storage(settings, db)
    if configs is None and load_config:
        configs = StoreConfigs.load(settings)
    if shopify_client is None and (settings.shopify_client_secret or settings.shopify_admin_token):
        shopify_client = build_shopify_client(settings, db)
    return Container(
        settings=settings,
        db=db,
        configs=configs,
        adapter_factory=adapter_factory or _adapter_builder(limits_storage),
        shopify_client=shopify_client,
        resolve_host=resolve_host or _resolver(settings),
        limits_storage=limits_storage,
    )


def _limits_storage(settings: Settings, db: Database) -> Storage:
    from integrator.db.rate_limits import shared_storage

    return shared_storage(settings.rate_limit_storage_url, db)


def _resolver(settings: Settings) -> Resolver:
    """The system's DNS, or the sandbox's (offline runs: benchmarks, chaos, demo processes).
    The sandbox answers only the documentation domains, so a misuse fails closed."""
    if settings.print_file_resolver == "sandbox":
        from integrator.sandbox.dns import SandboxResolver

        return SandboxResolver()
    return system_resolver


def startup_problems(settings: Settings) -> list[str]:
    """What stops any process of the service from starting, besides the configuration files."""
    problems = [] if settings.encryption_keys else [ENCRYPTION_KEY_MISSING]
    if settings.rate_limit_storage_url:
        from limits.errors import ConfigurationError
        from limits.storage import storage_from_string

        try:
            storage_from_string(settings.rate_limit_storage_url)
        except (ConfigurationError, ValueError) as error:
            problems.append(f"RATE_LIMIT_STORAGE_URL: {error}")
    return problems


def preflight(settings: Settings) -> tuple[StoreConfigs | None, list[str]]:
    """Settings and every configuration file checked the way a starting process checks them:
    the loaded configuration, and every problem (file, key path, what is wrong)."""
    problems = startup_problems(settings)
    try:
        configs = StoreConfigs.load(settings)
    except ConfigError as error:
        return None, problems + [str(problem) for problem in error.problems]
    return configs, problems


def bootstrap_process(settings: Settings | None = None) -> Container:
    """The container of a real process (web, worker, clock, a command): it refuses to start on
    a missing ENCRYPTION_KEY or on any configuration problem, unusable credentials included.

    :raises StartupRefused: naming every problem.
    """
    try:
        settings = settings or load_settings()
    except SettingsError as error:
        raise StartupRefused(error.problems) from error
    configs, problems = preflight(settings)
    if problems:
        raise StartupRefused(problems)
    return bootstrap(settings, configs=configs)
