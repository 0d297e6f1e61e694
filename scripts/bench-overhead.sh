#!/usr/bin/env bash
# bench-overhead.sh — what do the suite's own layers cost, against the
# minimal epoll baselines? Two questions, answered in ONE run, interleaved
# (the order alternates every repetition) and repeated, medians quoted:
#
#   (a) runtime overhead: echo-MODEL (echo-loop by default) vs echo-epoll
#       throughput, both driven by the same independent client (client-epoll),
#       CONNS connections, BYTES-byte messages. "echo-loop / echo-epoll = 0.97"
#       means the coroutine runtime keeps 97% of the bare epoll loop's throughput.
#   (b) measuring overhead: CPU per message of loadgen (histogram, checks,
#       clocks) vs client-epoll (none of that), both against echo-epoll.
#       CPU = user + system seconds of the client process (bash's `time`,
#       i.e. getrusage of the child), divided by the messages it completed.
#
# Environment: REPS (5), SECS (3), CONNS (100), BYTES (64), OVERHEAD_MODEL (loop:
# the model whose runtime is weighed against epoll), OUT (results/overhead),
# BIN (bin). Programs that are not built are skipped with a message. Server
# and client are not pinned: they share the machine's cores as the scheduler
# decides (recorded in OUT/meta.txt, written by scripts/meta.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
case "${1:-}" in
  -h|--help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench-overhead.sh: unexpected argument '$1' (settings come from the environment; try --help)" >&2; exit 2 ;;
esac
source scripts/lib.sh
REPS=${REPS:-5} SECS=${SECS:-3} CONNS=${CONNS:-100} BYTES=${BYTES:-64} MODEL=${OVERHEAD_MODEL:-loop}
OUT=${OUT:-results/overhead}
CSV=$OUT/overhead.csv META=$OUT/meta.txt
mkdir -p "$OUT"
tmp=$TMP
spid=""
lib_on_exit '[ -z "$spid" ] || stop_server "$spid"'

have() { [ -x "$BIN/$1" ] || { echo "bench-overhead: $BIN/$1 is not built; skipping what needs it" >&2; return 1; }; }

# start NAME — start $BIN/NAME on a free port; sets spid and sport
start() { start_server "$1" "$BIN/$1" --port 0 || return 1; spid=$SPID sport=$SPORT; }
stop() { stop_server "$spid"; spid=""; }

# timed FILE COMMAND... — run COMMAND, its stdout to FILE; prints "cpu_s" (user+sys)
timed() {
  local f=$1; shift
  local TIMEFORMAT='%3U %3S'
  { time "$@" >"$f" 2>"$f.err"; } 2>"$tmp/time"
  awk '{ printf "%.3f\n", $1 + $2 }' "$tmp/time"
}

# client-epoll's "msgs N secs S msgs_per_s R errors E" -> field
ce_field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$1"; }
# loadgen's CSV -> field
lg_field() { awk -F, -v k="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } NR == 2 { print $c }' "$1"; }

echo "rep,part,program,conns,msg_bytes,secs,msgs,msgs_per_s,cpu_s,cpu_us_per_msg" >"$CSV"
row() { echo "$*" | tr ' ' , >>"$CSV"; }

# (a) one server, driven by client-epoll
run_a() {
  local rep=$1 server=$2
  have "$server" && have client-epoll || return 0
  start "$server" || return 0
  timed "$tmp/a.out" "$BIN/client-epoll" --port "$sport" -c "$CONNS" --msg-bytes "$BYTES" --secs "$SECS" >/dev/null
  stop
  local msgs rate
  msgs=$(ce_field "$tmp/a.out" msgs) rate=$(ce_field "$tmp/a.out" msgs_per_s)
  [ -n "$msgs" ] || { echo "bench-overhead: client-epoll against $server failed: $(cat "$tmp/a.out.err")" >&2; return 0; }
  echo "$rep,a,$server,$CONNS,$BYTES,$SECS,$msgs,$rate,," >>"$CSV" # no CPU figure: the client is not the subject
  printf '  rep %d  (a) %-12s %10.0f msgs/s\n' "$rep" "$server" "$rate"
}

# (b) one client against echo-epoll, its CPU per message
run_b() {
  local rep=$1 client=$2 cpu msgs secs
  have echo-epoll && have "$client" || return 0
  start echo-epoll || return 0
  if [ "$client" = loadgen ]; then
    cpu=$(timed "$tmp/b.out" "$BIN/loadgen" --port "$sport" -c "$CONNS" --msg-bytes "$BYTES" --secs "$SECS" --csv)
    msgs=$(lg_field "$tmp/b.out" msgs) secs=$(lg_field "$tmp/b.out" secs)
  else
    cpu=$(timed "$tmp/b.out" "$BIN/client-epoll" --port "$sport" -c "$CONNS" --msg-bytes "$BYTES" --secs "$SECS")
    msgs=$(ce_field "$tmp/b.out" msgs) secs=$(ce_field "$tmp/b.out" secs)
  fi
  stop
  [ -n "$msgs" ] && [ "$msgs" -gt 0 ] || { echo "bench-overhead: $client failed: $(cat "$tmp/b.out.err")" >&2; return 0; }
  local per rate
  per=$(awk -v c="$cpu" -v m="$msgs" 'BEGIN { printf "%.3f", c * 1e6 / m }')
  rate=$(awk -v m="$msgs" -v s="$secs" 'BEGIN { printf "%.1f", m / s }')
  row "$rep b $client $CONNS $BYTES $secs $msgs $rate $cpu $per"
  printf '  rep %d  (b) %-12s %10.0f msgs/s  cpu %.3f s  %.3f us/msg\n' "$rep" "$client" "$rate" "$cpu" "$per"
}

scripts/meta.sh "$META" --set pinning="none (server and client share the $(nproc) cores)" \
  --set settings="reps=$REPS secs=$SECS conns=$CONNS msg_bytes=$BYTES model=$MODEL" \
  --set order="interleaved; the order alternates every repetition" \
  --command "$BIN/client-epoll --port PORT -c $CONNS --msg-bytes $BYTES --secs $SECS   (a: against echo-epoll and echo-$MODEL)" \
  --command "$BIN/loadgen --port PORT -c $CONNS --msg-bytes $BYTES --secs $SECS --csv   (b: against echo-epoll, CPU by bash's time)" \
  --command "$BIN/client-epoll --port PORT -c $CONNS --msg-bytes $BYTES --secs $SECS   (b: against echo-epoll, CPU by bash's time)" || exit 1
echo "bench-overhead: $REPS reps x $SECS s, $CONNS connections, $BYTES-byte messages; echo-$MODEL vs echo-epoll; metadata in $META"

for rep in $(seq 1 "$REPS"); do
  if [ $((rep % 2)) -eq 1 ]; then
    run_a "$rep" echo-epoll; run_a "$rep" "echo-$MODEL"
    run_b "$rep" client-epoll; run_b "$rep" loadgen
  else
    run_a "$rep" "echo-$MODEL"; run_a "$rep" echo-epoll
    run_b "$rep" loadgen; run_b "$rep" client-epoll
  fi
done

# median PART PROGRAM COLUMN — median of one column over the repetitions
median() {
  awk -F, -v p="$1" -v g="$2" -v col="$3" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    $2 == p && $3 == g { print $c }' "$CSV" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }

scripts/meta.sh --finish "$META"
ee=$(median a echo-epoll msgs_per_s) el=$(median a "echo-$MODEL" msgs_per_s)
lc=$(median b loadgen cpu_us_per_msg) cc=$(median b client-epoll cpu_us_per_msg)
echo
echo "medians of $REPS repetitions (results: $CSV, $META):"
[ -n "$ee" ] && printf '  (a) echo-epoll  %10.0f msgs/s\n' "$ee"
[ -n "$el" ] && printf '  (a) %-11s %10.0f msgs/s\n' "echo-$MODEL" "$el"
echo "  (a) echo-$MODEL / echo-epoll = $(ratio "$el" "$ee")   (throughput; 1.00 = the runtime costs nothing)"
[ -n "$cc" ] && printf '  (b) client-epoll %8.3f us CPU/msg\n' "$cc"
[ -n "$lc" ] && printf '  (b) loadgen      %8.3f us CPU/msg\n' "$lc"
echo "  (b) loadgen / client-epoll = $(ratio "$lc" "$cc")   (CPU per message; goal <= 1.10)"
