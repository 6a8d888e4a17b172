#!/usr/bin/env bash
# Stops what `npm run demo` started, from any terminal: the demo script (which then stops the rest
# itself), or, when it was killed outright, the apps it started and its servers.
#   npm run demo:stop
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.data/demo"
RUN="$DIR/run"

# A pid from a pid file counts only while it is alive and runs what it names (pids get reused).
runs() { [[ -n "$1" ]] && { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF "$2"; }
gone_within() { # pid, seconds
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

demo="$(cat "$RUN/demo.pid" 2>/dev/null || true)"
if runs "$demo" scripts/demo.sh; then
  echo "stopping the demo (pid $demo)"
  kill -TERM "$demo"
  gone_within "$demo" 60 || { echo "the demo did not stop within 60 s: killing it" >&2; kill -KILL "$demo" 2>/dev/null || true; }
fi
# What a demo killed outright (SIGKILL) left behind.
while read -r pid; do
  if runs "$pid" /dist/main.js; then
    echo "stopping pid $pid, left by the demo"
    kill -TERM "$pid"
    gone_within "$pid" 30 || kill -KILL "$pid" 2>/dev/null || true
  fi
done < <(cat "$RUN/demo-apps.pids" 2>/dev/null || true)
bash "$ROOT/scripts/infra.sh" down --dir "$DIR"
rm -f "$RUN/demo.pid" "$RUN/demo-apps.pids"
