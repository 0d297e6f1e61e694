#!/usr/bin/env bash
# models/uring/bench.sh — the uring model's figures against the epoll server:
# system calls per message and server CPU per message, at CONNS connections
# of BYTES-byte messages, driven by bin/client-epoll (the minimal closed-loop
# client: what it costs is not the subject). Servers, interleaved (the order
# rotates every repetition), REPS times, medians quoted:
#
#   echo-epoll    the hand-written level-triggered epoll server (the baseline)
#   echo-loop     the loop model: coroutines over epoll
#   echo-uring    the uring model: the same coroutines over io_uring
#   uring-plain   echo-uring with C10K_URING_PLAIN=1: a ring without
#                 IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
#
# Each repetition makes two runs per server, never one for both figures:
#   timed  CPU = utime + stime of the server (/proc/PID/stat, before and
#          after), divided by the messages client-epoll completed;
#   count  system calls the server entered (perf stat -e raw_syscalls:sys_enter
#          -p PID: a counter, not a tracer), divided by the messages.
# Then one `strace -c -f` per server (STRACE=0: none) for the breakdown by
# call: strace stops the server on every call, so it is only for the names.
#
# Environment: REPS (5), SECS (3), CONNS (100), BYTES (64), BIN (bin),
# OUT (results/uring: uring.csv, summary.txt, strace-NAME.txt, meta.txt).
# Run it under the shared lock: flock /work/wt/bench.lock models/uring/bench.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
case "${1:-}" in
  -h|--help) sed -n '2,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench.sh: unexpected argument '$1' (settings come from the environment; try --help)" >&2; exit 2 ;;
esac
source scripts/lib.sh
REPS=${REPS:-5} SECS=${SECS:-3} CONNS=${CONNS:-100} BYTES=${BYTES:-64} STRACE=${STRACE:-1}
BIN=${BIN:-bin} OUT=${OUT:-results/uring}
for p in echo-epoll echo-loop echo-uring client-epoll; do
  [ -x "$BIN/$p" ] || { echo "bench.sh: $BIN/$p is not built (make)" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "bench.sh: perf is needed to count system calls (Debian: linux-perf)" >&2; exit 1; }
mkdir -p "$OUT"
CSV=$OUT/uring.csv
tck=$(getconf CLK_TCK)
spid=""
lib_on_exit '[ -z "$spid" ] || stop_server "$spid"'
scripts/meta.sh "$OUT/meta.txt" --set workload=echo --set conns="$CONNS" --set msg_bytes="$BYTES" \
  --set secs="$SECS" --set reps="$REPS" --command "models/uring/bench.sh" >/dev/null

# start NAME — start the server called NAME on a free port: spid, sport
start() {
  case "$1" in
    uring-plain) start_server "$1" env C10K_URING_PLAIN=1 "$BIN/echo-uring" --port 0 ;;
    *) start_server "$1" "$BIN/$1" --port 0 ;;
  esac || return 1
  spid=$SPID sport=$SPORT
}
stop() { stop_server "$spid"; spid=""; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$1"; }
client() { "$BIN/client-epoll" --port "$sport" -c "$CONNS" --msg-bytes "$BYTES" --secs "$SECS" >"$TMP/c.out" 2>"$TMP/c.err"; }

echo "rep,server,run,conns,msg_bytes,secs,msgs,msgs_per_s,cpu_s,cpu_us_per_msg,syscalls,syscalls_per_msg" >"$CSV"

# timed REP NAME — one run for the server's CPU per message
timed() {
  start "$2" || return 0
  local t0 t1 msgs
  t0=$(ticks "$spid"); client; t1=$(ticks "$spid")
  stop
  msgs=$(field "$TMP/c.out" msgs)
  [ -n "$msgs" ] && [ "$msgs" -gt 0 ] || { echo "bench.sh: client-epoll against $2 failed: $(cat "$TMP/c.err")" >&2; return 0; }
  awk -v r="$1" -v s="$2" -v c="$CONNS" -v b="$BYTES" -v sec="$SECS" -v m="$msgs" -v rate="$(field "$TMP/c.out" msgs_per_s)" \
      -v t="$((t1 - t0))" -v hz="$tck" \
    'BEGIN { cpu = t / hz; printf "%s,%s,timed,%s,%s,%s,%s,%s,%.2f,%.3f,,\n", r, s, c, b, sec, m, rate, cpu, cpu * 1e6 / m }' >>"$CSV"
}

# count REP NAME — one run for the server's system calls per message
count() {
  start "$2" || return 0
  perf stat -x, -e raw_syscalls:sys_enter -p "$spid" -o "$TMP/perf.txt" &
  local ppid=$! n msgs
  sleep 0.2 # perf attached before the load starts
  client
  kill -INT "$ppid"; wait "$ppid" 2>/dev/null
  stop
  msgs=$(field "$TMP/c.out" msgs)
  n=$(awk -F, '/raw_syscalls:sys_enter/ { print $1 }' "$TMP/perf.txt")
  [ -n "$msgs" ] && [ "$msgs" -gt 0 ] && [ -n "$n" ] || { echo "bench.sh: counting $2 failed: $(cat "$TMP/c.err" "$TMP/perf.txt")" >&2; return 0; }
  awk -v r="$1" -v s="$2" -v c="$CONNS" -v b="$BYTES" -v sec="$SECS" -v m="$msgs" -v rate="$(field "$TMP/c.out" msgs_per_s)" -v n="$n" \
    'BEGIN { printf "%s,%s,count,%s,%s,%s,%s,%s,,,%s,%.4f\n", r, s, c, b, sec, m, rate, n, n / m }' >>"$CSV"
}

servers=(echo-epoll echo-loop echo-uring uring-plain)
for ((rep = 1; rep <= REPS; rep++)); do
  k=$(((rep - 1) % ${#servers[@]}))
  order=("${servers[@]:k}" "${servers[@]:0:k}")
  for s in "${order[@]}"; do timed "$rep" "$s"; count "$rep" "$s"; done
  echo "  rep $rep/$REPS done" >&2
done

if [ "$STRACE" = 1 ]; then
  for s in "${servers[@]}"; do
    start "$s" || continue
    strace -q -c -f -p "$spid" -o "$OUT/strace-$s.txt" &
    stpid=$!
    sleep 0.3
    client
    kill -INT "$stpid"; wait "$stpid" 2>/dev/null
    stop
    echo "msgs $(field "$TMP/c.out" msgs) (client-epoll, while strace ran)" >>"$OUT/strace-$s.txt"
  done
fi

# Medians per server, and the ratio of CPU per message to echo-epoll's.
awk -F, 'NR > 1 { k = $2 SUBSEP $3; v = ($3 == "timed") ? $10 : $12; n[k]++; x[k, n[k]] = v }
  function med(k,   i, j, t, m) { m = n[k]; for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[k, j] < x[k, i]) { t = x[k, i]; x[k, i] = x[k, j]; x[k, j] = t }
                                  return m % 2 ? x[k, (m + 1) / 2] : (x[k, m / 2] + x[k, m / 2 + 1]) / 2 }
  END { split("echo-epoll echo-loop echo-uring uring-plain", s, " "); base = med("echo-epoll" SUBSEP "timed")
        printf "%-12s %16s %10s %14s\n", "server", "cpu_us_per_msg", "vs_epoll", "syscalls/msg"
        for (i = 1; i <= 4; i++) { c = med(s[i] SUBSEP "timed"); printf "%-12s %16.3f %9.2fx %14.3f\n", s[i], c, c / base, med(s[i] SUBSEP "count") } }' "$CSV" |
  tee "$OUT/summary.txt"
scripts/meta.sh --finish "$OUT/meta.txt" >/dev/null
