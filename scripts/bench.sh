#!/usr/bin/env bash
# The benchmark: its own NATS, Redis and PostgreSQL (durable settings: fsync on), the orchestrator,
# no-op agents and BullMQ workers. Writes bench/RESULTS.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="$ROOT/.data/bench"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
trap 'bash scripts/infra.sh down --dir "$DIR" >/dev/null 2>&1 || true' EXIT
PGDATABASE_NAME=orchestrator_bench bash scripts/infra.sh up --dir "$DIR" >/dev/null
source "$DIR/infra.env"
npm run --silent build
npm run --silent migration:run >/dev/null
node bench/dist/bench.js
