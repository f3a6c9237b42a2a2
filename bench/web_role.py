"""The web role as a deployment starts it: the ``Procfile``'s ``web`` line or ``integrator
serve``, in its own process on a free loopback port, with every secret it needs set.

Used by ``bench/ingest.py`` and ``bench/chaos/slow_clients.py`` (and their tests).
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet

from integrator.sandbox.stack import sandbox_process_environment

ROOT = Path(__file__).resolve().parents[1]
SHOP = "bench-store.myshopify.com"
CLIENT_SECRET = "bench-client-secret-" + "0" * 24  # noqa: S105 - a throwaway local secret
SERVERS = ("procfile", "serve")


def _generated_secrets(config_dir: Path) -> dict[str, str]:
    """A strong value for every key and secret ``routing.yaml`` reads from the environment."""
    text = (config_dir / "routing.yaml").read_text()
    names = set(re.findall(r"\$\{([A-Z0-9_]+(?:_API_KEY|_SECRET|_TOKEN))", text))
    return {name: secrets.token_urlsafe(32) for name in sorted(names)}


def web_environment(database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    config_dir = ROOT / "config"
    return {
        **os.environ,
        # fresh supplier credentials, the sandbox account ids config/ reads, an ENCRYPTION_KEY
        **sandbox_process_environment(),
        **_generated_secrets(config_dir),
        "DATABASE_URL": database_url,
        "SHOPIFY_CLIENT_ID": "bench-client-id",
        "SHOPIFY_CLIENT_SECRET": CLIENT_SECRET,
        "SHOPIFY_SHOP": SHOP,
        "INTEGRATOR_CONFIG_DIR": str(config_dir),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ADMIN_TOKEN": secrets.token_urlsafe(32),
        **(extra or {}),
    }


def procfile_web_command(port: int, overrides: Mapping[str, str] | None = None) -> list[str]:
    """The Procfile's ``web`` command on ``127.0.0.1:port``, with option values replaced."""
    line = next(
        line.split(":", 1)[1].strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    line = line.replace("${PORT:-8000}", str(port)).replace("0.0.0.0", "127.0.0.1")  # noqa: S104
    words = shlex.split(line)
    for option, value in (overrides or {}).items():
        words[words.index(option) + 1] = value
    if words[0] == "gunicorn":
        words = [sys.executable, "-m", "gunicorn", *words[1:]]
    return words


def serve_command(port: int, workers: int = 2, threads: int = 8) -> list[str]:
    executable = Path(sys.executable).with_name("integrator")
    return [
        str(executable), "serve", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--threads", str(threads),
    ]  # fmt: skip


class WebRole:
    """One web role process; ``stop()`` sends SIGTERM and waits."""

    def __init__(self, command: list[str], env: Mapping[str, str], port: int, log: Path) -> None:
        self.port = port
        self.command = command
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[:4]} exited with {self.process.returncode}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.2)
        raise RuntimeError("the web role did not answer /healthz in time")

    def stop(self) -> int:
        self.process.terminate()
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code
