#!/usr/bin/env bash
# Local NATS (JetStream), Redis and PostgreSQL on 127.0.0.1, for the demo and the tests.
#   scripts/infra.sh up|down|env|stop SERVICE|start SERVICE [--dir DIR]
# DIR (default .data/dev) holds data, logs, pid files and infra.env (the URLs to source).
# Missing servers are installed from Debian packages when running as root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd="${1:-}"; shift || true
service=""
if [[ "$cmd" == "stop" || "$cmd" == "start" ]]; then service="${1:-}"; shift || true; fi
DIR="$ROOT/.data/dev"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[[ "$DIR" = /* ]] || DIR="$ROOT/$DIR"
CALLER_DB_NAME="${PGDATABASE_NAME:-}"
mkdir -p "$DIR/logs" "$DIR/run"
ENV_FILE="$DIR/infra.env"

log() { printf '[infra] %s\n' "$*" >&2; }

pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }; done
  command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/pg_ctl" ]] && { pg_config --bindir; return 0; }
  return 1
}

apt_updated=0
install_packages() {
  if [[ $(id -u) -ne 0 ]]; then
    log "missing: $* — install them (apt-get install -y $*) or run this as root"; exit 1
  fi
  if [[ $apt_updated -eq 0 ]]; then log "apt-get update"; apt-get update -qq >/dev/null; apt_updated=1; fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_installed() {
  local missing=()
  command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  pg_bindir >/dev/null || missing+=(postgresql)
  [[ ${#missing[@]} -eq 0 ]] || install_packages "${missing[@]}"
  # The Debian postgresql package starts a cluster of its own on 5432; it is not ours to keep.
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
pick_port() { # the preferred port (the one recorded, or a default) when free, else any free one
  local want="$1"
  if port_free "$want"; then echo "$want"; else free_port; fi
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_port() {
  local port="$1" name="$2" i
  for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done
  log "$name did not open port $port; see $DIR/logs/$name.log"; exit 1
}

as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

load_ports() {
  if [[ -f "$ENV_FILE" ]]; then source "$ENV_FILE"; fi
  DB_NAME="${CALLER_DB_NAME:-${PGDATABASE_NAME:-orchestrator}}"
}

start_nats() {
  local pid="$DIR/run/nats.pid"
  if alive "$pid"; then return 0; fi
  NATS_PORT="$(pick_port "${NATS_PORT:-14222}")"
  mkdir -p "$DIR/nats"
  nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$DIR/nats" >"$DIR/logs/nats.log" 2>&1 &
  echo $! >"$pid"
  wait_port "$NATS_PORT" nats
  log "nats-server on 127.0.0.1:$NATS_PORT (JetStream)"
}

start_redis() {
  local pid="$DIR/run/redis.pid"
  if alive "$pid"; then return 0; fi
  REDIS_PORT="$(pick_port "${REDIS_PORT:-16379}")"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize no \
    >"$DIR/logs/redis.log" 2>&1 &
  echo $! >"$pid"
  wait_port "$REDIS_PORT" redis
  log "redis-server on 127.0.0.1:$REDIS_PORT"
}

start_postgres() {
  local bin data sock pidfile="$DIR/run/postgres.pid"
  if alive "$pidfile"; then return 0; fi
  bin="$(pg_bindir)"
  data="$DIR/postgres/data"; sock="$DIR/postgres/sock"
  PG_PORT="$(pick_port "${PG_PORT:-15432}")"
  mkdir -p "$DIR/postgres" "$sock"
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres:postgres "$DIR/postgres"; chown postgres "$DIR/logs"; fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    as_pg "$bin/initdb" --no-sync -A trust -U postgres -D "$data" >"$DIR/logs/initdb.log" 2>&1
  fi
  local fsync="on"; [[ "${PG_FSYNC:-on}" == "off" ]] && fsync="off"
  as_pg "$bin/pg_ctl" -w -D "$data" -l "$DIR/logs/postgres.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $sock -c fsync=$fsync -c max_connections=200" start >/dev/null
  head -n1 "$data/postmaster.pid" >"$pidfile"
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB_NAME"
  fi
  log "postgres on 127.0.0.1:$PG_PORT (database $DB_NAME)"
}

stop_pid() {
  local name="$1" pid="$DIR/run/$1.pid" p i
  alive "$pid" || { rm -f "$pid"; return 0; }
  p="$(cat "$pid")"
  kill "$p" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  rm -f "$pid"
  log "stopped $name"
}

stop_postgres() {
  local bin data="$DIR/postgres/data"
  if alive "$DIR/run/postgres.pid"; then
    bin="$(pg_bindir)"
    as_pg "$bin/pg_ctl" -w -D "$data" -m fast stop >/dev/null 2>&1 || true
  fi
  stop_pid postgres
}

write_env() {
  cat >"$ENV_FILE" <<ENV
export NATS_PORT=$NATS_PORT
export REDIS_PORT=$REDIS_PORT
export PG_PORT=$PG_PORT
export NATS_URL=nats://127.0.0.1:$NATS_PORT
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/$DB_NAME
export INFRA_DIR=$DIR
export PGDATABASE_NAME=$DB_NAME
ENV
}

case "$cmd" in
  up)
    ensure_installed
    load_ports
    start_nats; start_redis; start_postgres
    write_env
    cat "$ENV_FILE"
    ;;
  down)
    stop_pid nats; stop_pid redis; stop_postgres
    ;;
  env)
    cat "$ENV_FILE"
    ;;
  stop|start)
    load_ports
    case "$service" in
      nats) [[ $cmd == stop ]] && stop_pid nats || start_nats ;;
      redis) [[ $cmd == stop ]] && stop_pid redis || start_redis ;;
      postgres) [[ $cmd == stop ]] && stop_postgres || start_postgres ;;
      *) echo "usage: $0 $cmd nats|redis|postgres [--dir DIR]" >&2; exit 2 ;;
    esac
    ;;
  *)
    echo "usage: $0 up|down|env|stop SERVICE|start SERVICE [--dir DIR]" >&2; exit 2 ;;
esac
