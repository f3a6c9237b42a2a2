"""A sandbox name resolver: what the public DNS answers, for the names the sandboxes use.

The demo, the tests and the benchmarks run without a network, yet submission resolves every
print-file host (``integrator.domain.public_urls``). This resolver answers like the public
DNS for the documentation domains (RFC 2606: ``example.com``, ``.net``, ``.org`` and their
subdomains have public addresses) and says "no such name" for everything else, unless a test
registers a name with :meth:`SandboxResolver.add`, e.g. a rebinding name that answers
``127.0.0.1`` as ``127.0.0.1.nip.io`` does.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from integrator.domain.public_urls import HostNotFound

# a globally routable address (one of example.com's over the years)
DOCUMENTATION_ADDRESS = "93.184.215.14"
DOCUMENTATION_DOMAINS = ("example.com", "example.net", "example.org")


class SandboxResolver:
    def __init__(self) -> None:
        self._names: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def add(self, name: str, addresses: Sequence[str]) -> None:
        with self._lock:
            self._names[name.lower().rstrip(".")] = tuple(addresses)

    def __call__(self, host: str) -> list[str]:
        name = host.lower().rstrip(".")
        with self._lock:
            if name in self._names:
                return list(self._names[name])
        if any(name == d or name.endswith("." + d) for d in DOCUMENTATION_DOMAINS):
            return [DOCUMENTATION_ADDRESS]
        raise HostNotFound(host)
