"""Why more threads were slower: the worker before issue 15 (each thread claims its own job)
beside the dispatcher, on the same work, with what each one waits for.

    python bench/worker_threads.py [--jobs 400] [--old-rev e917a7b] [--skip-pg]

The old worker's module is read from git (``--old-rev``) and run against today's queue
functions. Each job's handler waits 5 ms (an HTTP exchange) and writes one transaction that
enqueues a follow-up job (a step of an order). Reported: jobs/s, write transactions per job
(every ``Database.write``/``write_connection``, the handler's included), the seconds threads
spent waiting for the process's SQLite write lock, and claim calls that found nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from types import ModuleType, TracebackType  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import (  # noqa: E402
    DEFAULT_PG_SERVER,
    machine_note,
    print_table,
    quiet_logs,
    scratch_postgres,
)
from integrator.db.database import Database  # noqa: E402
from integrator.db.migrate import upgrade  # noqa: E402
from integrator.jobqueue import jobs  # noqa: E402
from integrator.jobqueue.worker import JobContext, Worker  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def old_worker_module(rev: str, folder: str) -> ModuleType:
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:integrator/queue/worker.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # run it against today's module names (issue 16 renamed the package and the clock)
    source = source.replace("integrator.queue", "integrator.jobqueue")
    source = source.replace("integrator.db.clock", "integrator.db.timestamps")
    path = Path(folder) / "old_worker.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_worker", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_worker"] = module
    spec.loader.exec_module(module)
    return module


class CountingLock:
    """Wraps the Database's write lock: how many write transactions, how long they waited."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.waited, self.entered = inner, 0.0, 0

    def __enter__(self) -> None:
        started = time.perf_counter()
        self.inner.__enter__()
        self.waited += time.perf_counter() - started
        self.entered += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.inner.__exit__(kind, error, tb)


class ClaimCounter:
    def __init__(self) -> None:
        self.calls = self.empty = 0
        self.real = jobs.claim

    def __call__(self, *args: Any, **kwargs: Any) -> list[jobs.ClaimedJob]:
        found: list[jobs.ClaimedJob] = self.real(*args, **kwargs)
        self.calls += 1
        self.empty += not found
        return found


def measure(url: str, worker_class: Any, threads: int, count: int) -> list[Any]:
    db = Database.from_url(url)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM jobs")
    with db.write() as session:
        for _ in range(count):
            jobs.enqueue(session, "step")

    def step(context: JobContext) -> None:
        time.sleep(0.005)
        with context.db.write() as session:
            jobs.enqueue(session, "next", unique_key=f"next:{context.job.id}")

    lock = CountingLock(db._write_lock)
    db._write_lock = lock  # type: ignore[assignment]
    counter = ClaimCounter()
    jobs.claim = counter  # type: ignore[assignment]
    worker = worker_class(
        db, {"step": step, "next": lambda _c: None}, threads=threads, poll_interval=0.05
    )
    runner = threading.Thread(target=worker.run)
    started = time.perf_counter()
    runner.start()
    while jobs.queue_stats(db)["counts"].get("done", 0) < 2 * count:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    worker.stop()
    runner.join()
    jobs.claim = counter.real  # type: ignore[assignment]
    db.dispose()
    sqlite = url.startswith("sqlite")
    return [
        2 * count / elapsed,
        lock.entered / (2 * count) if sqlite else float("nan"),
        lock.waited if sqlite else float("nan"),
        elapsed,
        f"{counter.calls} ({counter.empty})",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=400, help="first steps; as many follow")
    parser.add_argument("--old-rev", default="e917a7b", help="a commit with the old worker")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    quiet_logs()
    print(machine_note(), flush=True)
    rows: list[list[Any]] = []
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="integrator-bench-"))
        workers = {"before (thread claims)": old_worker_module(args.old_rev, folder).Worker}
        workers["dispatcher"] = Worker
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        targets = [("sqlite", url)]
        if not args.skip_pg:
            targets.append(
                (
                    "postgresql",
                    stack.enter_context(scratch_postgres(args.pg_server, "bench_threads")),
                )
            )
        for database, target in targets:
            for name, worker_class in workers.items():
                for threads in (1, 4):
                    rows.append(
                        [
                            database,
                            name,
                            threads,
                            *measure(target, worker_class, threads, args.jobs),
                        ]
                    )
                    print(f"  {rows[-1]}", flush=True)
    print_table(
        [
            "db",
            "worker",
            "threads",
            "jobs/s",
            "write txns/job",
            "s waiting for the write lock",
            "seconds",
            "claim calls (empty)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
