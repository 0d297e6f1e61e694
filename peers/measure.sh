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
#
#   peers/measure.sh --fetch [FETCHER...]   the fetchers instead: each fetches
#       N copies of URL_PATH from one bin/fetchd at -c C, interleaved the same
#       way; records wall time and CPU (user+system of the fetcher and the
#       children it reaped, from bash's `time`). Default: fetch-loop,
#       fetch-threads, fetch-fork + every built peer.
#       env: REPS (3) N (1000) C (100) URL_PATH (/bytes/1024?delay_ms=50)
set -u
cd "$(dirname "$0")/.." || exit 1
BIN=${BIN:-bin} REPS=${REPS:-3} SECS=${SECS:-3} CONNS=${CONNS:-100} OUT=${OUT:-results/peers}
median() { sort -n | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

if [ "${1:-}" = --fetch ]; then
  shift
  N=${N:-1000} C=${C:-100} URL_PATH=${URL_PATH:-/bytes/1024?delay_ms=50}
  fetchers=("$@")
  if [ ${#fetchers[@]} -eq 0 ]; then
    fetchers=(fetch-loop fetch-threads fetch-fork)
    for p in $(peers/list.sh 2>/dev/null); do [ -x "$BIN/fetch-$p" ] && fetchers+=("fetch-$p"); done
  fi
  for f in "${fetchers[@]}" fetchd; do [ -x "$BIN/$f" ] || { echo "measure.sh: $BIN/$f is not built" >&2; exit 2; }; done
  mkdir -p "$OUT"
  csv=$OUT/fetch.csv tmp=$(mktemp -d)
  "$BIN/fetchd" --port 0 >"$tmp/fd" 2>/dev/null & fpid=$!
  trap 'kill "$fpid" 2>/dev/null; rm -rf "$tmp"' EXIT
  for _ in $(seq 100); do grep -q '^listening on ' "$tmp/fd" && break; sleep 0.05; done
  url="http://$(sed -n 's/^listening on //p' "$tmp/fd")$URL_PATH"
  { echo "# peers/measure.sh --fetch REPS=$REPS N=$N C=$C URL_PATH=$URL_PATH on $(nproc) cores, $(uname -sr), $(date -u +%FT%TZ)"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "rep,fetcher,n,c,fetched,failed,wall_s,cpu_s"; } >"$csv"
  n=${#fetchers[@]}
  for rep in $(seq 1 "$REPS"); do
    for i in $(seq 0 $((n - 1))); do
      f=${fetchers[$(((i + rep - 1) % n))]}
      TIMEFORMAT='%3R %3U %3S'
      { time "$BIN/$f" -c "$C" -n "$N" "$url" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time"
      read -r wall u s <"$tmp/time"
      ok=$(sed -n 's/.*fetched \([0-9]*\), failed \([0-9]*\),.*/\1,\2/p' "$tmp/out" | head -n 1)
      echo "$rep,$f,$N,$C,${ok:-0,$N},$wall,$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')" | tee -a "$csv"
    done
  done
  echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$csv"
  col() { grep -v '^#' "$csv" | awk -F, -v f="$1" -v k="$2" '$2 == f { print $k }'; }
  loop=$(col fetch-loop 7 | median)
  echo
  echo "fetcher,median_wall_s,median_cpu_s,failed_total,wall_vs_fetch_loop"
  for f in "${fetchers[@]}"; do
    w=$(col "$f" 7 | median)
    echo "$f,$w,$(col "$f" 8 | median),$(col "$f" 6 | awk '{ t += $1 } END { print t + 0 }'),$(awk -v w="$w" -v l="${loop:-0}" 'BEGIN { if (l > 0) printf "%.2f", w / l }')"
  done
  exit 0
fi
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
col() { grep -v '^#' "$csv" | awk -F, -v s="$1" -v k="$2" '$2 == s { print $k }'; }
loop=$(col echo-loop 4 | median)
echo
echo "server,median_msgs_per_s,median_p99_us,median_cpu_us_per_msg,vs_echo_loop"
for s in "${servers[@]}"; do
  t=$(col "$s" 4 | median)
  echo "$s,$t,$(col "$s" 5 | median),$(col "$s" 7 | median),$(awk -v t="$t" -v l="${loop:-0}" 'BEGIN { if (l > 0) printf "%.2f", t / l }')"
done
