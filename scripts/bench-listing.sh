#!/usr/bin/env bash
# npm run bench:listing: GET /tasks, GET /tasks/:id and the sweeper's queries on a million rows, on
# servers of its own (.data/bench-listing); auto_explain logs the plans. Writes bench/LISTING.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="$ROOT/.data/bench-listing"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
trap 'bash scripts/infra.sh down --dir "$DIR" >/dev/null 2>&1 || true' EXIT
# A server left running without auto_explain would log no plans: always a fresh start.
bash scripts/infra.sh down --dir "$DIR" >/dev/null 2>&1 || true
PG_OPTIONS='-c shared_preload_libraries=auto_explain -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on -c auto_explain.log_min_duration=-1' \
  PGDATABASE_NAME=orchestrator_bench PG_FSYNC=off bash scripts/infra.sh up --dir "$DIR" >/dev/null
source "$DIR/infra.env"
export PG_LOG_FILE="$DIR/logs/postgres.log"
npm run --silent build
npm run --silent migration:run >/dev/null
node bench/dist/listing.js
