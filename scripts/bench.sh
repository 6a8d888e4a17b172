#!/usr/bin/env bash
# The benchmark: its own NATS, Redis and PostgreSQL (durable settings: fsync on), a second Redis
# with an append-only file fsynced every second, the orchestrator, and in processes of their own
# no-op agents (plain and on each SDK), BullMQ workers on both Redis servers, pg-boss and
# graphile-worker workers on the PostgreSQL. Writes bench/RESULTS.md.
# BENCH_ONLY=compare|sdk|inflight runs one part of it (RESULTS.md is left as it is), and
# BENCH_ONLY=backpressure the backpressure benchmark alone; BENCH_SMOKE=1 a few seconds of each.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="$ROOT/.data/bench"
AOF_DIR="$DIR/redis-aof"
AOF_PID_FILE="$DIR/run/redis-aof.pid"
[[ -d node_modules ]] || npm ci --no-audit --no-fund

stop_aof_redis() {
  [[ -f "$AOF_PID_FILE" ]] || return 0
  local pid; pid="$(cat "$AOF_PID_FILE")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$AOF_PID_FILE"
}
trap 'stop_aof_redis; bash scripts/infra.sh down --dir "$DIR" >/dev/null 2>&1 || true' EXIT
PGDATABASE_NAME=orchestrator_bench bash scripts/infra.sh up --dir "$DIR" >/dev/null
source "$DIR/infra.env"

# The durable Redis: its append-only file is the only persistence (no RDB snapshots), fsynced
# every second, a fresh one each run.
rm -rf "$AOF_DIR"; mkdir -p "$AOF_DIR"
REDIS_AOF_PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
redis-server --bind 127.0.0.1 --port "$REDIS_AOF_PORT" --appendonly yes --appendfsync everysec --save '' \
  --daemonize no --dir "$AOF_DIR" >"$DIR/logs/redis-aof.log" 2>&1 </dev/null &
echo $! >"$AOF_PID_FILE"
for i in $(seq 1 150); do
  redis-cli -h 127.0.0.1 -p "$REDIS_AOF_PORT" ping >/dev/null 2>&1 && break
  if [[ $i -eq 150 ]] || ! kill -0 "$(cat "$AOF_PID_FILE")" 2>/dev/null; then
    tail -n 20 "$DIR/logs/redis-aof.log" >&2
    echo "the durable Redis did not start; its log: $DIR/logs/redis-aof.log" >&2
    exit 1
  fi
  sleep 0.1
done
export REDIS_AOF_URL="redis://127.0.0.1:$REDIS_AOF_PORT"

# The Python agents run in the Python SDK's virtual environment.
export PYTHON_SDK_VENV="${PYTHON_SDK_VENV:-$(bash scripts/python-sdk-venv.sh)}"
npm run --silent build
npm run --silent migration:run >/dev/null
# BENCH_ONLY=backpressure runs only the backpressure benchmark; any other BENCH_ONLY skips it.
if [[ "${BENCH_ONLY:-}" != backpressure ]]; then node bench/dist/bench.js; fi
if [[ -z "${BENCH_ONLY:-}" || "${BENCH_ONLY:-}" == backpressure ]]; then node bench/dist/backpressure.js; fi
