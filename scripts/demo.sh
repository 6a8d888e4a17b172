#!/usr/bin/env bash
# The main job: local servers, the orchestrator and the five demo agents, then one
# create_blog_post workflow end to end. Ctrl-C, a kill of this script or of the npm that runs it,
# or `npm run demo:stop` from anywhere stops everything it started.
#   npm run demo [-- "a topic"]        DEMO_EXIT=1 npm run demo   (exit after the result)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="$ROOT/.data/demo"
export PORT="${PORT:-3000}"
TOPIC="${1:-How orchestration works}"
BASE="http://127.0.0.1:$PORT"
pids=()
RUN="$DIR/run"

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
# GET a URL of the orchestrator (with API_KEY when set); prints the body, fails unless 2xx.
http_get() {
  node -e 'const h = process.env.API_KEY ? { "x-api-key": process.env.API_KEY } : {};
    fetch(process.argv[1], { headers: h, signal: AbortSignal.timeout(2000) })
      .then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, () => process.exit(1));' "$1"
}
live_agents() { http_get "$BASE/agents" 2>/dev/null | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).items.length)}catch{console.log(0)}})'; }
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  say "Stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash scripts/infra.sh down --dir "$DIR" || true
  rm -f "$RUN/demo.pid" "$RUN/demo-apps.pids"
  exit "$status"
}
# Starts a built app in the background, noted for cleanup here and for `npm run demo:stop`.
start_app() {
  local log="$1"; shift
  "$@" >"$DIR/logs/$log" 2>&1 & pids+=($!)
  echo "$!" >>"$RUN/demo-apps.pids"
}
# The npm that runs this script, if one does: when it is killed, this script is not (it goes on
# under init), so it watches it and stops with it.
launcher() {
  [[ -n "${npm_lifecycle_event:-}" ]] || return 0
  local pid=$PPID
  for _ in 1 2 3 4; do
    [[ "$pid" -gt 1 ]] || return 0
    if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q 'npm'; then echo "$pid"; return 0; fi
    pid="$(ps -o ppid= -p "$pid" | tr -d ' ')"
  done
}
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "port $PORT is already in use (another demo still running?); choose another: PORT=3001 npm run demo" >&2; exit 1
fi
# From here on, whatever happens, stop what this script started.
trap 'exit 130' INT
trap 'exit 143' TERM
trap cleanup EXIT
mkdir -p "$RUN"
echo $$ >"$RUN/demo.pid"
: >"$RUN/demo-apps.pids"
LAUNCHER="$(launcher)"

[[ -d node_modules ]] || { say "Installing npm dependencies"; npm ci --no-audit --no-fund; }
say "Starting NATS, Redis and PostgreSQL on 127.0.0.1"
PGDATABASE_NAME=orchestrator bash scripts/infra.sh up --dir "$DIR" >/dev/null
# shellcheck disable=SC1091
source "$DIR/infra.env"
say "Building";              npm run --silent build
say "Migrating the database"; npm run --silent migration:run >/dev/null
mkdir -p "$DIR/logs"
export WORKFLOWS_DIR="${WORKFLOWS_DIR:-$ROOT/workflows}" PUBLISH_DIR="${PUBLISH_DIR:-$DIR/published}"
start_app orchestrator.log node apps/orchestrator/dist/main.js
start_app demo-agents.log node apps/demo-agents/dist/main.js

say "Waiting for the orchestrator on $BASE"
for i in $(seq 1 120); do
  if ! kill -0 "${pids[0]}" 2>/dev/null || [[ $i -eq 120 ]]; then
    echo "the orchestrator did not become ready within 60 s; the end of its log ($DIR/logs/orchestrator.log):" >&2
    tail -n 40 "$DIR/logs/orchestrator.log" >&2; exit 1
  fi
  http_get "$BASE/health/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
# The workflow would wait for the agents anyway; waiting here keeps the first response quick.
for _ in $(seq 1 40); do
  [[ "$(live_agents)" -ge 5 ]] && break
  kill -0 "${pids[1]}" 2>/dev/null || { echo "the demo agents stopped; their log:" >&2; tail -n 40 "$DIR/logs/demo-agents.log" >&2; exit 1; }
  sleep 0.25
done

say "Submitting create_blog_post over NATS"
RESPONSE_FILE="$DIR/last-response.json" node scripts/submit-example.mjs "$TOPIC"

say "Submitting research_report: no workflow file, so llm_agent plans it at run time"
node scripts/submit-example.mjs --research "$TOPIC"

say "Where to look"
cat <<INFO
  Dashboard: $BASE/ui/       tasks live, each workflow drawn, agents and their load
  GET $BASE/tasks            every task, newest first
  GET $BASE/tasks/<task_id>  one workflow with each step
  GET $BASE/agents           live agents and their load
  GET $BASE/health/ready     PostgreSQL, NATS and Redis
  Logs: $DIR/logs/    Published posts: $PUBLISH_DIR
  Submit another: NATS_URL=$NATS_URL node scripts/submit-example.mjs "another topic"
INFO
if [[ "${DEMO_EXIT:-0}" == "1" ]]; then exit 0; fi
say "Running; the dashboard is at $BASE/ui/ — press Ctrl-C (or run npm run demo:stop) to stop"
# A short sleep waited on in the background: a signal is handled at once, not after a foreground command.
while kill -0 "${pids[0]}" 2>/dev/null; do
  if [[ -n "$LAUNCHER" ]] && ! kill -0 "$LAUNCHER" 2>/dev/null; then say "npm ended"; exit 143; fi
  sleep 1 & wait $!
done
echo "the orchestrator stopped; the end of its log ($DIR/logs/orchestrator.log):" >&2
tail -n 20 "$DIR/logs/orchestrator.log" >&2
exit 1
