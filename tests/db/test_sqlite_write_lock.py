"""SQLite writers of every process queue on an flock of ``<database>.writelock`` (instead of
meeting in SQLite's busy handler, which sleeps up to 100 ms at a time)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from integrator.db.database import Database
from integrator.db.migrate import upgrade
from integrator.jobqueue import jobs


def another_process_could_lock(path: Path) -> bool:
    """A second open file description conflicts with our flock as another process's would."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "integrator.db"
    upgrade(f"sqlite:///{path}")
    return path


def test_a_write_transaction_holds_the_cross_process_lock_until_it_ends(sqlite_file: Path) -> None:
    db = Database.from_url(f"sqlite:///{sqlite_file}")
    lock_file = Path(f"{sqlite_file}.writelock")
    try:
        with db.write() as session:
            jobs.enqueue(session, "noop")
            assert not another_process_could_lock(lock_file)
        assert another_process_could_lock(lock_file)
        with db.read():
            assert another_process_could_lock(lock_file)  # readers never take it
    finally:
        db.dispose()


def test_two_database_objects_on_one_file_share_the_lock_and_can_nest(sqlite_file: Path) -> None:
    first = Database.from_url(f"sqlite:///{sqlite_file}")
    second = Database.from_url(f"sqlite:///{sqlite_file}")
    try:
        with first.write() as session:
            jobs.enqueue(session, "noop")
        with first.write_connection(), second.read() as session:
            assert jobs.queue_stats(second)["counts"] == {"queued": 1}
        assert jobs.queue_stats(first)["counts"] == {"queued": 1}
    finally:
        first.dispose()
        second.dispose()
