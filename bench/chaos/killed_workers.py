"""Killed workers: orders flow while `integrator worker` processes are killed with SIGKILL at
random every few seconds and restarted → all complete, none doubled at the sandbox suppliers
(counted by external reference), none stuck.

The stack runs in loopback mode (sandbox Shopify, sandbox suppliers and the web app on
127.0.0.1) so that separate worker processes, started exactly as in production with
``integrator worker`` and environment variables, reach the same sandboxes.

    python bench/chaos/killed_workers.py [--orders 2000] [--database-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import IO, Any  # noqa: E402

from bench.chaos.common import (  # noqa: E402
    Figures,
    advance_everything,
    audit,
    command_line,
    figures_from,
    place_orders,
    queue_busy,
    scratch_url,
    start_stack,
    wait_until,
    waiting_at_suppliers,
)
from bench.chaos.supplier_outage import fast_timeout_config  # noqa: E402
from integrator.sandbox.stack import CLIENT_ID, CLIENT_SECRET, Stack  # noqa: E402

LEASE_SECONDS = 3.0
ADVANCE_ROUNDS = 3
SUPPLIER_TIMEOUT_SECONDS = 2.0


def worker_environment(stack: Stack, url: str) -> dict[str, str]:
    """What a worker process needs to reach the stack's loopback sandboxes."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR")
    }
    env.update(
        {
            "DATABASE_URL": url,
            "INTEGRATOR_CONFIG_DIR": str(stack.options.config_dir.resolve()),
            "SHOPIFY_SHOP": stack.options.shop,
            "SHOPIFY_CLIENT_ID": CLIENT_ID,
            "SHOPIFY_CLIENT_SECRET": CLIENT_SECRET,
            "SHOPIFY_ADMIN_URL": stack.settings.shopify_admin_url,
            # the stack's key: each process may read the token another one stored
            "ENCRYPTION_KEY": stack.encryption_key,
            "LOG_LEVEL": "WARNING",
            "PRINT_FILE_RESOLVER": "sandbox",  # no DNS here: resolve as the sandbox does
        }
    )
    # the suppliers' base URLs, API keys and callback secrets the stack made for this run
    env.update(stack.environ)
    return env


@dataclass
class WorkerPool:
    """A few ``integrator worker`` processes; ``kill_one`` SIGKILLs one and starts another."""

    env: dict[str, str]
    size: int
    threads: int
    log: IO[bytes]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: int = 0
    starts: int = 0

    def command(self) -> list[str]:
        executable = Path(sys.executable).with_name("integrator")
        return [
            str(executable),
            "worker",
            "--threads",
            str(self.threads),
            "--lease",
            str(LEASE_SECONDS),
        ]

    def start_one(self) -> None:
        self.processes.append(
            subprocess.Popen(
                self.command(), env=self.env, stdout=self.log, stderr=subprocess.STDOUT
            )
        )
        self.starts += 1

    def start(self) -> None:
        for _ in range(self.size):
            self.start_one()

    def kill_one(self, rng: random.Random) -> None:
        victim = self.processes.pop(rng.randrange(len(self.processes)))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        self.kills += 1
        self.start_one()

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes.clear()


def wait_while_killing(
    pool: WorkerPool,
    rng: random.Random,
    done: Callable[[], bool],
    *,
    timeout: float,
    kill_every: tuple[float, float],
    killing: bool,
    max_kills: int | None = None,
) -> bool:
    """Poll ``done``; meanwhile SIGKILL a random worker every ``kill_every`` seconds."""
    deadline = time.monotonic() + timeout
    next_kill = time.monotonic() + rng.uniform(*kill_every)
    streak = 0
    while time.monotonic() < deadline:
        streak = streak + 1 if done() else 0
        if streak >= 3:
            return True
        allowed = max_kills is None or pool.kills < max_kills
        if killing and allowed and time.monotonic() >= next_kill:
            pool.kill_one(rng)
            next_kill = time.monotonic() + rng.uniform(*kill_every)
        time.sleep(0.25)
    return False


def run(
    database_url: str | None,
    orders: int,
    *,
    processes: int = 3,
    threads: int = 2,
    kill_every: tuple[float, float] = (2.0, 6.0),
    max_kills: int | None = None,
) -> Figures:
    rng = random.Random(11)
    # supplier timeouts shorter than the lease, as `integrator worker` requires
    with (
        scratch_url(database_url) as url,
        tempfile.TemporaryFile() as log,
        fast_timeout_config(seconds=SUPPLIER_TIMEOUT_SECONDS) as config_dir,
    ):
        stack = start_stack(url, loopback=True, config_dir=config_dir)
        pool = WorkerPool(worker_environment(stack, url), processes, threads, log)
        try:
            started = time.monotonic()
            placed = place_orders(stack, orders)
            pool.start()
            answers: dict[Any, int] = {}
            budget = 120 + orders * 0.6

            def idle() -> bool:
                return queue_busy(stack.db) == 0

            def work_while_killing() -> None:
                wait_while_killing(
                    pool,
                    rng,
                    idle,
                    timeout=budget,
                    kill_every=kill_every,
                    killing=True,
                    max_kills=max_kills,
                )

            for order in placed:
                status = stack.send_webhook("orders/paid", order).statuses[-1]
                answers[status] = answers.get(status, 0) + 1
            pool.kill_one(rng)  # at least one victim while the orders are in flight
            work_while_killing()
            # the suppliers' staff make and ship what has reached them; on a slow machine some
            # orders reach them only after a first round (the queue outlived its budget), and
            # they are made in the next round instead of being counted as stuck
            for _ in range(ADVANCE_ROUNDS):
                for stage in ("in_production", "shipped"):
                    advance_everything(stack, stage)
                    work_while_killing()
                if not waiting_at_suppliers(stack):
                    break
            # the last victims' leases expire and the survivors finish their work
            settled = wait_until(idle, timeout=60, settle=3)
            found = audit(stack, placed)
            return figures_from(
                "killed workers",
                url,
                placed,
                found,
                started,
                worker_processes=processes,
                sigkills=pool.kills,
                worker_starts=pool.starts,
                webhook_answers=answers,
                settled=settled,
            )
        finally:
            pool.stop()
            stack.close()


if __name__ == "__main__":
    command_line(__doc__ or "", 2000, run)
