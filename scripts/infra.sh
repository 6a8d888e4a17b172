#!/usr/bin/env bash
# Local NATS (JetStream), Redis and PostgreSQL on 127.0.0.1, for the demo and the tests.
#   scripts/infra.sh up|down|env|stop SERVICE|start SERVICE [--dir DIR]      SERVICE: nats|redis|postgres
# DIR (default .data/dev under the repository) holds data, logs/, run/ (pid files) and infra.env,
# the URLs to source. Ports: NATS_PORT, REDIS_PORT, PG_PORT (defaults 14222, 16379, 15432, or any
# free port when taken); `start` reuses the recorded ones. PGDATABASE_NAME (default orchestrator)
# names the database; PG_FSYNC=off trades durability for speed (tests); PG_OPTIONS adds server
# settings (`-c name=value ...`) to a PostgreSQL this run starts.
# Missing servers are installed from Debian packages when running as root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Debian puts nats-server in /usr/sbin, which is not on a regular user's PATH.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
usage() { echo "usage: $0 up|down|env|stop SERVICE|start SERVICE [--dir DIR]   (SERVICE: nats|redis|postgres)" >&2; exit 2; }
cmd="${1:-}"; [[ $# -gt 0 ]] && shift
service=""
if [[ "$cmd" == "stop" || "$cmd" == "start" ]]; then service="${1:-}"; [[ $# -gt 0 ]] && shift; fi
DIR="$ROOT/.data/dev"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) [[ $# -ge 2 ]] || usage; DIR="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
case "$cmd" in up|down|env|stop|start) ;; *) usage ;; esac
[[ "$DIR" = /* ]] || DIR="$PWD/$DIR"
ENV_FILE="$DIR/infra.env"
RUN="$DIR/run"

# What the caller asked for, before infra.env (the last run's choices) is read.
CALLER_NATS_PORT="${NATS_PORT:-}"; CALLER_REDIS_PORT="${REDIS_PORT:-}"; CALLER_PG_PORT="${PG_PORT:-}"
CALLER_DB_NAME="${PGDATABASE_NAME:-}"; CALLER_FSYNC="${PG_FSYNC:-}"

log() { printf '[infra] %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }
as_pg() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_bindir() {
  local d
  # PostgreSQL 15 first (what CI and the compose stack run), else the newest installed.
  for d in /usr/lib/postgresql/15/bin $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
    [[ -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
  done
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir)"; [[ -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
  fi
  return 1
}

ensure_installed() {
  local missing=()
  command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  pg_bindir >/dev/null || missing+=(postgresql)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  is_root || fail "missing Debian package(s): ${missing[*]}; install them (sudo apt-get install -y ${missing[*]}) or run this as root"
  log "installing ${missing[*]} (apt-get)"
  apt-get update -qq >/dev/null
  # The postgresql package may start a cluster of its own on 5432; ours runs apart from it.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ! command -v nats-server >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1 || ! pg_bindir >/dev/null; then
    fail "installing ${missing[*]} did not provide nats-server, redis-server and PostgreSQL's pg_ctl"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
pick_port() { # the preferred port when free, else any free one
  if port_open "$1"; then
    local p; p="$(free_port)"; log "port $1 is taken; $2 uses $p"; echo "$p"
  else
    echo "$1"
  fi
}
# $1 = what start asks for, $2 = what up asks for, $3 = default
want_port() { if [[ "$cmd" == start ]]; then echo "${1:-${2:-$3}}"; else echo "${2:-${1:-$3}}"; fi; }

# A pid file counts only while its process is alive and is the server it names (pids get reused).
alive() {
  local pidfile="$1" comm="$2" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"; [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ ! -r "/proc/$pid/comm" ]] || [[ "$(cat "/proc/$pid/comm")" == "$comm"* ]]
}

wait_port() {
  local port="$1" name="$2" pid="${3:-}"
  for _ in $(seq 1 150); do
    port_open "$port" && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  tail -n 20 "$DIR/logs/$name.log" >&2 2>/dev/null || true
  fail "$name did not open port $port; its log: $DIR/logs/$name.log"
}

load_state() {
  if [[ -f "$ENV_FILE" ]]; then
    # shellcheck disable=SC1090
    source "$ENV_FILE"
  fi
  DB_NAME="${CALLER_DB_NAME:-${PGDATABASE_NAME:-orchestrator}}"
  [[ "$DB_NAME" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || fail "PGDATABASE_NAME must be a plain identifier, got '$DB_NAME'"
  FSYNC="${CALLER_FSYNC:-${PG_FSYNC:-on}}"; [[ "$FSYNC" == off ]] || FSYNC=on
  RECORDED_NATS_PORT="${NATS_PORT:-}"; RECORDED_REDIS_PORT="${REDIS_PORT:-}"; RECORDED_PG_PORT="${PG_PORT:-}"
  NATS_PORT="$(want_port "$RECORDED_NATS_PORT" "$CALLER_NATS_PORT" 14222)"
  REDIS_PORT="$(want_port "$RECORDED_REDIS_PORT" "$CALLER_REDIS_PORT" 16379)"
  PG_PORT="$(want_port "$RECORDED_PG_PORT" "$CALLER_PG_PORT" 15432)"
}

start_nats() {
  local pidfile="$RUN/nats.pid"
  if alive "$pidfile" nats-server; then NATS_PORT="${RECORDED_NATS_PORT:-$NATS_PORT}"; return 0; fi
  NATS_PORT="$(pick_port "$NATS_PORT" nats)"
  mkdir -p "$DIR/nats"
  nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$DIR/nats" >>"$DIR/logs/nats.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  wait_port "$NATS_PORT" nats $!
  log "nats-server on 127.0.0.1:$NATS_PORT (JetStream in $DIR/nats)"
}

start_redis() {
  local pidfile="$RUN/redis.pid"
  if alive "$pidfile" redis-server; then REDIS_PORT="${RECORDED_REDIS_PORT:-$REDIS_PORT}"; return 0; fi
  REDIS_PORT="$(pick_port "$REDIS_PORT" redis)"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize no \
    --dir "$DIR" >>"$DIR/logs/redis.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  wait_port "$REDIS_PORT" redis $!
  log "redis-server on 127.0.0.1:$REDIS_PORT"
}

# PostgreSQL's files: under DIR, unless (as root) the postgres user cannot reach DIR, e.g. a clone
# under /root; then under /var/tmp. The choice is kept in run/postgres.home.
pg_home() {
  local home="$DIR/postgres"
  if [[ -f "$RUN/postgres.home" ]]; then cat "$RUN/postgres.home"; return 0; fi
  mkdir -p "$home"
  if is_root; then
    chown postgres:postgres "$home"
    if ! runuser -u postgres -- test -w "$home"; then
      home="/var/tmp/orchestrator-infra-$(printf '%s' "$DIR" | cksum | cut -d' ' -f1)/postgres"
      log "the postgres user cannot reach $DIR; PostgreSQL's files go to $home"
      mkdir -p "$home"; chmod 755 "$(dirname "$home")"; chown postgres:postgres "$home"
    fi
  fi
  echo "$home" >"$RUN/postgres.home"
  echo "$home"
}

start_postgres() {
  local bin home data sock pglog pidfile="$RUN/postgres.pid"
  bin="$(pg_bindir)" || fail "PostgreSQL is not installed (Debian package: postgresql)"
  home="$(pg_home)"; data="$home/data"; pglog="$home/postgres.log"
  if alive "$pidfile" postgres; then
    PG_PORT="${RECORDED_PG_PORT:-$PG_PORT}"
  elif [[ -f "$data/postmaster.pid" ]] && as_pg "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1; then
    # Running without our pid file (it was removed): adopt it, on the port it listens on.
    head -n1 "$data/postmaster.pid" >"$pidfile"; PG_PORT="$(sed -n 4p "$data/postmaster.pid")"
  else
    PG_PORT="$(pick_port "$PG_PORT" postgres)"
    # Unix socket paths are limited to ~107 bytes; connections use TCP, the socket only has to exist.
    sock="$home/sock"; [[ ${#sock} -le 80 ]] || sock="/tmp/orchestrator-pg-$(printf '%s' "$home" | cksum | cut -d' ' -f1)"
    mkdir -p "$sock"
    if is_root; then chown -R postgres:postgres "$home" "$sock"; fi
    if [[ ! -f "$data/PG_VERSION" ]]; then
      as_pg "$bin/initdb" --no-sync -A trust -U postgres -E UTF8 -D "$data" >"$DIR/logs/initdb.log" 2>&1 \
        || fail "initdb failed; see $DIR/logs/initdb.log"
    fi
    ln -sfn "$pglog" "$DIR/logs/postgres.log"
    if ! as_pg "$bin/pg_ctl" -w -t 60 -D "$data" -l "$pglog" \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $sock -c fsync=$FSYNC -c max_connections=200 ${PG_OPTIONS:-}" start >/dev/null; then
      tail -n 20 "$pglog" >&2 || true
      fail "PostgreSQL did not start; its log: $pglog"
    fi
    head -n1 "$data/postmaster.pid" >"$pidfile"
  fi
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB_NAME"
  fi
  log "postgres on 127.0.0.1:$PG_PORT (database $DB_NAME, fsync $FSYNC)"
}

stop_pid() {
  local name="$1" comm="$2" pidfile="$RUN/$1.pid" p
  if ! alive "$pidfile" "$comm"; then rm -f "$pidfile"; return 0; fi
  p="$(cat "$pidfile")"
  kill "$p" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then log "$name ignored SIGTERM for 10 s; killing it"; kill -9 "$p" 2>/dev/null || true; fi
  rm -f "$pidfile"
  log "stopped $name"
}

stop_postgres() {
  local bin home
  if alive "$RUN/postgres.pid" postgres && bin="$(pg_bindir)"; then
    home="$(pg_home)"
    as_pg "$bin/pg_ctl" -w -t 30 -D "$home/data" -m fast stop >/dev/null 2>&1 || true
  fi
  stop_pid postgres postgres
}

write_env() {
  cat >"$ENV_FILE" <<ENV
export NATS_PORT=$NATS_PORT
export REDIS_PORT=$REDIS_PORT
export PG_PORT=$PG_PORT
export NATS_URL=nats://127.0.0.1:$NATS_PORT
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/$DB_NAME
export PGDATABASE_NAME=$DB_NAME
export PG_FSYNC=$FSYNC
export INFRA_DIR=$DIR
export NATS_PID_FILE=$RUN/nats.pid
export REDIS_PID_FILE=$RUN/redis.pid
export PG_PID_FILE=$RUN/postgres.pid
ENV
}

mkdir -p "$DIR/logs" "$RUN"
case "$cmd" in
  up)
    ensure_installed
    load_state
    start_nats; start_redis; start_postgres
    write_env
    cat "$ENV_FILE"
    ;;
  down)
    stop_pid nats nats-server; stop_pid redis redis-server; stop_postgres
    ;;
  env)
    [[ -f "$ENV_FILE" ]] || fail "no $ENV_FILE yet: run '$0 up --dir $DIR' first"
    cat "$ENV_FILE"
    ;;
  stop|start)
    load_state
    case "$cmd $service" in
      "stop nats") stop_pid nats nats-server ;;
      "stop redis") stop_pid redis redis-server ;;
      "stop postgres") stop_postgres ;;
      "start nats") start_nats ;;
      "start redis") start_redis ;;
      "start postgres") start_postgres ;;
      *) usage ;;
    esac
    # A service that had to move to another port: record it (the caller must reconnect there).
    if [[ $cmd == start && -f "$ENV_FILE" ]]; then write_env; fi
    ;;
esac
