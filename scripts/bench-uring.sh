#!/usr/bin/env bash
# bench-uring.sh — `make bench-uring`: the runtime's backends against the epoll server:
# system calls per message and server CPU per message, at CONNS connections
# of BYTES-byte messages, driven by bin/client-epoll (the minimal closed-loop
# client: what it costs is not the subject). Servers, interleaved (the order
# rotates every repetition), REPS times, medians quoted:
#
#   echo-epoll    the hand-written level-triggered epoll server (the baseline)
#   echo-M        each model M over the coroutine runtime with one loop (its
#                 about.txt has runtime: and no loops:, scripts/models.sh):
#                 loop (over epoll) and uring (the same coroutines over io_uring)
#   M-plain       for each such model over the uring backend, echo-M with
#                 C10K_URING_PLAIN=1: a ring without
#                 IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
#
# Each repetition makes two runs per server, never one for both figures:
#   timed  CPU = utime + stime of the server (/proc/PID/stat, before and
#          after), divided by the messages client-epoll completed; also per
#          message: the server's context switches, voluntary (it slept) and
#          not (/proc/PID/status), and the machine's rescheduling interrupts
#          (RES in /proc/interrupts, every CPU: the IPIs that kick a running
#          task into the kernel; other jobs' share included, so only the
#          difference between servers means something);
#   count  system calls the server entered (perf stat -e raw_syscalls:sys_enter
#          -p PID: a counter, not a tracer), divided by the messages.
# Then one `strace -c -f` per server (STRACE=0: none) for the breakdown by
# call: strace stops the server on every call, so it is only for the names.
#
# Environment: REPS (5), SECS (3), CONNS (100), BYTES (64), WORK (0: the
# servers' --work, CPU work per message), SERVERS (all of the above), BIN (bin),
# OUT (results/uring: uring.csv, summary.txt, strace-NAME.txt, meta.txt).
set -u
cd "$(dirname "$0")/.." || exit 1
case "${1:-}" in
  -h|--help) sed -n '2,31s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench-uring.sh: unexpected argument '$1' (settings come from the environment; try --help)" >&2; exit 2 ;;
esac
source scripts/lib.sh
REPS=${REPS:-5} SECS=${SECS:-3} CONNS=${CONNS:-100} BYTES=${BYTES:-64} STRACE=${STRACE:-1} WORK=${WORK:-0}
BIN=${BIN:-bin} OUT=${OUT:-results/uring}
# the default servers, from the registry: the one-loop runtime models, and a plain ring for each over uring
default_servers() {
  local m
  echo echo-epoll
  for m in $(scripts/models.sh --with runtime); do
    [ -z "$(scripts/models.sh --about "$m" loops)" ] && echo "echo-$m"
  done
  for m in $(scripts/models.sh --with runtime uring); do
    [ -z "$(scripts/models.sh --about "$m" loops)" ] && echo "$m-plain"
  done
}
read -r -a servers <<<"${SERVERS:-$(default_servers | paste -sd ' ' -)}"
prog_of() { case "$1" in *-plain) echo "echo-${1%-plain}" ;; *) echo "$1" ;; esac; }
for s in "${servers[@]}" client-epoll; do
  p=$(prog_of "$s")
  [ -x "$BIN/$p" ] || { echo "bench-uring.sh: $BIN/$p is not built (make)" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "bench-uring.sh: perf is needed to count system calls (Debian: linux-perf)" >&2; exit 1; }
mkdir -p "$OUT"
CSV=$OUT/uring.csv
tck=$(getconf CLK_TCK)
spid=""
lib_on_exit '[ -z "$spid" ] || stop_server "$spid"'
scripts/meta.sh "$OUT/meta.txt" --set workload=echo --set conns="$CONNS" --set msg_bytes="$BYTES" \
  --set secs="$SECS" --set reps="$REPS" --set work="$WORK" --command "scripts/bench-uring.sh" >/dev/null

# start NAME — start the server called NAME on a free port: spid, sport
start() {
  case "$1" in
    *-plain) start_server "$1" env C10K_URING_PLAIN=1 "$BIN/$(prog_of "$1")" --port 0 --work "$WORK" ;;
    *) start_server "$1" "$BIN/$1" --port 0 --work "$WORK" ;;
  esac || return 1
  spid=$SPID sport=$SPORT
}
stop() { stop_server "$spid"; spid=""; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
csw() { awk '/^voluntary_ctxt_switches/ { v = $2 } /^nonvoluntary_ctxt_switches/ { n = $2 } END { print v, n }' "/proc/$1/status"; }
ipis() { awk '$1 == "RES:" { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts; }
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$1"; }
client() { "$BIN/client-epoll" --port "$sport" -c "$CONNS" --msg-bytes "$BYTES" --secs "$SECS" >"$TMP/c.out" 2>"$TMP/c.err"; }

echo "rep,server,run,conns,msg_bytes,secs,msgs,msgs_per_s,cpu_s,cpu_us_per_msg,syscalls,syscalls_per_msg,vcsw_per_msg,ivcsw_per_msg,res_ipi_per_msg" >"$CSV"

# timed REP NAME — one run for the server's CPU per message
timed() {
  start "$2" || return 0
  local t0 t1 c0 c1 i0 i1 msgs
  t0=$(ticks "$spid") c0=$(csw "$spid") i0=$(ipis)
  client
  t1=$(ticks "$spid") c1=$(csw "$spid") i1=$(ipis)
  stop
  msgs=$(field "$TMP/c.out" msgs)
  [ -n "$msgs" ] && [ "$msgs" -gt 0 ] || { echo "bench-uring.sh: client-epoll against $2 failed: $(cat "$TMP/c.err")" >&2; return 0; }
  awk -v r="$1" -v s="$2" -v c="$CONNS" -v b="$BYTES" -v sec="$SECS" -v m="$msgs" -v rate="$(field "$TMP/c.out" msgs_per_s)" \
      -v t="$((t1 - t0))" -v hz="$tck" -v c0="$c0" -v c1="$c1" -v ipi="$((i1 - i0))" \
    'BEGIN { cpu = t / hz; split(c0, a, " "); split(c1, z, " ")
             printf "%s,%s,timed,%s,%s,%s,%s,%s,%.2f,%.3f,,,%.4f,%.4f,%.4f\n", r, s, c, b, sec, m, rate, cpu, cpu * 1e6 / m,
                    (z[1] - a[1]) / m, (z[2] - a[2]) / m, ipi / m }' >>"$CSV"
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
  [ -n "$msgs" ] && [ "$msgs" -gt 0 ] && [ -n "$n" ] || { echo "bench-uring.sh: counting $2 failed: $(cat "$TMP/c.err" "$TMP/perf.txt")" >&2; return 0; }
  awk -v r="$1" -v s="$2" -v c="$CONNS" -v b="$BYTES" -v sec="$SECS" -v m="$msgs" -v rate="$(field "$TMP/c.out" msgs_per_s)" -v n="$n" \
    'BEGIN { printf "%s,%s,count,%s,%s,%s,%s,%s,,,%s,%.4f,,,\n", r, s, c, b, sec, m, rate, n, n / m }' >>"$CSV"
}

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
awk -F, -v order="${servers[*]}" 'function put(k, v) { n[k]++; x[k, n[k]] = v }
  NR > 1 && $3 == "timed" { put($2 SUBSEP "cpu", $10); put($2 SUBSEP "vcsw", $13); put($2 SUBSEP "ivcsw", $14); put($2 SUBSEP "ipi", $15) }
  NR > 1 && $3 == "count" { put($2 SUBSEP "sys", $12) }
  function med(k,   i, j, t, m) { m = n[k]; if (m == 0) return -1
                                  for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[k, j] < x[k, i]) { t = x[k, i]; x[k, i] = x[k, j]; x[k, j] = t }
                                  return m % 2 ? x[k, (m + 1) / 2] : (x[k, m / 2] + x[k, m / 2 + 1]) / 2 }
  END { k = split(order, s, " "); b = 1; base = med(s[1] SUBSEP "cpu"); if (base <= 0) { b = 3; base = med(s[3] SUBSEP "cpu") }
        printf "%-12s %15s %11s %13s %13s %14s %12s\n", "server", "cpu_us_per_msg", "vs_" substr(s[b], 6), "syscalls/msg", "vol_csw/msg", "invol_csw/msg", "RES_ipi/msg"
        for (i = 1; i <= k; i++) { c = med(s[i] SUBSEP "cpu"); if (c < 0) continue
          printf "%-12s %15.3f %10.2fx %13.3f %13.4f %14.4f %12.4f\n", s[i], c, c / base, med(s[i] SUBSEP "sys"),
                 med(s[i] SUBSEP "vcsw"), med(s[i] SUBSEP "ivcsw"), med(s[i] SUBSEP "ipi") } }' "$CSV" |
  tee "$OUT/summary.txt"
# The same ratios with their intervals from the interleaved repetitions
# (bin/bench --compare: docs/methodology.md), and uring against the loop.
awk -F, 'NR == 1 { print "model,conns,rep,cpu_us_per_msg"; next } $3 == "timed" { print $2 "," $4 "," $1 "," $10 }' "$CSV" >"$TMP/pairs.csv"
for base in echo-epoll echo-loop; do
  "$BIN/bench" --compare "$TMP/pairs.csv" --base "$base" --metrics cpu_us_per_msg 2>/dev/null | awk -F, -v b="$base" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    b == "echo-epoll" || $c["model"] == "echo-uring" {
      printf "%s / %s, CPU per message: %.2fx [%.2f, %.2f]%s%s\n", $c["model"], b, $c["ratio"], $c["lo"], $c["hi"],
             ($c["confidence_pct"] < 95 ? sprintf(" (%.1f%%, %d rounds)", $c["confidence_pct"], $c["rounds"]) : ""),
             ($c["verdict"] == "within noise" ? " within noise" : "") }'
done | tee -a "$OUT/summary.txt"
scripts/meta.sh --finish "$OUT/meta.txt" >/dev/null
