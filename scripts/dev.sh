#!/usr/bin/env bash
# npm run start:dev: builds, then rebuilds on every change (tsc -b -w) and restarts the
# orchestrator when its compiled output changes (node --watch). Ctrl-C stops both.
# The orchestrator reads .env and the environment as `npm run start:orchestrator` does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npx tsc -b
npx tsc -b -w --preserveWatchOutput &
watcher=$!
trap 'kill "$watcher" 2>/dev/null || true' EXIT
node --watch apps/orchestrator/dist/main.js
