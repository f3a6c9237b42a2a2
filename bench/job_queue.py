"""Queue throughput: enqueue + claim + ack of no-op jobs, beside plain SQL in the same run.

    python bench/job_queue.py [--jobs 2000] [--pg-server postgresql://postgres@127.0.0.1:5432/postgres]

For each database and thread count it prints jobs/s of the integrator queue (SQLAlchemy,
leases, fencing; the worker's dispatcher claiming in batches for its pool of threads) and of a
baseline doing the same statements one job at a time through the bare driver, and the ratio.
The machines are noisy: compare the ratio, not the absolute figures.

PostgreSQL runs in a database this script creates on ``--pg-server`` and drops at the end;
``--pg URL`` uses an existing scratch database instead (emptied first; never ``test``).
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is named queue.py: keep its folder off sys.path so that the stdlib's queue wins
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import (  # noqa: E402
    DEFAULT_PG_SERVER,
    empty_postgres,
    machine_note,
    print_table,
    scratch_postgres,
)
from integrator.db.database import Database  # noqa: E402
from integrator.db.migrate import upgrade  # noqa: E402
from integrator.db.timestamps import utcnow  # noqa: E402
from integrator.jobqueue import jobs  # noqa: E402
from integrator.jobqueue.worker import Worker  # noqa: E402


def run_threads(threads: int, target: Callable[[], None]) -> None:
    pool = [threading.Thread(target=target) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def integrator_rate(url: str, count: int, threads: int) -> float:
    db = Database.from_url(url)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM jobs")
    started = time.perf_counter()
    per_thread = count // threads

    def produce() -> None:
        for _ in range(per_thread):
            with db.write() as session:
                jobs.enqueue(session, "noop")

    run_threads(threads, produce)
    worker = Worker(db, {"noop": lambda _c: None}, threads=threads)
    runner = threading.Thread(target=worker.run)
    runner.start()
    while jobs.queue_stats(db)["counts"].get("done", 0) < per_thread * threads:
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    worker.stop()
    runner.join()
    done = jobs.queue_stats(db)["counts"].get("done", 0)
    db.dispose()
    assert done == per_thread * threads, done
    return done / elapsed


# --- baseline: the same work through the bare driver -------------------------------------

SQLITE_CLAIM = """UPDATE jobs SET status='running', locked_by=?, lease_until=?, attempts=attempts+1,
 started_at=? WHERE id IN (SELECT id FROM jobs WHERE status='queued' AND run_at<=?
 ORDER BY priority, run_at, id LIMIT 1) RETURNING id, attempts"""
PG_CLAIM = """UPDATE jobs SET status='running', locked_by=%s, lease_until=%s, attempts=attempts+1,
 started_at=%s WHERE id IN (SELECT id FROM jobs WHERE status='queued' AND run_at<=%s
 ORDER BY priority, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, attempts"""
INSERT = """INSERT INTO jobs (kind, payload, status, priority, attempts, max_attempts, run_at,
 created_at) VALUES ('noop', '{{}}', 'queued', 100, 0, 10, {p}, {p})"""
ACK = """UPDATE jobs SET status='done', finished_at={p}, locked_by=NULL, lease_until=NULL
 WHERE id={p} AND locked_by={p} AND attempts={p} AND status='running'"""


def sqlite_baseline(path: str, count: int, threads: int) -> float:
    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        return connection

    setup = connect()
    setup.execute("DELETE FROM jobs")
    setup.close()
    per_thread = count // threads
    started = time.perf_counter()

    def produce() -> None:
        connection = connect()
        for _ in range(per_thread):
            now = utcnow()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(INSERT.format(p="?"), (now, now))
            connection.execute("COMMIT")
        connection.close()

    def consume() -> None:
        connection = connect()
        name = threading.current_thread().name
        while True:
            now = utcnow()
            connection.execute("BEGIN IMMEDIATE")
            rows = connection.execute(
                SQLITE_CLAIM, (name, now + timedelta(seconds=60), now, now)
            ).fetchall()
            connection.execute("COMMIT")
            if not rows:
                break
            job_id, attempts = rows[0]
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(ACK.format(p="?"), (utcnow(), job_id, name, attempts))
            connection.execute("COMMIT")
        connection.close()

    run_threads(threads, produce)
    run_threads(threads, consume)
    return per_thread * threads / (time.perf_counter() - started)


def pg_baseline(url: str, count: int, threads: int) -> float:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("DELETE FROM jobs")
    per_thread = count // threads
    started = time.perf_counter()

    def produce() -> None:
        with psycopg.connect(dsn) as connection:
            for _ in range(per_thread):
                now = utcnow()
                connection.execute(INSERT.format(p="%s"), (now, now))  # type: ignore[arg-type]
                connection.commit()

    def consume() -> None:
        name = threading.current_thread().name
        with psycopg.connect(dsn) as connection:
            while True:
                now = utcnow()
                rows = connection.execute(
                    PG_CLAIM, (name, now + timedelta(seconds=60), now, now)
                ).fetchall()
                connection.commit()
                if not rows:
                    break
                job_id, attempts = rows[0]
                connection.execute(ACK.format(p="%s"), (utcnow(), job_id, name, attempts))  # type: ignore[arg-type]
                connection.commit()

    run_threads(threads, produce)
    run_threads(threads, consume)
    return per_thread * threads / (time.perf_counter() - started)


def measure(name: str, url: str, baseline: Callable[[int], float], count: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for threads in (1, 4):
        base = baseline(threads)
        ours = integrator_rate(url, count, threads)
        rows.append([name, threads, ours, base, f"{ours / base:.2f}"])
        print(f"  {name} {threads} thread(s): {ours:.0f} jobs/s, baseline {base:.0f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="makes and drops a db")
    parser.add_argument("--pg", help="an existing scratch database instead (emptied)")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    print(machine_note())
    rows: list[list[Any]] = []
    with tempfile.TemporaryDirectory(prefix="integrator-bench-") as folder:
        sqlite_path = f"{folder}/bench.db"
        sqlite_url = f"sqlite:///{sqlite_path}"
        upgrade(sqlite_url)
        rows += measure(
            "sqlite", sqlite_url, lambda t: sqlite_baseline(sqlite_path, args.jobs, t), args.jobs
        )
    if not args.skip_pg:
        with ExitStack() as stack:
            if args.pg:
                empty_postgres(args.pg)
                url = args.pg
            else:
                url = stack.enter_context(scratch_postgres(args.pg_server, "bench_queue"))
            rows += measure("postgresql", url, lambda t: pg_baseline(url, args.jobs, t), args.jobs)
    print_table(["database", "threads", "integrator jobs/s", "baseline jobs/s", "ratio"], rows)


if __name__ == "__main__":
    main()
