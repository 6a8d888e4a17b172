#!/usr/bin/env bash
# The main job: local servers, the orchestrator and the five demo agents, then one
# create_blog_post workflow end to end. Ctrl-C stops everything it started.
#   npm run demo [-- "a topic"]        DEMO_EXIT=1 npm run demo   (exit after the result)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="$ROOT/.data/demo"
export PORT="${PORT:-3000}"
TOPIC="${1:-How orchestration works}"
pids=()

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
cleanup() {
  trap - INT TERM EXIT
  say "Stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash scripts/infra.sh down --dir "$DIR" || true
}
trap cleanup INT TERM EXIT

[[ -d node_modules ]] || { say "Installing npm dependencies"; npm ci --no-audit --no-fund; }
say "Starting NATS, Redis and PostgreSQL on 127.0.0.1"
PGDATABASE_NAME=orchestrator bash scripts/infra.sh up --dir "$DIR" >/dev/null
source "$DIR/infra.env"
say "Building";              npm run --silent build
say "Migrating the database"; npm run --silent migration:run >/dev/null
mkdir -p "$DIR/logs"
export WORKFLOWS_DIR="${WORKFLOWS_DIR:-$ROOT/workflows}" PUBLISH_DIR="${PUBLISH_DIR:-$DIR/published}"
node apps/orchestrator/dist/main.js >"$DIR/logs/orchestrator.log" 2>&1 & pids+=($!)
node apps/demo-agents/dist/main.js >"$DIR/logs/demo-agents.log" 2>&1 & pids+=($!)

say "Waiting for the orchestrator on http://127.0.0.1:$PORT"
for i in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null || [[ $i -eq 120 ]]; then
    echo "the orchestrator did not become ready; its log:" >&2; tail -n 40 "$DIR/logs/orchestrator.log" >&2; exit 1
  fi
  sleep 0.5
done
for i in $(seq 1 40); do
  [[ "$(curl -fsS "http://127.0.0.1:$PORT/agents" | grep -o '"name"' | wc -l)" -ge 5 ]] && break; sleep 0.25
done

say "Submitting create_blog_post over NATS"
RESPONSE_FILE="$DIR/last-response.json" node scripts/submit-example.mjs "$TOPIC"

say "Submitting research_report: no workflow file, so llm_agent plans it at run time"
node scripts/submit-example.mjs --research "$TOPIC"

say "Where to look"
cat <<INFO
  GET http://127.0.0.1:$PORT/tasks            every task, newest first
  GET http://127.0.0.1:$PORT/tasks/<task_id>  one workflow with each step
  GET http://127.0.0.1:$PORT/agents           live agents and their load
  GET http://127.0.0.1:$PORT/health/ready     PostgreSQL, NATS and Redis
  Logs: $DIR/logs/    Published posts: $PUBLISH_DIR
  Submit another: NATS_URL=$NATS_URL node scripts/submit-example.mjs "another topic"
INFO
[[ "${DEMO_EXIT:-0}" == "1" ]] && exit 0
say "Running; press Ctrl-C to stop"
wait "${pids[0]}"
