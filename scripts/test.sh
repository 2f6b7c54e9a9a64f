#!/usr/bin/env bash
# `make test`: lint, migrations check, then the suite on the embedded default and,
# when PostgreSQL and Redis answer (or DATABASE_URL/REDIS_URL are set), again on them
# with a real Celery worker process. Exits non-zero on any failure.
#
# The two passes share nothing (SQLite file vs PostgreSQL database, no Redis vs Redis,
# their own static and media directories), so they run side by side, one per core:
# the production pass's output is kept in a log and printed after the embedded one.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export SECRET_KEY="${SECRET_KEY:-test-only-secret-key-not-for-production-0123456789}"
export HTTPS=false DEBUG=false

step() { printf '\n=== %s ===\n' "$*"; }
fail() { echo "FAILED: $*"; exit 1; }

step "ruff (lint and format)"
$PY -m ruff check . || fail "ruff check"
$PY -m ruff format --check . || fail "ruff format (run: make fmt)"

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
  (DATABASE_URL="$PROD_DB" REDIS_URL="$PROD_REDIS" STATIC_ROOT="$work/static-production" \
    $PY -m pytest "$@" >"$work/production.log" 2>&1; echo $? >"$work/production.rc") &
  prod_pid=$!
  echo "(pass 2, the production shape, runs alongside; its output follows pass 1's)"
fi

step "pass 1: embedded default (SQLite + in-memory channel layer + in-memory broker)"
(unset DATABASE_URL REDIS_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND
 STATIC_ROOT="$work/static-embedded" $PY -m pytest "$@")
rc=$?; [ $rc -eq 0 ] && passes+=("embedded: passed") || { passes+=("embedded: FAILED"); status=1; }

if [ -n "$prod_pid" ]; then
  step "pass 2: production shape (PostgreSQL $PROD_DB + Redis $PROD_REDIS + Celery worker process)"
  wait "$prod_pid"
  cat "$work/production.log"
  rc=$(cat "$work/production.rc" 2>/dev/null || echo 1)
  [ "$rc" -eq 0 ] && passes+=("production shape: passed") || { passes+=("production shape: FAILED"); status=1; }
else
  echo ""
  echo "NOTE: PostgreSQL (127.0.0.1:5432) and/or Redis (127.0.0.1:6379) are not reachable and"
  echo "      DATABASE_URL/REDIS_URL are not set: SKIPPING the production-shape pass."
  passes+=("production shape: SKIPPED (PostgreSQL/Redis not reachable)")
fi

step "summary"
printf '  %s\n' "${passes[@]}"
exit $status
