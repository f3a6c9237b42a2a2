"""Two clock processes by mistake: every slot's reconcile jobs are enqueued once."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select

from integrator.bootstrap import bootstrap
from integrator.db.database import Database
from integrator.db.models import Job
from integrator.pipeline.reconcile import PASSES
from integrator.scheduler import MISFIRE_GRACE_SECONDS, build_scheduler
from integrator.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
RUN_SECONDS = 2.0
ONE_SECOND_INTERVALS = "intervals: {" + ", ".join(f"{name}: 1" for name in PASSES) + "}"

# one clock: wait for the other to be ready, then enqueue every pass in a bounded loop
CLOCK_PROCESS = """
import json, sys, time
from pathlib import Path
from integrator.bootstrap import bootstrap
from integrator.scheduler import enqueue_pass
from integrator.db.timestamps import utcnow
from integrator.db.database import Database
from integrator.pipeline.reconcile import PASSES, slot_of
from integrator.settings import load_settings

url, config_dir, ready_dir, me, seconds = sys.argv[1:]
settings = load_settings({"DATABASE_URL": url, "INTEGRATOR_CONFIG_DIR": config_dir})
container = bootstrap(settings, db=Database.from_url(url))
Path(ready_dir, me).touch()
give_up = time.monotonic() + 60
while len(list(Path(ready_dir).iterdir())) < 2 and time.monotonic() < give_up:
    time.sleep(0.005)
end = time.monotonic() + float(seconds)
tries = []
# at least the time asked for and ten rounds: a CPU-starved clock runs longer, not fewer rounds
while (time.monotonic() < end or len(tries) < 10 * len(PASSES)) and time.monotonic() < give_up:
    for name in PASSES:
        now = utcnow()
        key = f"reconcile:{name}:{slot_of(container.config().reconcile.interval(name), now)}"
        tries.append([name, key, enqueue_pass(container, name, now)])
    time.sleep(0.01)
container.close()
print(json.dumps(tries))
"""


def config_with_short_intervals(target: Path) -> Path:
    shutil.copytree(ROOT / "config", target)
    routing = target / "routing.yaml"
    text = routing.read_text()
    changed = re.sub(r"intervals: \{[^}]*\}", ONE_SECOND_INTERVALS, text, count=1)
    assert changed != text
    routing.write_text(changed)
    return target


def run_two_clocks(database_url: str, config_dir: Path, ready: Path) -> list[list[list[object]]]:
    ready.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("INTEGRATOR_TEST_DATABASE_URL", None)
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [
                sys.executable,
                "-c",
                CLOCK_PROCESS,
                database_url,
                str(config_dir),
                str(ready),
                f"clock-{n}",
                str(RUN_SECONDS),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_two_clock_processes_enqueue_each_slot_once(database_url: str, tmp_path: Path) -> None:
    config_dir = config_with_short_intervals(tmp_path / "config")
    results = run_two_clocks(database_url, config_dir, tmp_path / "ready")

    database = Database.from_url(database_url)
    try:
        with database.read() as session:
            rows = session.execute(select(Job.kind, Job.unique_key, Job.payload)).all()
    finally:
        database.dispose()
    jobs_per_key = Counter(key for _kind, key, _payload in rows)
    assert set(jobs_per_key.values()) == {1}
    assert all(kind == f"reconcile.{str(key).split(':')[1]}" for kind, key, _p in rows)
    assert all(payload == {"slot": key} for _kind, key, payload in rows)

    # every slot either clock saw has exactly one job, and exactly one clock enqueued it
    winners: dict[str, int] = defaultdict(int)
    tried_by: dict[str, set[int]] = defaultdict(set)
    for clock, tries in enumerate(results):
        assert len(tries) >= 10 * len(PASSES), "a clock barely ran"
        for _name, key, enqueued in tries:
            tried_by[str(key)].add(clock)
            winners[str(key)] += int(bool(enqueued))
    assert set(tried_by) == set(jobs_per_key)
    assert set(winners.values()) == {1}
    # the clocks really ran together: both tried the same slots, across slot boundaries
    assert sum(1 for clocks in tried_by.values() if clocks == {0, 1}) >= len(PASSES)
    slots_per_pass = Counter(str(key).split(":")[1] for key in jobs_per_key)
    assert set(slots_per_pass) == set(PASSES)
    assert min(slots_per_pass.values()) >= 2


def test_the_schedule_coalesces_and_runs_one_instance_per_pass(
    database_url: str, tmp_path: Path
) -> None:
    settings = load_settings(
        {"DATABASE_URL": database_url, "INTEGRATOR_CONFIG_DIR": str(ROOT / "config")}
    )
    container = bootstrap(settings, db=Database.from_url(database_url))
    try:
        scheduler = build_scheduler(container, background=True)
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == set(PASSES)
        for name, job in jobs.items():
            assert job.coalesce is True
            assert job.max_instances == 1
            assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS
            interval = container.config().reconcile.interval(name)
            assert job.trigger.interval == interval
    finally:
        container.close()
