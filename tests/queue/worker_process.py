"""A worker process for the multi-process queue tests.

Usage: python worker_process.py DATABASE_URL LOG_FILE MODE [LEASE [PEERS]]
MODE "record": every job appends "<job id> <pid>" to LOG_FILE. With PEERS, the process first
waits until PEERS record processes have started (a ready file each beside LOG_FILE), so that a
fast starter cannot drain the whole queue before a slow one has claimed anything.
MODE "hang": the handler writes its job id then sleeps (to be SIGKILLed).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from integrator.db.database import Database
from integrator.jobqueue.worker import JobContext, Worker


def main() -> None:
    url, log_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    lease = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    peers = int(sys.argv[5]) if len(sys.argv) > 5 else 1

    def record(context: JobContext) -> None:
        with open(log_path, "a") as log:
            log.write(f"{context.job.id} {os.getpid()}\n")
        time.sleep(0.002)  # a job that takes a moment, as real ones do: both processes get a share

    def hang(context: JobContext) -> None:
        record(context)
        time.sleep(600)

    handlers = {"test.record": record, "test.hang": hang}
    worker = Worker(Database.from_url(url), handlers, threads=2, lease_seconds=lease)
    if mode == "hang":
        worker.run_once()
        return
    wait_for_peers(Path(log_path), peers)
    worker.drain(idle_rounds=20)


def wait_for_peers(log: Path, peers: int) -> None:
    (log.parent / f"{log.name}.ready.{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while len(list(log.parent.glob(f"{log.name}.ready.*"))) < peers:
        if time.monotonic() > deadline:
            sys.exit("peers never started")
        time.sleep(0.01)


if __name__ == "__main__":
    main()
