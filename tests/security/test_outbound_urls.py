"""Untrusted input cannot make the service fetch loopback, private or metadata addresses.

What the service fetches, found by scanning its code (the sandboxes excepted): the supplier
APIs at their configured base URL, the Shopify Admin API (``https://{shop}`` or
SHOPIFY_ADMIN_URL), and the operator's alert webhook. Every host there is operator
configuration; print-file and callback URLs are never fetched by the service, only passed on
(print files to the supplier) or registered (callbacks). What untrusted input can still
reach is checked below: ids in supplier API paths, shop domains, and print-file URLs.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from integrator.shopify.errors import InvalidShopDomain
from integrator.shopify.shop_domain import validate_shop_domain
from integrator.store_config.catalog import PersonalisationError, build_spec
from integrator.store_config.loading import load_store_config, parse_store_config
from integrator.suppliers.http import CircuitBreaker
from integrator.suppliers.registry import build_adapter
from tests.credentials import SUPPLIER_ENV

ROOT = Path(__file__).resolve().parents[2]
OUTBOUND = re.compile(
    r"requests\.(get|post|put|patch|delete|head|request|Session)\(|"
    r"httpx\.(get|post|put|request|stream|Client|AsyncClient)\(|urlopen\(|urllib\.request|"
    r"http\.client|create_connection\(|\.session\.request\(|aiohttp|pycurl"
)
# file → where the host it talks to comes from
EXPECTED_FETCHERS = {
    "integrator/suppliers/http.py": "the supplier's base_url (operator config) + adapter paths",
    "integrator/suppliers/base.py": "the session the supplier http client uses",
    "integrator/cli/suppliers.py": "the session of `integrator suppliers check/setup`",
    "integrator/shopify/transport.py": "https://{validated shop}.myshopify.com or SHOPIFY_ADMIN_URL",
    "integrator/pipeline/alert_poster.py": "alerts.webhook_url (operator config)",
}
HOSTILE_IDS = (
    "@169.254.169.254",
    "@127.0.0.1:5432",
    "//10.0.0.1/x",
    "../../../@localhost",
    "http://169.254.169.254/latest/meta-data/",
    "x#@evil.example",
    "%2F%2F127.0.0.1",
    "\\\\127.0.0.1\\x",
    "1?url=http://127.0.0.1",
)
METADATA_AND_PRIVATE = (
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://127.0.0.1:5432/",
    "http://localhost/admin",
    "http://10.0.0.5/art.png",
    "http://[::1]/art.png",
    "http://metadata.google.internal/computeMetadata/v1/",
)


def service_files() -> list[Path]:
    files = [*(ROOT / "integrator").rglob("*.py"), *(ROOT / "webhooks").rglob("*.py")]
    return [f for f in files if "sandbox" not in f.relative_to(ROOT).parts]


def test_only_known_modules_make_outbound_requests() -> None:
    fetchers = {
        str(path.relative_to(ROOT))
        for path in service_files()
        if OUTBOUND.search(path.read_text(encoding="utf-8"))
    }

    assert fetchers <= set(EXPECTED_FETCHERS), (
        f"new outbound HTTP in {sorted(fetchers - set(EXPECTED_FETCHERS))}: check where its "
        "URL comes from and add it here with that reason"
    )


class RecordingSession(requests.Session):
    """Answers every request 404 and remembers its URL; nothing leaves the process."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:  # type: ignore[override]
        self.urls.append(str(url))
        response = requests.Response()
        response.status_code = 404
        response._content = b'{"error": "not found"}'
        response.headers["Content-Type"] = "application/json"
        response.url = str(url)
        return response


@pytest.mark.parametrize("base_url", ["https://api.supplier.example/base", None])
def test_ids_from_callbacks_cannot_move_supplier_calls_to_another_host(
    base_url: str | None,
) -> None:
    config = load_store_config(ROOT / "config", SUPPLIER_ENV)
    for name, supplier in config.suppliers.items():
        session = RecordingSession()
        adapter = build_adapter(
            name,
            supplier.adapter,
            base_url,
            supplier.options,
            session=session,
            breaker=CircuitBreaker(threshold=10_000),
            get_wait_seconds=0.0,
        )
        expected_host = urlsplit(adapter.http.base_url).hostname
        for hostile in HOSTILE_IDS:
            calls: list[tuple[Any, dict[str, str]]] = [
                (adapter.fetch_status, {"supplier_order_id": hostile}),
                (adapter.fetch_status, {"external_ref": hostile}),
                (adapter.cancel, {"supplier_order_id": hostile}),
            ]
            for function, arguments in calls:
                try:
                    function(**arguments)
                except Exception:  # noqa: BLE001, S112 - refusing is fine; the URL is the point
                    continue
        assert session.urls, name
        for url in session.urls:
            assert urlsplit(url).hostname == expected_host, (name, url)
            assert "@" not in urlsplit(url).netloc, (name, url)


@pytest.mark.parametrize(
    "shop",
    [
        "169.254.169.254",
        "localhost",
        "127.0.0.1.myshopify.com.evil.example",
        "evil.example/x.myshopify.com",
        "a.myshopify.com@127.0.0.1",
        "a.myshopify.com:5432",
        "a.myshopify.com/../",
        ".myshopify.com",
    ],
)
def test_a_shop_domain_from_a_request_cannot_name_another_host(shop: str) -> None:
    with pytest.raises(InvalidShopDomain):
        validate_shop_domain(shop)


def real_documents() -> tuple[Any, Any]:
    routing = yaml.safe_load((ROOT / "config" / "routing.yaml").read_text())
    catalog = yaml.safe_load((ROOT / "config" / "catalog.yaml").read_text())
    return routing, catalog


def test_a_customer_text_cannot_change_the_host_of_a_templated_print_file() -> None:
    routing, catalog = real_documents()
    config = parse_store_config(routing, catalog, SUPPLIER_ENV)
    entry = next(e for e in config.catalog.entries if e.sku == "TEE-BLK-M-MONO")
    for hostile in HOSTILE_IDS:
        spec = build_spec(entry, "printful", {"Monogram": hostile}, frozenset())
        hosts = {urlsplit(f.url).hostname for f in spec.files}
        assert hosts == {"example.com"}, (hostile, [f.url for f in spec.files])


def with_artwork_upload(catalog: Any) -> Any:
    """The catalog plus an entry whose print file is a URL the customer gives at checkout."""
    changed = copy.deepcopy(catalog)
    entry = copy.deepcopy(next(e for e in changed if e["sku"] == "TEE-BLK-M-DTG"))
    entry["sku"] = "TEE-OWN-ART"
    entry.pop("printify", None)
    entry["personalisation"] = [{"property": "Artwork", "as": "file", "placement": "back"}]
    changed.append(entry)
    return changed


def private_or_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host in ("localhost",) or host.endswith((".internal", ".local", ".localhost")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


# regression: customer print-file URLs to private/metadata hosts were passed on
def test_a_customer_print_file_url_to_a_private_address_is_refused() -> None:
    routing, catalog = real_documents()
    config = parse_store_config(routing, with_artwork_upload(catalog), SUPPLIER_ENV)
    entry = next(e for e in config.catalog.entries if e.sku == "TEE-OWN-ART")
    forwarded = []
    for url in METADATA_AND_PRIVATE:
        try:
            spec = build_spec(entry, "printful", {"Artwork": url}, frozenset())
        except PersonalisationError:
            continue
        forwarded += [f.url for f in spec.files if private_or_local(f.url)]
    assert forwarded == []
