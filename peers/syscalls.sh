#!/usr/bin/env bash
# peers/syscalls.sh — what one echoed message costs each event-loop server, in
# system calls and in CPU time on each side of the kernel line (docs/peers.md,
# "Reading the charts"). At CONNS connections, closed loop (bin/loadgen):
#   1. CPU: ROUNDS rounds, the servers interleaved; each echoes COUNT messages
#      untraced; its user and system time from /proc/PID/stat (ticks of
#      1/CLK_TCK s) divided by the messages: µs per message, medians printed.
#   2. System calls: each server under `strace -f -c` echoes STRACE_COUNT
#      messages; calls per message, the busiest calls printed. strace slows
#      the server many times, so more messages wait at each epoll_wait than
#      untraced: read the calls per message, not the epoll_wait ratio.
# Run it alone: another benchmark on the same cores moves the CPU figures
# (on a shared machine, under a lock file the others take too:
# flock LOCKFILE peers/syscalls.sh).
# Environment (defaults): SERVERS (loop py-asyncio py-asyncio-proto py-uvloop node libuv go tokio),
# CONNS (100), COUNT (100000), STRACE_COUNT (20000), ROUNDS (3),
# OUT (results/peers/syscalls: cpu.csv, strace-NAME.txt), BIN (bin).
set -u
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
case "${1:-}" in -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;; "") ;;
  *) echo "syscalls.sh: unknown argument '$1' (settings come from the environment; see --help)" >&2; exit 2 ;; esac
SERVERS=${SERVERS:-loop py-asyncio py-asyncio-proto py-uvloop node libuv go tokio} CONNS=${CONNS:-100} COUNT=${COUNT:-100000}
STRACE_COUNT=${STRACE_COUNT:-20000} ROUNDS=${ROUNDS:-3} OUT=${OUT:-results/peers/syscalls}
for v in CONNS COUNT STRACE_COUNT ROUNDS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "syscalls.sh: $v='${!v}' is not a whole number >= 1" >&2; exit 2; }
done
command -v strace >/dev/null || { echo "syscalls.sh: strace is missing (apt-get install strace)" >&2; exit 1; }
servers=""
for s in $SERVERS; do
  if [ -x "$BIN/echo-$s" ]; then servers="$servers $s"; else echo "syscalls.sh: skipped $s ($BIN/echo-$s is not built)" >&2; fi
done
[ -x "$BIN/loadgen" ] && [ -n "$servers" ] || { echo "syscalls.sh: nothing to measure (run make and make peers)" >&2; exit 1; }
mkdir -p "$OUT"
tck=$(getconf CLK_TCK)
cpu_of() { awk -v t="$tck" '{ print $14 / t, $15 / t }' "/proc/$1/stat"; }   # utime stime, seconds
# drive PORT N — echo N messages over CONNS connections; prints "msgs msgs_per_s"
drive() {
  "$BIN/loadgen" --port "$1" -c "$CONNS" --count "$2" --csv 2>/dev/null |
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 2 { print $c["msgs"], $c["msgs_per_s"] }'
}

echo "server,round,msgs,msgs_per_s,user_us_per_msg,sys_us_per_msg" >"$OUT/cpu.csv"
for round in $(seq "$ROUNDS"); do
  for s in $servers; do
    start_server "$s" "$BIN/echo-$s" --port 0 || continue
    read -r u0 s0 <<<"$(cpu_of "$SPID")"
    read -r n r <<<"$(drive "$SPORT" "$COUNT")"
    read -r u1 s1 <<<"$(cpu_of "$SPID")"
    stop_server "$SPID"
    [ -n "${n:-}" ] && [ "$n" -gt 0 ] || { echo "syscalls.sh: $s: loadgen echoed nothing" >&2; continue; }
    awk -v s="$s" -v k="$round" -v n="$n" -v r="$r" -v u0="$u0" -v u1="$u1" -v s0="$s0" -v s1="$s1" \
      'BEGIN { printf "%s,%d,%d,%.0f,%.2f,%.2f\n", s, k, n, r, (u1 - u0) * 1e6 / n, (s1 - s0) * 1e6 / n }' >>"$OUT/cpu.csv"
  done
done
for s in $servers; do
  start_server "strace-$s" strace -f -c -S calls -o "$OUT/strace-$s.txt" "$BIN/echo-$s" --port 0 || continue
  read -r n _ <<<"$(drive "$SPORT" "$STRACE_COUNT")"
  echo "${n:-0}" >"$OUT/strace-$s.msgs"
  kill -TERM "$(children_of "$SPID" | head -n 1)" 2>/dev/null   # the server; strace then writes its table and exits
  for _ in $(seq 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  stop_server "$SPID"
done

echo "CPU per echoed message at $CONNS connections, µs, median of $ROUNDS rounds (untraced):"
awk -F, 'NR > 1 { u[$1] = u[$1] " " $5; s[$1] = s[$1] " " $6; r[$1] = r[$1] " " $4; if (!($1 in seen)) { seen[$1] = 1; o[++n] = $1 } }
  function med(str,   a, k, i, j, t) { k = split(str, a, " ")
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((k + 1) / 2)] }
  END { printf "  %-12s %9s %8s %8s\n", "server", "msgs/s", "user", "system"
        for (i = 1; i <= n; i++) { m = o[i]; printf "  %-12s %9.0f %8.1f %8.1f\n", m, med(r[m]), med(u[m]), med(s[m]) } }' "$OUT/cpu.csv"
echo "System calls per echoed message (strace -f -c, $STRACE_COUNT messages), the busiest five:"
for s in $servers; do
  [ -s "$OUT/strace-$s.txt" ] || continue
  awk -v s="$s" -v n="$(cat "$OUT/strace-$s.msgs")" '
    $NF == "total" { tot = $4 }
    $1 ~ /^[0-9.]+$/ && $NF != "total" && k < 5 { top = top sprintf(" %s %.2f", $NF, $4 / n); k++ }
    END { if (n > 0) printf "  %-12s %.2f in all:%s\n", s, tot / n, top }' "$OUT/strace-$s.txt"
done
echo "syscalls.sh: wrote $OUT/cpu.csv and $OUT/strace-*.txt"
