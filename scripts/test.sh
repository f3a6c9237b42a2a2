#!/usr/bin/env bash
# Runs every check: lint, types, then the suite once, each database test on SQLite and on a
# scratch PostgreSQL database, spread over pytest-xdist workers (README: "Tests").
# Extra arguments go to pytest (e.g. ./scripts/test.sh tests/queue -x).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
WORKERS=${TEST_WORKERS:-4}
phase() { echo "== $1 (at ${SECONDS}s)"; }

# One full run at a time on a machine: the suite starts real worker, web and sandbox processes,
# and several runs at once on a small machine turn waits into timeouts. A second run waits here.
exec 9>"${TMPDIR:-/tmp}/integrator-test-suite.lock"
if ! flock -n 9; then
  echo "another full test run is going on this machine; waiting for it to finish"
  flock 9
fi
SECONDS=0

PG_HOST=${PGHOST:-127.0.0.1}
PG_PORT=${PGPORT:-5432}
PG_USER=${PGUSER:-postgres}
# the scratch database; each xdist worker makes (and drops) its own <scratch>_gwN beside it
SCRATCH="integrator_test_$$_$(date +%s)"
pg() { psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"; }
drop_scratch() {
  pg -At -c "SELECT datname FROM pg_database WHERE datname LIKE '${SCRATCH}%'" 2>/dev/null |
    while read -r name; do pg -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1; done || true
}

# every temporary file of the run (pytest's tmp_path with its SQLite files, the sandboxes' and
# benches' scratch files, the processes tests start) in memory when the machine has /dev/shm:
# SQLite commits with synchronous=FULL, and an fsync on a shared disk costs ~6 ms (/dev/shm:
# ~0), for thousands of commits. Removed at the end of the run.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR
  TMPDIR=$(mktemp -d /dev/shm/integrator-tests.XXXXXX)
fi
cleanup() { drop_scratch; if [[ ${TMPDIR:-} == /dev/shm/integrator-tests.* ]]; then rm -rf "$TMPDIR"; fi; }
trap cleanup EXIT

# the browser test drives Debian's chromium; install it (idempotent) while lint runs. Without it
# the run stops: the browser test is part of the suite, never skipped.
BROWSER_LOG=$(mktemp)
./scripts/install-browser.sh >"$BROWSER_LOG" 2>&1 &
BROWSER=$!

if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
  echo "PostgreSQL is not running on $PG_HOST:$PG_PORT; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi

phase "lint and types"
$BIN/ruff check integrator webhooks tests bench
$BIN/ruff format --check integrator webhooks
$BIN/mypy

if ! wait "$BROWSER"; then
  cat "$BROWSER_LOG" >&2
  echo "could not install chromium and chromium-driver (scripts/install-browser.sh): stopping" >&2
  exit 1
fi
rm -f "$BROWSER_LOG"

for _ in $(seq 1 30); do pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break; sleep 1; done
pg -c "CREATE DATABASE $SCRATCH" >/dev/null

phase "test suite on SQLite and PostgreSQL ($SCRATCH), $WORKERS workers"
INTEGRATOR_TEST_DATABASE_URL="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$SCRATCH" \
  $BIN/pytest -q -p no:cacheprovider -n "$WORKERS" --dist worksteal \
  --databases=sqlite,postgresql "$@"
phase "done"
