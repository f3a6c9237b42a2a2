"""The whole product on one machine: sandbox Shopify, sandbox suppliers, the web app and a
worker, wired through the real composition root. Used by ``integrator demo``, the end-to-end
tests, the benchmarks and the chaos runs.

In-process mode connects everything through WSGI transports (fast, no sockets); loopback mode
serves each part on 127.0.0.1 with real HTTP between them.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import requests
from flask import Flask
from werkzeug.serving import make_server

from integrator.bootstrap import StoreConfigs, bootstrap
from integrator.db.database import Database
from integrator.db.migrate import upgrade
from integrator.db.models import SupplierOrder
from integrator.jobqueue.worker import Worker
from integrator.sandbox.dns import SandboxResolver
from integrator.sandbox.shopify import (
    AddressSpec,
    FulfillmentOrderSpec,
    LineSpec,
    SandboxApp,
    SandboxConfig,
    SandboxShopify,
    VariantSpec,
    WebhookSender,
)
from integrator.sandbox.shopify import serve as serve_shopify
from integrator.sandbox.shopify.store import Shop as SandboxShop
from integrator.sandbox.suppliers import SANDBOXES
from integrator.sandbox.suppliers.base import PublishedRateLimit, SandboxSupplier
from integrator.sandbox.suppliers.transport import in_process_session, mount
from integrator.sandbox.suppliers.transport import serve as serve_supplier
from integrator.settings import Settings, load_settings
from integrator.store_config.store import StoreConfig
from integrator.suppliers.base import SupplierAdapter
from integrator.suppliers.registry import build_adapter

SHOP = "demo-store.myshopify.com"
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the sandbox's own fake app
INTEGRATOR_HOST = "http://integrator.sandbox"
SHOPIFY_HOST = "http://shopify.sandbox"
# the demo's routing.yaml and catalog.yaml, inside the package: the demo runs from any folder
DEMO_CONFIG_DIR = Path(__file__).resolve().parent / "config"
# the sandboxes' account ids, given to the configuration through the environment
SANDBOX_ACCOUNTS: dict[str, dict[str, Any]] = {
    "printful": {"store_id": 1001},
    "printify": {"shop_id": 2002},
}
ACCOUNT_VARIABLES = {
    ("printful", "store_id"): "PRINTFUL_STORE_ID",
    ("printify", "shop_id"): "PRINTIFY_SHOP_ID",
}


@dataclass(frozen=True)
class SupplierCredentials:
    """One sandbox supplier's API key and our callback secret for it: new for every stack,
    so that no value in any file ever works (issue 11)."""

    api_key: str
    callback_secret: str

    @classmethod
    def new(cls) -> SupplierCredentials:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(32))


@dataclass
class StackOptions:
    database_url: str
    config_dir: Path = DEMO_CONFIG_DIR
    shop: str = SHOP
    loopback: bool = False
    bucket_size: float = 1000.0
    restore_rate: float = 100.0
    mirror_stage: bool | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    migrate: bool = True
    # how the integrator is connected to the shop (docs/adr/0002): fulfillment-service sets up
    # our service, stocks the catalog there, and has the merchant request fulfillment of every
    # order's FOs at our location when it is placed (a Shopify Flow "Submit fulfillment
    # request" automation)
    mode: str = "merchant-managed"
    # calls a minute every sandbox supplier account allows, for an account the supplier has
    # granted more than its published limit (None: the published limits). Throughput
    # benchmarks raise it so that they measure the integrator, not Printful's 120 a minute;
    # the integrator is told the same limit (``rate_limit_per_minute``), as its operator would.
    account_calls_per_minute: int | None = None


def supplier_base(name: str) -> str:
    return f"http://{name}.sandbox"


class Stack:
    """Every part of a local deployment, started and wired; ``close()`` stops it all."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self._stops: list[Callable[[], None]] = []
        self.credentials = {name: SupplierCredentials.new() for name in SANDBOXES}
        self.admin_token = options.extra_env.get("ADMIN_TOKEN") or secrets.token_urlsafe(32)
        self.encryption_key = options.extra_env.get("ENCRYPTION_KEY") or _new_fernet_key()
        if options.migrate:
            upgrade(options.database_url)
        self.shopify = SandboxShopify(
            SandboxConfig(bucket_size=options.bucket_size, restore_rate=options.restore_rate)
        )
        self.shop: SandboxShop = self.shopify.create_shop(
            options.shop, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
        )
        self.suppliers: dict[str, SandboxSupplier] = {}
        self._shopify_url = self._start_shopify()
        supplier_urls = self._start_suppliers()
        self.settings = self._settings()
        # what a process of this deployment would have in its environment (chaos runs start
        # real worker processes with it)
        self.environ = {**self._environ(supplier_urls), **options.extra_env}
        configs = StoreConfigs.load(self.settings, self.environ)
        if options.mirror_stage is not None:
            configs = _with_mirror(configs, options.mirror_stage)
        self.db = Database.from_url(options.database_url)
        self.resolver = SandboxResolver()
        self.container = bootstrap(
            self.settings,
            db=self.db,
            configs=configs,
            adapter_factory=self._adapter_factory(supplier_urls),
            shopify_client=self._shopify_client(),
            resolve_host=self.resolver,
        )
        self.app: Flask = self._create_app()
        self.integrator_url = self._start_app()
        self._wire_callbacks()
        self.sender = WebhookSender(CLIENT_SECRET, http=self._webhook_http())
        self.seed_products(self.config.catalog)
        if options.mode == "fulfillment-service":
            self.connect_fulfillment_service()

    # --- wiring ---------------------------------------------------------------------------

    @property
    def config(self) -> StoreConfig:
        return self.container.config(self.options.shop)

    def _settings(self) -> Settings:
        return load_settings(
            {
                "DATABASE_URL": self.options.database_url,
                "INTEGRATOR_CONFIG_DIR": str(self.options.config_dir),
                "SHOPIFY_CLIENT_ID": CLIENT_ID,
                "SHOPIFY_CLIENT_SECRET": CLIENT_SECRET,
                "SHOPIFY_SHOP": self.options.shop,
                "SHOPIFY_ADMIN_URL": self._shopify_url,
                "LOG_JSON": "true",
                **self.options.extra_env,
                "ADMIN_TOKEN": self.admin_token,
                "ENCRYPTION_KEY": self.encryption_key,
            }
        )

    def _environ(self, supplier_urls: dict[str, str]) -> dict[str, str]:
        env = {f"{name.upper()}_BASE_URL": url for name, url in supplier_urls.items()}
        for name, credentials in self.credentials.items():
            env[f"{name.upper()}_API_KEY"] = credentials.api_key
            env[f"{name.upper()}_CALLBACK_SECRET"] = credentials.callback_secret
        for (name, option), variable in ACCOUNT_VARIABLES.items():
            env[variable] = str(SANDBOX_ACCOUNTS[name][option])
        if self.options.account_calls_per_minute is not None:
            for name in SANDBOXES:
                env[f"{name.upper()}_RATE_LIMIT_PER_MINUTE"] = str(
                    self.options.account_calls_per_minute
                )
        return env

    def callback_secret(self, name: str) -> str:
        """Our callback secret for the sandbox supplier ``name`` in this stack."""
        return self.credentials[name].callback_secret

    def _secret(self, name: str) -> str:
        return self.callback_secret(name)

    def _start_shopify(self) -> str:
        app = SandboxApp(self.shopify)
        if not self.options.loopback:
            self._shopify_app = app
            return SHOPIFY_HOST
        url, stop = serve_shopify(app)
        self._stops.append(stop)
        return url

    def _start_suppliers(self) -> dict[str, str]:
        urls = {}
        for name, sandbox_class in SANDBOXES.items():
            sandbox = sandbox_class(
                api_key=self.credentials[name].api_key,
                callback_secret=self._secret(name),
                rate_limit=self._account_limit(sandbox_class),
                **SANDBOX_ACCOUNTS.get(name, {}),
            )
            self.suppliers[name] = sandbox
            if self.options.loopback:
                url, stop = serve_supplier(sandbox)
                self._stops.append(stop)
                urls[name] = url
            else:
                urls[name] = supplier_base(name)
        return urls

    def _account_limit(self, sandbox_class: type[SandboxSupplier]) -> PublishedRateLimit | str:
        calls = self.options.account_calls_per_minute
        if calls is None:
            return "published"
        published = sandbox_class.PUBLISHED_RATE_LIMIT or PublishedRateLimit(calls=calls)
        return replace(published, calls=calls, window=60.0)

    def _adapter_factory(
        self, urls: dict[str, str]
    ) -> Callable[[str, StoreConfig], SupplierAdapter]:
        session = None
        if not self.options.loopback:
            session = in_process_session({urls[n]: s for n, s in self.suppliers.items()})

        def build(name: str, config: StoreConfig) -> SupplierAdapter:
            supplier = config.suppliers[name]
            return build_adapter(
                supplier.name,
                supplier.adapter,
                supplier.base_url,
                supplier.options,
                session=session if session is not None else requests.Session(),
            )

        return build

    def _shopify_client(self) -> Any:
        from integrator.db.shop_tokens import SqlShopTokenStore
        from integrator.shopify.connection import build_admin_client
        from integrator.shopify.tokens import TokenCipher

        store = SqlShopTokenStore(self.db, TokenCipher(list(self.settings.encryption_keys)))
        transport = None if self.options.loopback else httpx.WSGITransport(app=self._shopify_app)
        return build_admin_client(self.settings, store, transport=transport)

    def _create_app(self) -> Flask:
        from webhooks.app import create_app

        return create_app(self.settings, container=self.container)

    def _start_app(self) -> str:
        if not self.options.loopback:
            return INTEGRATOR_HOST
        server = make_server("127.0.0.1", 0, self.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def stop() -> None:
            server.shutdown()
            server.server_close()

        self._stops.append(stop)
        return f"http://127.0.0.1:{server.server_port}"

    def _wire_callbacks(self) -> None:
        for name, sandbox in self.suppliers.items():
            sandbox.callback_url = (
                f"{self.integrator_url}/webhooks/suppliers/{name}?token={self._secret(name)}"
            )
            if not self.options.loopback:
                sandbox.callback_session = mount(requests.Session(), INTEGRATOR_HOST, self.app)

    def _webhook_http(self) -> httpx.Client:
        if self.options.loopback:
            return httpx.Client(timeout=httpx.Timeout(10.0, connect=2.0))
        return httpx.Client(transport=httpx.WSGITransport(app=self.app), timeout=10.0)

    # --- the store's catalogue and its orders --------------------------------------------

    def seed_products(self, catalog: Any) -> None:
        """Give the sandbox shop one product per catalog entry (type, tags, SKU)."""
        for entry in catalog.entries:
            if not entry.sku:
                continue
            self.shop.add_product(
                entry.title or entry.sku,
                product_type=entry.product_type or "",
                vendor=entry.vendor or "Sandbox",
                tags=list(entry.tags),
                variants=[VariantSpec(entry.sku)],
            )

    def connect_fulfillment_service(self) -> None:
        """What `integrator shopify setup --mode fulfillment-service` and `stock-catalog` do,
        through the same functions and the stack's Shopify client."""
        from integrator.pipeline.shop_settings import remember_mode
        from integrator.shopify.fulfillment_service import (
            CALLBACK_PATH,
            ensure_fulfillment_service,
        )
        from integrator.shopify.stock_catalog import plan_stocking, stock

        shop, client = self.options.shop, self.container.shopify
        name = self.config.shopify.fulfillment_service_name
        service = ensure_fulfillment_service(
            client, shop, name, f"{self.integrator_url}{CALLBACK_PATH}"
        ).service
        remember_mode(
            self.db,
            shop,
            "fulfillment-service",
            service_id=service.id,
            location_id=service.location_id,
        )
        skus = [entry.sku for entry in self.config.catalog.entries if entry.sku]
        report = plan_stocking(client, shop, skus, service.location_id, service.location_name)
        stock(client, shop, report, service.location_id)
        self.service_location = service.location_name

    @property
    def fulfillment_service_mode(self) -> bool:
        return self.options.mode == "fulfillment-service"

    def place_order(
        self,
        lines: Sequence[LineSpec],
        *,
        address: AddressSpec | None = None,
        fulfillment_orders: Sequence[FulfillmentOrderSpec] | None = None,
        email: str = "buyer@example.com",
    ) -> dict[str, Any]:
        order = self.shop.create_order(
            lines, shipping_address=address, fulfillment_orders=fulfillment_orders, email=email
        )
        if self.fulfillment_service_mode:
            self.request_fulfillment(order, notify=False)
        return order

    def our_fulfillment_orders(self, order: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The order's FOs at our fulfillment service's location."""
        return [
            fo
            for fo in order["fulfillmentOrders"]
            if fo["assignedLocation"]["location"].get("isFulfillmentService")
            and fo["assignedLocation"]["location"]["fulfillmentService"].get("_app") == "integrator"
        ]

    def request_fulfillment(self, order: Mapping[str, Any], *, notify: bool = True) -> list[str]:
        """The merchant requests fulfillment of every open, unsubmitted FO at our location;
        with ``notify`` Shopify tells us both ways (webhook and callback notification)."""
        requested = []
        for fo in self.our_fulfillment_orders(order):
            if fo["status"] == "OPEN" and fo["requestStatus"] in ("UNSUBMITTED", "REJECTED"):
                self.shop.request_fulfillment(fo["id"], "please make these")
                requested.append(fo["id"])
                if notify:
                    self.notify(fo, "FULFILLMENT_REQUEST")
        return requested

    def request_cancellation(self, order: Mapping[str, Any], message: str = "") -> list[str]:
        """The merchant asks our service to cancel every FO of the order it accepted."""
        asked = []
        for fo in self.our_fulfillment_orders(order):
            if fo["requestStatus"] in ("ACCEPTED", "CANCELLATION_REJECTED"):
                self.shop.request_cancellation(fo["id"], message or "the buyer cancelled")
                asked.append(fo["id"])
                self.notify(fo, "CANCELLATION_REQUEST")
        return asked

    def notify(self, fo: Mapping[str, Any], kind: str) -> None:
        """Shopify's two ways of telling a service: the webhook and the callback ping."""
        from integrator.sandbox.shopify.topic_payloads import (
            cancellation_request_payload,
            fulfillment_request_payload,
        )

        if kind == "FULFILLMENT_REQUEST":
            topic = "fulfillment_orders/fulfillment_request_submitted"
            payload = fulfillment_request_payload(dict(fo), "please make these")
        else:
            topic = "fulfillment_orders/cancellation_request_submitted"
            payload = cancellation_request_payload(dict(fo), "the buyer cancelled")
        self.send_topic(topic, payload)
        service = fo["assignedLocation"]["location"]["fulfillmentService"]
        self.sender.notify_fulfillment_service(service["callbackUrl"], kind, self.options.shop)

    def send_webhook(self, topic: str, order: dict[str, Any]) -> Any:
        payload = self.shop.webhook_payload(order["id"])
        return self.send_topic(topic, payload)

    def send_topic(self, topic: str, payload: Mapping[str, Any]) -> Any:
        """Deliver any topic's body, signed as Shopify signs it."""
        return self.sender.send(
            f"{self.integrator_url}/webhooks/shopify", topic, payload, self.options.shop
        )

    def configure_shopify(self, **changes: Any) -> None:
        """Change the ``shopify:`` settings of every store configuration (tests, demo)."""
        from dataclasses import replace

        configs = self.container.configs
        assert configs is not None

        def patched(config: StoreConfig) -> StoreConfig:
            return replace(config, shopify=replace(config.shopify, **changes))

        self.container.configs = StoreConfigs(
            patched(configs.shared), {shop: patched(c) for shop, c in configs.per_shop.items()}
        )

    def worker(self, threads: int = 1, **kwargs: Any) -> Worker:
        from integrator.pipeline.handlers import build_handlers

        return Worker(self.db, build_handlers(self.container), threads=threads, **kwargs)

    def drain(self, max_jobs: int = 100_000) -> int:
        return self.worker().drain(max_jobs=max_jobs)

    # --- the suppliers' side ---------------------------------------------------------------

    def supplier_orders(self) -> list[tuple[str, str, str]]:
        """(supplier, supplier order id, external reference) of every submitted order."""
        with self.db.read() as session:
            rows = session.query(SupplierOrder).filter(SupplierOrder.supplier_order_id.is_not(None))
            return [(r.supplier, str(r.supplier_order_id), r.external_ref) for r in rows]

    def advance_all(self, to: str) -> int:
        """Move every submitted supplier order to ``to`` at its sandbox (posting callbacks)."""
        moved = 0
        for supplier, remote_id, _reference in self.supplier_orders():
            sandbox = self.suppliers[supplier]
            if remote_id in sandbox.orders:
                sandbox.advance(remote_id, to)
                moved += 1
        return moved

    def close(self) -> None:
        for stop in reversed(self._stops):
            stop()
        self.sender.close()
        self.container.close()


def sandbox_process_environment() -> dict[str, str]:
    """The variables a process of a sandbox deployment needs besides its database and Shopify
    app (bench/ingest.py's gunicorn): the demo configuration, fresh credentials for every
    supplier, the sandbox account ids and an ENCRYPTION_KEY. Nothing here works anywhere else."""
    env = {"INTEGRATOR_CONFIG_DIR": str(DEMO_CONFIG_DIR), "ENCRYPTION_KEY": _new_fernet_key()}
    for name in SANDBOXES:
        credentials = SupplierCredentials.new()
        env[f"{name.upper()}_API_KEY"] = credentials.api_key
        env[f"{name.upper()}_CALLBACK_SECRET"] = credentials.callback_secret
    for (name, option), variable in ACCOUNT_VARIABLES.items():
        env[variable] = str(SANDBOX_ACCOUNTS[name][option])
    return env


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _with_mirror(configs: StoreConfigs, mirror: bool) -> StoreConfigs:
    from dataclasses import replace

    def patched(config: StoreConfig) -> StoreConfig:
        return replace(config, shopify=replace(config.shopify, mirror_stage=mirror))

    return StoreConfigs(
        patched(configs.shared), {shop: patched(c) for shop, c in configs.per_shop.items()}
    )
