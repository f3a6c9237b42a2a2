"""Failed sign-ins and failed admin API bearer tokens, counted per client and shared by every
web process (ADR 0007).

One budget per client address for both doors: ten failures a minute, then every try from that
address (a right token too) gets 429 until the window ends, so a guesser never learns more
by switching doors. A success is never counted. The client is the address ProxyFix took from
``X-Forwarded-For`` behind ``TRUSTED_PROXIES`` proxies; IPv6 clients count per /64, the block
one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter

from integrator.db.database import Database
from integrator.db.rate_limits import shared_storage
from integrator.settings import Settings

AUTH_FAILURES = parse("10/minute")
NAMESPACE = "admin-auth"
IPV6_PREFIX = 64


def client_key(address: str | None) -> str:
    """What one client's failures are counted under: its IPv4 address, or its IPv6 /64."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


class AuthThrottle:
    """``blocked`` before checking a token; ``failed`` after a wrong one; nothing on success."""

    def __init__(
        self,
        storage: Storage,
        limit: RateLimitItem = AUTH_FAILURES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limiter = FixedWindowRateLimiter(storage)
        self.limit = limit
        self._clock = clock

    def blocked(self, client: str) -> bool:
        """:raises limits.errors.StorageError: when the count cannot be read."""
        return not self._limiter.test(self.limit, NAMESPACE, client)

    def failed(self, client: str) -> None:
        """:raises limits.errors.StorageError: when the count cannot be written."""
        self._limiter.hit(self.limit, NAMESPACE, client)

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again (at least 1)."""
        reset = self._limiter.get_window_stats(self.limit, NAMESPACE, client).reset_time
        return max(1, math.ceil(reset - self._clock()))


def build_throttle(settings: Settings, db: Database) -> AuthThrottle:
    """Counts in Redis (or any ``limits`` storage) when RATE_LIMIT_STORAGE_URL names one,
    else in the database: never per process."""
    return AuthThrottle(shared_storage(settings.rate_limit_storage_url, db))
