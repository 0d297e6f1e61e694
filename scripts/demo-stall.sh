#!/usr/bin/env bash
# scripts/demo-stall.sh — `make demo-stall`: coordinated omission, seen.
#
# One echo server, measured twice by bin/loadgen: closed loop (each
# connection sends its next message when the echo is back) and open loop
# (messages due at a fixed rate). In the middle of each run the server is
# frozen for 1 s with SIGSTOP, then woken with SIGCONT. The table shows what
# each way of measuring reports about that second (docs/demos/stall.md).
#
#   scripts/demo-stall.sh [--model M] [--conns N] [--rate R] [--secs S] [--stall-ms MS]
#
# Defaults: --model loop (any model of scripts/models.sh, or epoll), 10 connections,
# 10000 msgs/s in open loop, 10 s per run, a 1000 ms stall. About 25 s.
# BIN picks the programs' folder.
set -u
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
model=loop conns=10 rate=10000 secs=10 stall_ms=1000

stall_usage() { sed -n '2,14s/^# \{0,1\}//p' "$0"; }
stall_die() { echo "demo-stall.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --model|--conns|--rate|--secs|--stall-ms)
      [ $# -ge 2 ] || stall_die "$1 needs a value"
      case $1 in
        --model) model=$2 ;; --conns) conns=$2 ;; --rate) rate=$2 ;;
        --secs) secs=$2 ;; --stall-ms) stall_ms=$2 ;;
      esac
      shift 2 ;;
    -h|--help) stall_usage; exit 0 ;;
    *) stall_die "unknown flag '$1' (try --help)" ;;
  esac
done
known="$(models_list | paste -sd ' ' -) epoll"
[[ " $known " == *" $model "* ]] || stall_die "--model '$model': want one of: $known"
[[ $conns =~ ^[1-9][0-9]*$ ]] && [ "$conns" -le 10000 ] || stall_die "--conns '$conns': want a whole number 1..10000"
[[ $rate =~ ^[1-9][0-9]*$ ]] || stall_die "--rate '$rate': want a whole number >= 1"
[[ $secs =~ ^[1-9][0-9]*$ ]] && [ "$secs" -ge 3 ] && [ "$secs" -le 60 ] || stall_die "--secs '$secs': want a whole number 3..60"
[[ $stall_ms =~ ^[1-9][0-9]*$ ]] && [ "$stall_ms" -lt $((secs * 1000 / 2)) ] ||
  stall_die "--stall-ms '$stall_ms': want a whole number >= 1, under half of --secs"
for p in loadgen "echo-$model"; do
  [ -x "$BIN/$p" ] || { echo "demo-stall.sh: $BIN/$p is not built: run make" >&2; exit 1; }
done

tmp=$TMP
spid="" stopped=0
# On any exit: wake the server if we froze it, stop it, by the PID we started.
stall_cleanup() {
  if [ -n "$spid" ]; then
    [ "$stopped" = 1 ] && stall_signal CONT
    stop_server "$spid"
  fi
}
lib_on_exit stall_cleanup
trap 'exit 130' INT TERM

# stall_say TEXT — one line, stamped with the wall clock to the microsecond
stall_say() { echo "$(date +%T.%6N) $*"; }

# stall_signal SIG — signal the server and, for the fork model, the children
# it forked (one per connection): freezing only the parent would leave the
# children answering. Only PIDs we started, or whose parent we started.
stall_signal() {
  local kids
  kids=$(children_of "$spid" | tr '\n' ' ')
  kill -"$1" "$spid" $kids 2>/dev/null
}

stall_start_server() {
  start_server "echo-$model" "$BIN/echo-$model" --port 0 || exit 1
  spid=$SPID sport=$SPORT
}

# stall_run MODE — one loadgen run (closed or open), the server frozen for
# stall_ms in its middle; loadgen's CSV goes to $tmp/MODE.csv
stall_run() {
  local mode=$1 args=() half t0 t1
  [ "$mode" = open ] && args=(--rate "$rate")
  "$BIN/loadgen" --port "$sport" -c "$conns" --secs "$secs" "${args[@]}" --csv \
    >"$tmp/$mode.csv" 2>"$tmp/$mode.err" &
  local lpid=$!
  stall_say "loadgen starts: $conns connections, $secs s"
  half=$(awk -v s="$secs" -v st="$stall_ms" 'BEGIN { printf "%.3f", (s - st / 1000) / 2 }')
  sleep "$half"
  t0=$(date +%s%N)
  stopped=1; stall_signal STOP
  stall_say "SIGSTOP echo-$model (pid $spid): the server is frozen"
  sleep "$(awk -v st="$stall_ms" 'BEGIN { printf "%.3f", st / 1000 }')"
  stall_signal CONT; stopped=0
  t1=$(date +%s%N)
  stall_say "SIGCONT echo-$model: it runs again, frozen $(( (t1 - t0) / 1000000 )) ms"
  wait "$lpid"
  local rc=$?
  if [ "$(wc -l <"$tmp/$mode.csv")" -lt 2 ]; then
    echo "demo-stall.sh: loadgen failed (exit $rc): $(head -c 300 "$tmp/$mode.err")" >&2
    exit 1
  fi
  stall_say "loadgen done: $(field "$tmp/$mode.csv" msgs) messages measured, errors $(field "$tmp/$mode.csv" errors)"
}

# field FILE COLUMN — one value of loadgen's CSV
field() { awk -F, -v k="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } NR == 2 && c { print $c }' "$1"; }
# row LABEL FILE SUFFIX — one table row, µs columns shown in ms
row() {
  local f=$2 s=$3 c
  printf '  %-34s %9s' "$1" "$(field "$f" msgs)"
  for c in p50 p99 p999 max; do
    awk -v v="$(field "$f" "${c}${s}_us")" 'BEGIN { if (v == "") printf " %10s", "n/a"; else printf " %10.3f", v / 1000 }'
  done
  echo
}

echo "== demo-stall: echo-$model frozen for $stall_ms ms in the middle of each run =="
stall_start_server
stall_say "echo-$model listening on port $sport (pid $spid)"
echo
echo "-- closed loop: each connection sends its next message as soon as its echo is back --"
stall_run closed
echo
echo "-- open loop: $rate msgs/s in total are due, whatever the server does --"
stall_run open
echo

cl=$tmp/closed.csv op=$tmp/open.csv
echo "latency in ms (p99.9 = the 99.9th percentile):"
printf '  %-34s %9s %10s %10s %10s %10s\n' "" messages p50 p99 p99.9 max
row "closed loop (from the send)" "$cl" ""
row "open loop, uncorrected (from send)" "$op" _unc
row "open loop, corrected (from due)" "$op" ""
echo "  (closed loop has no schedule, so no due time: there is nothing to correct it against)"
echo

due=$(awk -v r="$rate" -v st="$stall_ms" 'BEGIN { printf "%.0f", r * st / 1000 }')
awk -v due="$due" -v conns="$conns" -v c_msgs="$(field "$cl" msgs)" -v o_msgs="$(field "$op" msgs)" \
    -v c999="$(field "$cl" p999_us)" -v cor="$(field "$op" p999_us)" -v unc="$(field "$op" p999_unc_us)" \
    -v st="$stall_ms" -v model="$model" 'BEGIN {
  printf "What happened. While echo-%s was frozen, the closed-loop client stopped sending too:\n", model
  printf "each of its %d connections had one message out and waited for it, so only those %d\n", conns, conns
  printf "messages (%.4f%% of %d) saw the %d ms stall; every percentile up to p99.9 (%.3f ms)\n", 100 * conns / c_msgs, c_msgs, st, c999 / 1000
  printf "looks healthy and only the max shows it. The client coordinated with the server and\n"
  printf "omitted exactly the bad moments: coordinated omission. In open loop, %d messages were\n", due
  printf "DUE during the stall (%.1f%% of %d); each is charged from its due time, so the corrected\n", 100 * due / o_msgs, o_msgs
  printf "p99.9 is %.0f ms, the freeze a real user would have felt. The uncorrected figure of the\n", cor / 1000
  printf "same run (from the actual send) says %.3f ms: measuring from the send hides the stall again.\n", unc / 1000
}'
