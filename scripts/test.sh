#!/usr/bin/env bash
# `make test`: lint, migrations check, then the suite on the embedded default and,
# when PostgreSQL and Redis answer (or DATABASE_URL/REDIS_URL are set), again on them
# with a real Celery worker process. Exits non-zero on any failure.
#
# The two passes share nothing (SQLite file vs PostgreSQL database, no Redis vs Redis,
# their own static and media directories, their own pytest cache), so they run side by
# side, one per core: the production pass's output is kept in a log and printed after
# the embedded one. Each pass's wall time is printed in the summary.
#
# Each slow group runs in the one pass it is about, keeping the two passes about even: the
# browser group (tests/browser/, the pages as people use them) in the embedded pass, the
# fault tests (tests/faults/, the production shape broken on purpose) in the production
# pass. Every other test runs in both.
#
# `scripts/test.sh --fast [pytest arguments]` (`make test-fast`): the embedded pass only,
# spread over every core by pytest-xdist, for the edit loop; no lint, no second pass.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export SECRET_KEY="${SECRET_KEY:-test-only-secret-key-not-for-production-0123456789}"
export HTTPS=false DEBUG=false
# Where each pass keeps pytest's cache (--lf, --ff): the embedded pass uses the default
# (pyproject.toml), the production pass one of its own so the two never write one file.
PRODUCTION_CACHE=var/pytest-cache/production

step() { printf '\n=== %s ===\n' "$*"; }
fail() { echo "FAILED: $*"; exit 1; }
took() { local s=$(($2 - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

if [ "${1:-}" = "--fast" ]; then
  shift
  step "embedded default, spread over pytest-xdist workers (-n ${TEST_WORKERS:-auto})"
  started=$(date +%s)
  (unset DATABASE_URL REDIS_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND
   $PY -m pytest -n "${TEST_WORKERS:-auto}" --dist loadgroup "$@")
  rc=$?
  echo "embedded pass: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(took "$started" "$(date +%s)")"
  exit $rc
fi

step "ruff (lint and format)"
$PY -m ruff check . || fail "ruff check"
$PY -m ruff format --check . || fail "ruff format (run: make fmt)"

step "mypy (types; strict on consultation/counting)"
$PY -m mypy || fail "mypy"

step "migrations are up to date"
(unset DATABASE_URL REDIS_URL; $PY manage.py makemigrations --check --dry-run) || fail "missing migrations"

reachable() { # host port
  $PY -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2).close()" "$1" "$2" 2>/dev/null
}

PROD_DB="${DATABASE_URL:-}"
PROD_REDIS="${REDIS_URL:-}"
if [ -z "$PROD_DB" ] && reachable 127.0.0.1 5432; then PROD_DB="postgres://postgres@127.0.0.1:5432/agora"; fi
if [ -z "$PROD_REDIS" ] && reachable 127.0.0.1 6379; then PROD_REDIS="redis://127.0.0.1:6379/14"; fi

passes=()
status=0
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-test.XXXXXX")
trap 'kill $prod_pid 2>/dev/null; rm -rf "$work"' EXIT
prod_pid=""

if [ -n "$PROD_DB" ] && [ -n "$PROD_REDIS" ]; then
  (started=$(date +%s)
   DATABASE_URL="$PROD_DB" REDIS_URL="$PROD_REDIS" \
     $PY -m pytest -o cache_dir="$PRODUCTION_CACHE" -m "not browser" "$@" >"$work/production.log" 2>&1
   echo $? >"$work/production.rc"; took "$started" "$(date +%s)" >"$work/production.time") &
  prod_pid=$!
  echo "(pass 2, the production shape, runs alongside; its output follows pass 1's)"
fi

step "pass 1: embedded default (SQLite + in-memory channel layer + in-memory broker)"
started=$(date +%s)
(unset DATABASE_URL REDIS_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND
 $PY -m pytest "$@")
rc=$?; wall=$(took "$started" "$(date +%s)")
[ $rc -eq 0 ] && passes+=("embedded: passed in $wall") || { passes+=("embedded: FAILED in $wall"); status=1; }

if [ -n "$prod_pid" ]; then
  step "pass 2: production shape (PostgreSQL $PROD_DB + Redis $PROD_REDIS + Celery worker process)"
  wait "$prod_pid"
  cat "$work/production.log"
  rc=$(cat "$work/production.rc" 2>/dev/null || echo 1)
  wall=$(cat "$work/production.time" 2>/dev/null)
  [ "$rc" -eq 0 ] && passes+=("production shape: passed in $wall") \
    || { passes+=("production shape: FAILED in $wall"); status=1; }
else
  echo ""
  echo "NOTE: PostgreSQL (127.0.0.1:5432) and/or Redis (127.0.0.1:6379) are not reachable and"
  echo "      DATABASE_URL/REDIS_URL are not set: SKIPPING the production-shape pass."
  passes+=("production shape: SKIPPED (PostgreSQL/Redis not reachable)")
fi

step "summary"
printf '  %s\n' "${passes[@]}"
exit $status
