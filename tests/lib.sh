# tests/lib.sh — sourced by tests/t_*.sh. Each check prints "PASS name" or
# "FAIL name: why"; tests/run.sh counts them. Servers are started on port 0
# and stopped by the PID we started, never by name.
set -u
BIN=${BIN:-bin}
TBIN=${TBIN:-build/tests}
MODELS=${MODELS:-fork threads loop}
TMP=$(mktemp -d)
_pids=()
cleanup() {
  for p in "${_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-}"; }
# check NAME COMMAND... — pass if the command succeeds
check() { local n=$1; shift; if "$@" >"$TMP/check.out" 2>&1; then pass "$n"; else fail "$n" "$(tail -n 3 "$TMP/check.out" | tr '\n' ' ')"; fi; }

# start_server NAME COMMAND... — start a server, wait up to 5 s for its ready
# line "listening on ADDR:PORT"; sets SPID and SPORT. Returns 1 if it never came.
start_server() {
  local name=$1; shift
  local out="$TMP/$name.out"
  "$@" >"$out" 2>"$TMP/$name.err" &
  SPID=$!; _pids+=("$SPID")
  for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$out" 2>/dev/null; then
      SPORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out" | head -n 1)
      return 0
    fi
    kill -0 "$SPID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# stop_server PID [SIGNAL] — signal it, wait up to 5 s; sets SRC to its exit status
# (124 if it had to be killed).
stop_server() {
  local pid=$1 sig=${2:-TERM}
  kill -"$sig" "$pid" 2>/dev/null
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; SRC=124; return; fi
  wait "$pid" 2>/dev/null; SRC=$?
}

# children_of PID — the PIDs whose parent is PID (zombies included)
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }
