#!/usr/bin/env bash
# peers/measure.sh — a short echo comparison of the peers beside the C loop
# model and the minimal epoll server, for docs/peers.md until the benchmark
# runners take the peers (`make bench PEERS=1`). One run, interleaved: each
# repetition starts every server once, in an order rotated by one each time,
# drives it with bin/loadgen (CONNS connections, 64-byte messages, closed
# loop, SECS seconds) and records throughput, p99 and the server's CPU per
# message (user+system ticks of the server and its children, reaped or not,
# from /proc, from the ready line to one second after the load). Nothing is pinned.
#
#   peers/measure.sh [SERVER...]    default: echo-epoll echo-loop + every built peer
#   env: REPS (3) SECS (3) CONNS (100) BIN (bin) OUT (results/peers)
set -u
cd "$(dirname "$0")/.." || exit 1
BIN=${BIN:-bin} REPS=${REPS:-3} SECS=${SECS:-3} CONNS=${CONNS:-100} OUT=${OUT:-results/peers}
servers=("$@")
if [ ${#servers[@]} -eq 0 ]; then
  servers=(echo-epoll echo-loop)
  for p in $(peers/list.sh 2>/dev/null); do [ -x "$BIN/echo-$p" ] && servers+=("echo-$p"); done
fi
for s in "${servers[@]}"; do [ -x "$BIN/$s" ] || { echo "measure.sh: $BIN/$s is not built" >&2; exit 2; }; done
mkdir -p "$OUT"
csv=$OUT/echo.csv tmp=$(mktemp -d) spid=""
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"' EXIT
hz=$(getconf CLK_TCK)

# ticks PID — user+system ticks of PID, its reaped children and its live children
ticks() {
  local t=0 p
  for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
    t=$((t + $(awk '{print $14+$15+$16+$17}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

{ echo "# peers/measure.sh REPS=$REPS SECS=$SECS CONNS=$CONNS on $(nproc) cores, $(uname -sr), $(date -u +%FT%TZ)"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rep,server,conns,msgs_per_s,p99_us,errors,cpu_us_per_msg"; } >"$csv"
n=${#servers[@]}
for rep in $(seq 1 "$REPS"); do
  for i in $(seq 0 $((n - 1))); do
    s=${servers[$(((i + rep - 1) % n))]}
    "$BIN/$s" --port 0 >"$tmp/out" 2>"$tmp/err" & spid=$!
    port=""
    for _ in $(seq 100); do
      port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/out"); [ -n "$port" ] && break; sleep 0.05
    done
    [ -n "$port" ] || { echo "measure.sh: $s printed no ready line: $(cat "$tmp/err")" >&2; exit 1; }
    t0=$(ticks "$spid")
    "$BIN/loadgen" --port "$port" -c "$CONNS" --secs "$SECS" --csv >"$tmp/lg" 2>"$tmp/lg.err"
    sleep 1 # let a forking server reap its children: their CPU moves into its own (cutime)
    t1=$(ticks "$spid")
    kill -TERM "$spid"; wait "$spid" 2>/dev/null; spid=""
    awk -F, -v rep="$rep" -v s="$s" -v c="$CONNS" -v dt=$((t1 - t0)) -v hz="$hz" 'NR == 2 {
      printf "%s,%s,%s,%.0f,%.0f,%s,%.2f\n", rep, s, c, $5, $8, $11, ($4 > 0 ? dt / hz * 1e6 / $4 : 0) }' "$tmp/lg" >>"$csv"
    tail -n 1 "$csv"
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$csv"

# Medians per server, and the ratio to echo-loop's median throughput.
median() { sort -n | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { grep -v '^#' "$csv" | awk -F, -v s="$1" -v k="$2" '$2 == s { print $k }'; }
loop=$(col echo-loop 4 | median)
echo
echo "server,median_msgs_per_s,median_p99_us,median_cpu_us_per_msg,vs_echo_loop"
for s in "${servers[@]}"; do
  t=$(col "$s" 4 | median)
  echo "$s,$t,$(col "$s" 5 | median),$(col "$s" 7 | median),$(awk -v t="$t" -v l="${loop:-0}" 'BEGIN { if (l > 0) printf "%.2f", t / l }')"
done
