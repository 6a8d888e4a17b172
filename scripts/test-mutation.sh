#!/usr/bin/env bash
# Mutation testing of the engine, planning, delegation and persistence code (Stryker): each mutant
# is run against the unit and integration tests that cover it, then bench/MUTATION.md is written
# from the report (scores per folder, the mutants that survive). Slow: not part of `npm test`.
#   npm run test:mutation                                   everything (incremental: mutants whose
#                                                           code and tests did not change keep their result)
#   npm run test:mutation -- --mutate 'apps/orchestrator/src/engine/**/*.ts'    one folder, while working on it
# Uses running servers when DATABASE_URL is set (source an infra.env), else starts its own under
# MUTATION_INFRA_DIR (default .data/mutation) and stops them at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -z "${DATABASE_URL:-}" ]]; then
  DIR="${MUTATION_INFRA_DIR:-$ROOT/.data/mutation}"
  trap 'bash scripts/infra.sh down --dir "$DIR" >/dev/null 2>&1 || true' EXIT
  PG_FSYNC=off PGDATABASE_NAME=orchestrator_test bash scripts/infra.sh up --dir "$DIR" >/dev/null
  # shellcheck disable=SC1091
  source "$DIR/infra.env"
  export DATABASE_URL REDIS_URL NATS_URL
fi
# The libraries the tests import are used built.
npx tsc -b libs/contracts libs/agent-sdk
mkdir -p bench/mutation
# Stryker exits non-zero when the score is below thresholds.break (stryker.config.mjs): the report is written first.
status=0
npx stryker run stryker.config.mjs "$@" || status=$?
if [[ -f bench/mutation/mutation.json ]]; then node scripts/mutation-report.mjs bench/mutation/mutation.json bench/MUTATION.md; fi
exit "$status"
