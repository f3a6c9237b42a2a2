"""A worker process for the multi-process queue tests.

Usage: python worker_process.py DATABASE_URL LOG_FILE MODE [LEASE]
MODE "record": every job appends "<job id> <pid>" to LOG_FILE.
MODE "hang": the handler writes its job id then sleeps (to be SIGKILLed).
"""

from __future__ import annotations

import os
import sys
import time

from integrator.db.database import Database
from integrator.jobqueue.worker import JobContext, Worker


def main() -> None:
    url, log_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    lease = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0

    def record(context: JobContext) -> None:
        with open(log_path, "a") as log:
            log.write(f"{context.job.id} {os.getpid()}\n")

    def hang(context: JobContext) -> None:
        record(context)
        time.sleep(600)

    handlers = {"test.record": record, "test.hang": hang}
    worker = Worker(Database.from_url(url), handlers, threads=2, lease_seconds=lease)
    if mode == "hang":
        worker.run_once()
        return
    worker.drain(idle_rounds=20)


if __name__ == "__main__":
    main()
