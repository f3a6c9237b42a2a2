#!/usr/bin/env bash
# Runs every check: lint, types, the suite on SQLite, then on a scratch PostgreSQL database.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# One full run at a time on a machine: the suite starts real worker, web and sandbox processes,
# and several runs at once on a small machine turn waits into timeouts. A second run waits here.
exec 9>"${TMPDIR:-/tmp}/integrator-test-suite.lock"
if ! flock -n 9; then
  echo "another full test run is going on this machine; waiting for it to finish"
  flock 9
fi

$BIN/ruff check integrator webhooks tests bench
$BIN/ruff format --check integrator webhooks
$BIN/mypy

# the browser test drives Debian's chromium; install it (idempotent). Without it the run
# stops here: the browser test is part of the suite, never skipped.
if ! ./scripts/install-browser.sh; then
  echo "could not install chromium and chromium-driver (scripts/install-browser.sh): stopping" >&2
  exit 1
fi

echo "== test suite on SQLite"
$BIN/pytest -q -p no:cacheprovider "$@"

PG_HOST=${PGHOST:-127.0.0.1}
PG_PORT=${PGPORT:-5432}
PG_USER=${PGUSER:-postgres}
if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
  echo "PostgreSQL is not running on $PG_HOST:$PG_PORT; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break; sleep 1; done
fi
SCRATCH="integrator_test_$$_$(date +%s)"
psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d test -c "CREATE DATABASE $SCRATCH" >/dev/null
trap 'psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d test -c "DROP DATABASE IF EXISTS $SCRATCH WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

echo "== test suite on PostgreSQL ($SCRATCH)"
INTEGRATOR_TEST_DATABASE_URL="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$SCRATCH" \
  $BIN/pytest -q -p no:cacheprovider "$@"
