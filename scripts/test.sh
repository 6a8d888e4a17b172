#!/usr/bin/env bash
# The whole test suite, as `npm test` and CI run it: local servers, build, lint, unit and
# end-to-end tests. Extra arguments go to the end-to-end run (e.g. a file name).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="$ROOT/.data/test"

phase() { printf '\n=== %s ===\n' "$*"; }

[[ -d node_modules ]] || { phase "npm ci"; npm ci --no-audit --no-fund; }

phase "servers (NATS, Redis, PostgreSQL)"
trap 'bash scripts/infra.sh down --dir "$DIR" >/dev/null 2>&1 || true' EXIT
PG_FSYNC=off PGDATABASE_NAME=orchestrator_test bash scripts/infra.sh up --dir "$DIR" >/dev/null
source "$DIR/infra.env"

phase "build and type-check"; npm run --silent check
phase "lint";              npm run --silent lint
phase "unit tests";        npx vitest run --project unit
phase "end-to-end tests";  npx vitest run --project e2e "$@"
