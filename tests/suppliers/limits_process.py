"""A process of the deployment calling one supplier as fast as it can, for the tests of limits
shared across processes. Its limiter and breaker come from the composition root (the database,
or RATE_LIMIT_STORAGE_URL), as in a worker.

Usage: python limits_process.py SUPPLIER_URL API_KEY CALLS READY_DIR PEERS
Prints one JSON line: {"ok": n, "limited": n, "refused_by_supplier": n}.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from integrator.bootstrap import bootstrap
from integrator.settings import load_settings
from integrator.suppliers.errors import RetryableSupplierError
from integrator.suppliers.registry import build_adapter


def main() -> None:
    url, api_key, calls, ready, peers = sys.argv[1:6]
    container = bootstrap(load_settings(), load_config=False)
    adapter = build_adapter(
        "printful",
        "printful",
        url,
        {"api_key": api_key, "timeout_seconds": 5},
        limits_storage=container.limits_storage,
    )
    wait_for_peers(Path(ready), int(peers))
    outcome = {"ok": 0, "limited": 0, "refused_by_supplier": 0}
    for _ in range(int(calls)):
        try:
            adapter.http.request("GET", "/store")
            outcome["ok"] += 1
        except RetryableSupplierError as error:
            outcome["refused_by_supplier" if error.status == 429 else "limited"] += 1
    print(json.dumps(outcome))


def wait_for_peers(ready: Path, peers: int) -> None:
    (ready / str(os.getpid())).touch()
    deadline = time.monotonic() + 60
    while len(list(ready.iterdir())) < peers:
        if time.monotonic() > deadline:
            sys.exit("peers never started")
        time.sleep(0.01)


if __name__ == "__main__":
    main()
