"""Print-file URLs (a supplier fetches them): only public addresses, however they are written.

One table holds every case of issue 11 point 6 and the address classes it names: each IPv4
notation, each IPv6 form that carries an IPv4 address, user info and parser confusion, names
that resolve to internal addresses (through an injected resolver that answers as the public
DNS does for them), and the public URLs that must still pass. Then the three places that use
the check: routing (a checkout property), the catalog (config check) and supplier submission.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from integrator.db.models import LineItem, SupplierOrder
from integrator.domain.public_urls import (
    HostNotFound,
    NotPublicUrl,
    ResolverUnavailable,
    public_url,
)
from integrator.sandbox.shopify import LineSpec
from integrator.sandbox.stack import Stack, StackOptions
from integrator.store_config.catalog import PersonalisationError, build_spec
from integrator.store_config.loading import parse_store_config
from integrator.store_config.problems import ConfigError
from tests.credentials import SUPPLIER_ENV
from tests.security.test_outbound_urls import real_documents, with_artwork_upload

ROOT = Path(__file__).resolve().parents[2]

# what the public DNS answers for these names (nip.io and localtest.me are real services
# whose names resolve to loopback/private addresses; the cluster and .lan names resolve so
# inside a Kubernetes cluster or a home network)
DNS = {
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "10.0.0.7.nip.io": ["10.0.0.7"],
    "app.169.254.169.254.nip.io": ["169.254.169.254"],
    "localtest.me": ["127.0.0.1", "::1"],
    "sub.localtest.me": ["127.0.0.1"],
    "kubernetes.default.svc": ["10.96.0.1"],
    "foo.lan": ["192.168.1.20"],
    "art.example.com": ["93.184.215.14"],
    "files.cdn.printful.com": ["104.18.20.79", "2606:4700::6812:144f"],
    "half-private.example.net": ["93.184.215.14", "10.1.2.3"],
    "cgnat.example.org": ["100.64.12.1"],
    "ula.example.org": ["fd12:3456::1"],
    "mapped.example.org": ["::ffff:127.0.0.1"],
}


def resolver(host: str) -> list[str]:
    if host == "flaky-dns.example.com":
        raise ResolverUnavailable(host)
    if host not in DNS:
        raise HostNotFound(host)
    return DNS[host]


REFUSED = {
    # IPv4 notations of loopback (WHATWG: shortened, octal, hex, one number, full width)
    "http://127.1/art.png": "127.0.0.1: loopback",
    "http://0177.0.0.1/art.png": "127.0.0.1: loopback",
    "http://0x7f.0.0.1/art.png": "127.0.0.1: loopback",
    "http://0x7f000001/art.png": "127.0.0.1: loopback",
    "http://2130706433/art.png": "127.0.0.1: loopback",
    "http://１２７．０．０．１/art.png": "127.0.0.1: loopback",
    "http://%31%32%37.0.0.1/art.png": "127.0.0.1: loopback",
    "http://0/art.png": "0.0.0.0: 'this network'",
    # parser confusion and user info
    "http://127.0.0.1\\@example.com/art.png": "backslash",
    "http://example.com@127.0.0.1/art.png": "user info",
    "http://user:secret@example.com/art.png": "user info",
    "http://example.com:80@10.0.0.1/": "user info",
    "http://exa mple.com/art.png": "space",
    "http://example.com/\tart.png": "control character",
    # names that resolve to internal addresses, or only inside a network
    "http://127.0.0.1.nip.io/art.png": "resolves to 127.0.0.1: loopback",
    "http://10.0.0.7.nip.io/art.png": "resolves to 10.0.0.7: private",
    "http://app.169.254.169.254.nip.io/": "a cloud metadata address",
    "http://localtest.me/art.png": "resolves to 127.0.0.1: loopback",
    "http://sub.localtest.me/art.png": "resolves to 127.0.0.1: loopback",
    "http://kubernetes.default.svc/api": "only resolves inside a network",
    "http://foo.lan/art.png": "only resolves inside a network",
    "http://localhost/art.png": "only resolves inside a network",
    "http://metadata.google.internal/computeMetadata/v1/": "only resolves inside a network",
    "http://printer.local/art.png": "only resolves inside a network",
    "http://intranet/art.png": "only resolves inside a network",
    "http://half-private.example.net/art.png": "resolves to 10.1.2.3: private",
    "http://cgnat.example.org/art.png": "shared address space",
    "http://ula.example.org/art.png": "unique-local",
    "http://mapped.example.org/art.png": "carries 127.0.0.1: loopback",
    "http://no-such-name.example.com/art.png": "does not resolve",
    # IPv6 forms that carry an IPv4 address
    "http://[::127.0.0.1]/art.png": "carries 127.0.0.1: loopback",
    "http://[::ffff:127.0.0.1]/art.png": "carries 127.0.0.1: loopback",
    "http://[::ffff:7f00:1]/art.png": "carries 127.0.0.1: loopback",
    "http://[64:ff9b::a9fe:a9fe]/art.png": "carries 169.254.169.254: a cloud metadata address",
    "http://[64:ff9b::10.0.0.1]/art.png": "carries 10.0.0.1: private",
    "http://[2002:a9fe:a9fe::1]/art.png": "carries 169.254.169.254: a cloud metadata address",
    "http://[2002:c0a8:0101::1]/art.png": "carries 192.168.1.1: private",
    # Teredo: server 65.54.227.120, client 192.168.1.1 (obfuscated as 3f57:fefe)
    "http://[2001:0:4136:e378:8000:63bf:3f57:fefe]/": "carries 192.168.1.1: private",
    "http://[64:ff9b:1::1]/art.png": "local-use NAT64",
    # every class of address that is not public
    "http://127.0.0.1:5432/": "loopback",
    "http://[::1]/art.png": "loopback",
    "http://10.0.0.5/art.png": "private",
    "http://172.16.3.4/art.png": "private",
    "http://192.168.0.10/art.png": "private",
    "http://169.254.169.254/latest/meta-data/": "a cloud metadata address",
    "http://169.254.1.1/art.png": "link-local",
    "http://[fe80::1]/art.png": "link-local",
    "http://100.64.0.1/art.png": "shared address space",
    "http://100.100.100.200/latest/meta-data": "a cloud metadata address",
    "http://168.63.129.16/metadata": "a cloud metadata address",
    "http://[fd00:ec2::254]/latest/meta-data/": "unique-local",
    "http://[fc00::1]/art.png": "unique-local",
    "http://[fec0::1]/art.png": "site-local",
    "http://224.0.0.1/art.png": "multicast",
    "http://[ff02::1]/art.png": "multicast",
    "http://240.0.0.1/art.png": "reserved",
    "http://255.255.255.255/art.png": "reserved",
    "http://192.0.0.192/art.png": "reserved",
    "http://198.18.0.1/art.png": "benchmarking",
    "http://192.0.2.10/art.png": "documentation",
    "http://[2001:db8::1]/art.png": "documentation",
    "http://[::]/art.png": "unspecified",
    # not a web URL at all
    "file:///etc/passwd": "has no host",
    "file://localhost/etc/passwd": "not an http(s) URL",
    "gopher://example.com/art.png": "not an http(s) URL",
    "http://example.com:99999/art.png": "not a valid URL",
    "http:///art.png": "has no host",
    "http:/127.0.0.1/art.png": "has no host",
}
PUBLIC = {
    "https://art.example.com/front.png": "https://art.example.com/front.png",
    "https://ART.Example.com./front.png": "https://art.example.com./front.png",
    "https://files.cdn.printful.com/files/abc/preview.png?x=1@2": (
        "https://files.cdn.printful.com/files/abc/preview.png?x=1@2"
    ),
    "http://8.8.8.8/art.png": "http://8.8.8.8/art.png",
    "http://[2606:4700::1111]/art.png": "http://[2606:4700::1111]/art.png",
    "http://[64:ff9b::808:808]/art.png": "http://[64:ff9b::808:808]/art.png",
}


@pytest.mark.parametrize(("url", "reason"), sorted(REFUSED.items()))
def test_an_internal_or_ambiguous_print_file_url_is_refused(url: str, reason: str) -> None:
    with pytest.raises(NotPublicUrl) as refused:
        public_url(url, resolver)
    assert reason in str(refused.value)


@pytest.mark.parametrize(("url", "canonical"), sorted(PUBLIC.items()))
def test_a_public_print_file_url_passes_in_canonical_form(url: str, canonical: str) -> None:
    assert public_url(url, resolver) == canonical


def test_a_resolver_that_cannot_answer_now_is_not_a_refusal() -> None:
    with pytest.raises(ResolverUnavailable):
        public_url("https://flaky-dns.example.com/art.png", resolver)


# the cases routing can refuse from the text alone (it runs offline: no resolver)
TEXT_REFUSED = sorted(
    url
    for url, reason in REFUSED.items()
    if url.startswith("http")
    and "does not resolve" not in reason
    and not any(f"//{name}/" in url for name in DNS if not name.endswith((".svc", ".lan")))
)


@pytest.mark.parametrize("url", TEXT_REFUSED)
def test_routing_holds_a_checkout_print_file_that_is_not_public(url: str) -> None:
    routing, catalog = real_documents()
    config = parse_store_config(routing, with_artwork_upload(catalog), SUPPLIER_ENV)
    entry = next(e for e in config.catalog.entries if e.sku == "TEE-OWN-ART")
    with pytest.raises(PersonalisationError, match="Artwork"):
        build_spec(entry, "printful", {"Artwork": url}, frozenset())


def test_routing_passes_a_public_checkout_file_on_in_canonical_form() -> None:
    routing, catalog = real_documents()
    config = parse_store_config(routing, with_artwork_upload(catalog), SUPPLIER_ENV)
    entry = next(e for e in config.catalog.entries if e.sku == "TEE-OWN-ART")
    spec = build_spec(entry, "printful", {"Artwork": "https://ART.example.com/a.png"}, frozenset())
    assert [f.url for f in spec.files if f.placement == "back"] == ["https://art.example.com/a.png"]


@pytest.mark.parametrize(
    "url", ["http://127.1/front.png", "http://[::ffff:10.0.0.1]/f.png", "http://files.lan/f.png"]
)
def test_config_check_names_a_catalog_print_file_that_is_not_public(url: str) -> None:
    routing, catalog = real_documents()
    entry = next(e for e in catalog if e["sku"] == "TEE-BLK-M-DTG")
    entry["printful"]["files"][0]["url"] = url
    with pytest.raises(ConfigError) as failed:
        parse_store_config(routing, catalog, SUPPLIER_ENV)
    [problem] = [p for p in failed.value.problems if "files" in str(p)]
    assert "should be a public http(s) URL" in str(problem)
    assert "TEE-BLK-M-DTG" in str(problem) or "printful.files[0].url" in str(problem)


@pytest.fixture
def artwork_stack(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    catalog = yaml.safe_load((config / "catalog.yaml").read_text())
    (config / "catalog.yaml").write_text(yaml.safe_dump(with_artwork_upload(catalog)))
    stack = Stack(StackOptions(database_url=database_url, config_dir=config, migrate=False))
    stack.resolver.add("127.0.0.1.nip.io", ["127.0.0.1"])
    stack.resolver.add("art.example.com", ["93.184.215.14"])
    yield stack
    stack.close()


def _submitted_files(stack: Stack) -> list[str]:
    return [
        file["url"]
        for order in stack.suppliers["printful"].orders.values()
        for item in order.get("items", [])
        for file in item.get("files", [])
    ]


def test_submission_refuses_a_print_file_whose_name_resolves_to_loopback(
    artwork_stack: Stack,
) -> None:
    """Routing cannot see where a name points; submission resolves it before the supplier."""
    stack = artwork_stack
    order = stack.shop.create_order(
        [LineSpec("TEE-OWN-ART", 1, properties={"Artwork": "http://127.0.0.1.nip.io/a.png"})]
    )
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    stack.drain()
    with stack.db.read() as session:
        item = session.scalars(select(LineItem)).one()
        supplier_order = session.scalars(select(SupplierOrder)).one()
        assert (item.stage, supplier_order.status) == ("failed", "failed")
        assert supplier_order.last_error == (
            f"print file of line item {item.shopify_line_item_id}: the URL names "
            "'127.0.0.1.nip.io', which resolves to 127.0.0.1: loopback"
        )
    assert stack.suppliers["printful"].orders == {}


def test_submission_passes_a_public_print_file_on(artwork_stack: Stack) -> None:
    stack = artwork_stack
    order = stack.shop.create_order(
        [LineSpec("TEE-OWN-ART", 1, properties={"Artwork": "https://art.example.com/a.png"})]
    )
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    stack.drain()
    with stack.db.read() as session:
        assert session.scalars(select(SupplierOrder.status)).all() == ["submitted"]
    assert "https://art.example.com/a.png" in _submitted_files(stack)


def test_processes_resolve_with_the_system_dns_unless_told_to_use_the_sandbox() -> None:
    from integrator.bootstrap import bootstrap
    from integrator.db.database import Database
    from integrator.resolver import system_resolver
    from integrator.sandbox.dns import SandboxResolver
    from integrator.settings import SettingsError, load_settings

    db = Database.from_url("sqlite://")
    try:
        default = bootstrap(load_settings({}), db=db, load_config=False)
        sandbox = bootstrap(
            load_settings({"PRINT_FILE_RESOLVER": "sandbox"}), db=db, load_config=False
        )
    finally:
        db.dispose()
    assert default.resolve_host is system_resolver
    assert isinstance(sandbox.resolve_host, SandboxResolver)
    with pytest.raises(HostNotFound):  # it knows the documentation domains and nothing else
        sandbox.resolve_host("files.cdn.printful.com")
    with pytest.raises(SettingsError, match="PRINT_FILE_RESOLVER"):
        load_settings({"PRINT_FILE_RESOLVER": "8.8.8.8"})
