#!/usr/bin/env bash
# The whole test suite, as `npm test` and CI run it: local servers, Chromium, build and type-check,
# lint, the Python SDK's environment and type-check, unit, integration and end-to-end tests, stopping at the
# first failure with its exit status.
# Extra arguments go to the end-to-end run (e.g. `npm test -- test/recovery.e2e-spec.ts`).
# TEST_INFRA_DIR moves the servers' directory (default .data/test), e.g. for two runs at once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="${TEST_INFRA_DIR:-$ROOT/.data/test}"
[[ "$DIR" = /* ]] || DIR="$ROOT/$DIR"

phase() { printf '\n=== %s ===\n' "$1"; current="$1"; }
current="set-up"
finish() {
  local status=$?
  bash scripts/infra.sh down --dir "$DIR" >/dev/null 2>&1 || true
  if [[ $status -eq 0 ]]; then printf '\n=== all passed ===\n'; else printf '\n=== FAILED: %s (exit %d) ===\n' "$current" "$status" >&2; fi
  exit "$status"
}
trap finish EXIT

if [[ ! -d node_modules ]]; then phase "npm ci"; npm ci --no-audit --no-fund; fi

# The dashboard's browser tests drive Debian's Chromium (playwright cannot download its own here).
if [[ ! -x /usr/bin/chromium ]]; then
  phase "Chromium for the dashboard's browser tests (apt-get)"
  if [[ $(id -u) -ne 0 ]]; then echo "/usr/bin/chromium is missing: install it (sudo apt-get install -y chromium) or run this as root" >&2; exit 1; fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

phase "servers: NATS, Redis, PostgreSQL ($DIR)"
PG_FSYNC=off PGDATABASE_NAME=orchestrator_test bash scripts/infra.sh up --dir "$DIR" >/dev/null
# shellcheck disable=SC1091
source "$DIR/infra.env"

phase "build and type-check"; npm run --silent build; npm run --silent check
phase "lint";                 npm run --silent lint
phase "Python SDK: virtual environment and type-check"
# test/python-sdk.e2e-spec.ts runs the SDK's pytest suite with this environment's pytest.
PYTHON_SDK_VENV="$(bash scripts/python-sdk-venv.sh)"
export PYTHON_SDK_VENV
(cd sdks/python && "$PYTHON_SDK_VENV/bin/mypy")
phase "unit tests";           npx vitest run --project unit
phase "integration tests";    npx vitest run --project integration
# The end-to-end files share one machine's servers and clock: a file that fails is run once more,
# by itself, starting as every file does from an emptied database and Redis (E2E_RERUN=0 turns this off). Both runs are printed; the suite
# passes only if each failed file passes whole on its second run, and no more than E2E_RERUN_MAX
# (default 6) failed: more than that is not a busy machine but a broken build.
phase "end-to-end tests"
report="$DIR/e2e-report.json"
rm -f "$report"
if ! npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json="$report" "$@"; then
  failed="$(node scripts/failed-files.mjs "$report")" || exit 1
  count="$(printf '%s\n' "$failed" | grep -c . || true)"
  if [[ "${E2E_RERUN:-1}" == 0 || "$count" -eq 0 || "$count" -gt "${E2E_RERUN_MAX:-6}" ]]; then exit 1; fi
  phase "end-to-end tests: the $count file(s) that failed, once more"
  printf '%s\n' "$failed"
  # shellcheck disable=SC2086
  npx vitest run --project e2e $failed
fi
