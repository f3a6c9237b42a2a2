"""Public URLs: print-file links that a supplier will fetch on our behalf.

A URL from a checkout property (or a catalog entry) is passed on to a supplier, whose servers
download it. If it pointed at a loopback, private or cloud-metadata address, we would be
asking the supplier (or, through a misbehaving proxy, ourselves) to fetch something internal.

The check parses with a WHATWG URL parser (``ada_url``, the standard browsers and most HTTP
clients follow), so every IPv4 notation (``127.1``, ``0177.0.0.1``, ``0x7f.0.0.1``,
``2130706433``, full-width digits, percent-encoded hosts) arrives as one dotted address, and
each IPv6 form that carries an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) is judged
by that address too. Anything different parsers could read differently (user info, a
backslash, control characters or spaces) is refused outright. Names are resolved with an
injected resolver and refused when any of their addresses is not public; names that only
exist inside a network (``.internal``, ``.lan``, ``.svc`` …) are refused without asking.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from ada_url import URL

IPAddress = IPv4Address | IPv6Address

# host name → its addresses (IPv4 or IPv6 text).
# :raises HostNotFound: the name does not exist; :raises ResolverUnavailable: try again later.
Resolver = Callable[[str], Sequence[str]]


class NotPublicUrl(ValueError):
    """The URL must not be passed on; ``str(error)`` says why."""


class HostNotFound(LookupError):
    """The name does not resolve (NXDOMAIN or no address)."""


class ResolverUnavailable(Exception):
    """The resolver could not answer now (a temporary failure): try again later."""


_V4_REFUSED: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "'this network' (unspecified)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata lives here)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments (reserved)"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast (reserved)"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_V6_REFUSED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), reason)
    for network, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments (Teredo included)"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
# publicly routable addresses that answer as a cloud's metadata or host service
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("168.63.129.16", "169.254.169.254", "169.254.170.2", "100.100.100.200")
)
_IPV4_MAPPED = IPv6Network("::ffff:0:0/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")
# names that resolve only inside a network (RFC 6761, RFC 8375, ICANN's .internal, and the
# suffixes home routers and Kubernetes use); a single label is a local name as well
_LOCAL_SUFFIXES = (
    "localhost",
    "local",
    "localdomain",
    "internal",
    "intranet",
    "private",
    "lan",
    "home",
    "corp",
    "home.arpa",
    "svc",
    "cluster.local",
    "test",
    "invalid",
    "onion",
    "alt",
)
_ALLOWED_SCHEMES = ("https", "http")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]")


def _embedded_ipv4(address: IPv6Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    found: list[IPv4Address] = []
    low32 = IPv4Address(int(address) & 0xFFFFFFFF)
    compatible = address in _IPV4_COMPATIBLE and int(address) > 1  # not :: or ::1
    if address in _IPV4_MAPPED or address in _NAT64 or compatible:
        found.append(low32)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public address, or None when it is."""
    if address in _METADATA:
        return "a cloud metadata address"
    if isinstance(address, IPv4Address):
        for network, reason in _V4_REFUSED:
            if address in network:
                return reason
        return None if address.is_global else "not globally routable"
    for inner in _embedded_ipv4(address):
        refusal = address_refusal(inner)
        if refusal is not None:
            return f"carries {inner}: {refusal}"
    if _embedded_ipv4(address):
        return None  # judged by the IPv4 address it carries
    for network6, reason in _V6_REFUSED:
        if address in network6:
            return reason
    return None if address.is_global else "not globally routable"


def _local_name(host: str) -> bool:
    labels = host.split(".")
    if len(labels) < 2:
        return True
    return any(host == suffix or host.endswith("." + suffix) for suffix in _LOCAL_SUFFIXES)


def _authority(url: str) -> str:
    """The text between ``//`` and the path, query or fragment, as a naive parser sees it."""
    after = url.split("//", 1)[-1]
    return re.split(r"[/?#]", after, maxsplit=1)[0]


def _parse(url: str) -> URL:
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url) or "\\" in url:
        raise NotPublicUrl("contains a space, a control character or a backslash")
    if not _ABSOLUTE.match(url):
        # WHATWG reads http:///x and http:/x as host "x"; other parsers see no host at all
        raise NotPublicUrl("has no host after the scheme's //")
    try:
        parsed = URL(url)
    except ValueError:
        raise NotPublicUrl("is not a valid URL") from None
    if parsed.protocol.rstrip(":") not in _ALLOWED_SCHEMES:
        raise NotPublicUrl("is not an http(s) URL")
    if parsed.username or parsed.password or "@" in _authority(url):
        raise NotPublicUrl("carries user info (user:password@)")
    if not parsed.hostname:
        raise NotPublicUrl("has no host")
    return parsed


def _literal(hostname: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return None


def public_url(url: str, resolve: Resolver | None = None) -> str:
    """Return ``url`` in canonical (WHATWG) form if it may be passed on to a supplier.

    Without ``resolve`` only what the text says is checked (offline: routing, config check);
    with it, a host name is resolved and every address it has must be public.

    :raises NotPublicUrl: naming why the URL is refused.
    :raises ResolverUnavailable: the resolver could not answer now.
    """
    parsed = _parse(url)
    hostname = parsed.hostname
    literal = _literal(hostname)
    if literal is not None:
        refusal = address_refusal(literal)
        if refusal is not None:
            raise NotPublicUrl(f"points at {literal}: {refusal}")
        return parsed.href
    name = hostname.rstrip(".").lower()
    if _local_name(name):
        raise NotPublicUrl(f"names {name!r}, which only resolves inside a network")
    if resolve is not None:
        _check_resolved(name, resolve)
    return parsed.href


def _check_resolved(name: str, resolve: Resolver) -> None:
    try:
        answers = list(resolve(name))
    except HostNotFound:
        raise NotPublicUrl(f"names {name!r}, which does not resolve") from None
    if not answers:
        raise NotPublicUrl(f"names {name!r}, which has no address")
    for answer in answers:
        address = ipaddress.ip_address(answer.split("%", 1)[0])
        refusal = address_refusal(address)
        if refusal is not None:
            raise NotPublicUrl(f"names {name!r}, which resolves to {address}: {refusal}")


def is_public_url(url: str, resolve: Resolver | None = None) -> bool:
    """Whether ``url`` may be passed on (see :func:`public_url`)."""
    try:
        public_url(url, resolve)
    except NotPublicUrl:
        return False
    return True
