"""How soon an idle worker picks up a new job (issue 15, aim 3: within 50 ms, without polling
harder), on SQLite and PostgreSQL.

    python bench/wakeup.py [--rounds 60] [--pg-server URL] [--skip-pg]

An `integrator worker`'s dispatcher (one thread pool, the shipped poll interval of 1 s as its
only timer) sits idle; then a job is enqueued and committed, either through the worker's own
``Database`` (an enqueue of this process: the in-process wake-up) or through a second
``Database`` with its own engine and connections, which stands for the web process (PostgreSQL
``LISTEN/NOTIFY``; SQLite ``PRAGMA data_version``). Measured: from the start of the enqueuing
transaction (its commit included, so an upper bound) to the moment the handler starts. Each round waits 0.3 s first, so the worker
is asleep, not between two claims.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402

from bench.common import (  # noqa: E402
    DEFAULT_PG_SERVER,
    machine_note,
    percentile,
    print_table,
    quiet_logs,
    scratch_postgres,
)
from integrator.db.database import Database  # noqa: E402
from integrator.db.migrate import upgrade  # noqa: E402
from integrator.jobqueue import jobs  # noqa: E402
from integrator.jobqueue.worker import JobContext, Worker  # noqa: E402

IDLE_SECONDS = 0.3
PATIENCE_SECONDS = 5.0


def pick_up_delays(worker_db: Database, enqueue_db: Database, rounds: int) -> list[float]:
    """Seconds from each enqueuing transaction's start to its handler's start."""
    started: list[float] = []
    ran = threading.Event()

    def handle(_context: JobContext) -> None:
        started.append(time.monotonic())
        ran.set()

    worker = Worker(worker_db, {"wake": handle}, threads=1)  # the shipped poll interval
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    delays: list[float] = []
    try:
        for _ in range(rounds):
            time.sleep(IDLE_SECONDS)
            ran.clear()
            # from the start of the enqueuing transaction (its commit included: an upper bound);
            # a clock read after the commit returned can come after the handler's start when
            # this thread is descheduled in between
            begun = time.monotonic()
            with enqueue_db.write() as session:
                jobs.enqueue(session, "wake")
            if not ran.wait(PATIENCE_SECONDS):
                raise RuntimeError("the worker did not pick the job up")
            delays.append(started[-1] - begun)
    finally:
        worker.stop()
        thread.join(PATIENCE_SECONDS)
    return delays


def measure(url: str, rounds: int) -> list[list[object]]:
    rows: list[list[object]] = []
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    for source in ("same process", "another connection"):
        worker_db = Database.from_url(url)
        other = worker_db if source == "same process" else Database.from_url(url)
        try:
            delays = pick_up_delays(worker_db, other, rounds)
        finally:
            worker_db.dispose()
            other.dispose()
        ms = [delay * 1000 for delay in delays]
        rows.append(
            [
                kind,
                source,
                len(ms),
                round(percentile(ms, 50), 2),
                round(percentile(ms, 99), 2),
                round(max(ms), 2),
                sum(1 for value in ms if value <= 50),
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    quiet_logs()
    print(machine_note(), flush=True)
    rows: list[list[object]] = []
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="integrator-wakeup-"))
        sqlite_url = f"sqlite:///{Path(folder) / 'wakeup.db'}"
        upgrade(sqlite_url)
        rows += measure(sqlite_url, args.rounds)
        if not args.skip_pg:
            rows += measure(stack.enter_context(scratch_postgres(args.pg_server)), args.rounds)
    print_table(["db", "enqueued by", "jobs", "p50 ms", "p99 ms", "max ms", "within 50 ms"], rows)


if __name__ == "__main__":
    main()
