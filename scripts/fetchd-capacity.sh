#!/usr/bin/env bash
# fetchd-capacity.sh — `make fetchd-capacity`: bin/fetchd's capacity under wrk,
# the figures in docs/fetchd.md (about 35 s).
#
# Starts fetchd on a free port, runs each wrk command for 5 s, stops fetchd by
# its PID. Nothing is pinned; see docs/fetchd.md for the pinned variant.
# BIN picks the programs' folder.
set -u
cd "$(dirname "$0")/.." || exit 1
case "${1:-}" in
  -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "fetchd-capacity.sh: takes no arguments (try --help)" >&2; exit 2 ;;
esac
source scripts/lib.sh
[ -x "$BIN/fetchd" ] || { echo "fetchd-capacity.sh: $BIN/fetchd is not built: run make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "fetchd-capacity.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }
start_server fetchd "$BIN/fetchd" --port 0 || exit 1
fpid=$SPID
lib_on_exit 'stop_server "$fpid"'
u=http://127.0.0.1:$SPORT
w() { echo "### wrk $*"; wrk "$@" | grep -E "Latency|requests in|Requests/sec|Transfer/sec|errors|Non-2xx"; }
echo "machine: $(nproc) cores, $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2), kernel $(uname -r)"
w -t1 -c100 -d5s "$u/bytes/64"
w -t1 -c100 -d5s -H "Connection: close" "$u/bytes/64"
w -t1 -c10 -d5s "$u/bytes/1048576"
w -t1 -c100 -d5s "$u/bytes/65536?chunked=1"
w -t1 -c1000 -d5s "$u/bytes/64?delay_ms=50"
w -t2 -c10000 -d5s --timeout 10s "$u/bytes/64?delay_ms=1000"
echo "fetchd peak RSS: $(sed -n "s/^VmHWM:\s*//p" "/proc/$fpid/status")"
