#!/usr/bin/env bash
# bench-overhead.sh — what do the suite's own layers cost, against the
# minimal epoll baselines? Three questions, answered in ONE run, interleaved
# (the order alternates every repetition) and repeated, medians quoted:
#
#   (a) runtime overhead: echo-MODEL (by default the first model over the
#       runtime's epoll backend: echo-loop) vs echo-epoll
#       throughput, both driven by the same independent client (client-epoll),
#       CONNS connections, BYTES-byte messages. "echo-loop / echo-epoll = 0.97"
#       means the coroutine runtime keeps 97% of the bare epoll loop's throughput.
#   (b) measuring overhead: CPU per message of loadgen (histogram, checks,
#       clocks) vs client-epoll (none of that), both against echo-epoll.
#       CPU = user + system seconds of the client process (bash's `time`,
#       i.e. getrusage of the child), divided by the messages it completed.
#   (c) the fetch pair: wall time of fetch-MODEL vs fetch-epoll, FETCH_N URLs
#       of /bytes/1024?delay_ms=FETCH_DELAY from bin/fetchd at -c FETCH_C.
# Then, in SEPARATE runs that are never timed, system calls counted with
# `strace -f -c`: per fetch (every call of the fetcher's run / FETCH_N) and
# per echo message (the server's calls over SECS of client-epoll / messages,
# and its read() and write() alone), each program beside its minimal one.
#
# Environment: REPS (5), SECS (3), CONNS (100), BYTES (64), OVERHEAD_MODEL (the
# first of scripts/models.sh --with runtime epoll: the model whose runtime is weighed against epoll), FETCH_N (1000), FETCH_C
# (1000), FETCH_DELAY (100 ms), OUT (results/overhead), BIN (bin). Programs
# that are not built, or strace if missing, are skipped with a message. Nothing
# is pinned: the programs share the machine's cores as the scheduler decides
# (recorded in OUT/meta.txt, written by scripts/meta.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
case "${1:-}" in
  -h|--help) sed -n '2,29s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench-overhead.sh: unexpected argument '$1' (settings come from the environment; try --help)" >&2; exit 2 ;;
esac
source scripts/lib.sh
REPS=${REPS:-5} SECS=${SECS:-3} CONNS=${CONNS:-100} BYTES=${BYTES:-64}
MODEL=${OVERHEAD_MODEL:-$(scripts/models.sh --with runtime epoll | head -n 1)}
FETCH_N=${FETCH_N:-1000} FETCH_C=${FETCH_C:-1000} FETCH_DELAY=${FETCH_DELAY:-100}
OUT=${OUT:-results/overhead}
CSV=$OUT/overhead.csv META=$OUT/meta.txt
mkdir -p "$OUT"
tmp=$TMP
spid="" fpid=""
lib_on_exit '[ -z "$spid" ] || stop_server "$spid"; [ -z "$fpid" ] || stop_server "$fpid"'

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

# (c) one fetcher against fetchd: its wall time (bash's `time`, the whole process)
furl() { echo "http://127.0.0.1:$fport/bytes/1024?delay_ms=$FETCH_DELAY"; }
fetch_args() { # fetch-epoll takes one URL and -n; the models take URLs and -n too
  echo -n "-c $FETCH_C -n $FETCH_N"
  [ "$1" = fetch-epoll ] || echo -n " -q"
}
run_c() {
  local rep=$1 prog=$2 wall
  [ -n "$fpid" ] && have "$prog" || return 0
  local TIMEFORMAT='%3R'
  # shellcheck disable=SC2046 # the flags split on purpose
  wall=$({ time "$BIN/$prog" $(fetch_args "$prog") "$(furl)" >"$tmp/c.out" 2>"$tmp/c.err"; } 2>&1) ||
    { echo "bench-overhead: $prog failed: $(head -c 300 "$tmp/c.err")" >&2; return 0; }
  echo "$rep,c,$prog,$FETCH_C,1024,$wall,$FETCH_N,,," >>"$CSV"
  printf '  rep %d  (c) %-12s %8.3f s wall  (%d x %d ms at -c %d)\n' "$rep" "$prog" "$wall" "$FETCH_N" "$FETCH_DELAY" "$FETCH_C"
}

# System calls, counted apart from every timed run (strace slows a program
# several times over). calls FILE -> "total read write" from strace -c's table.
calls() {
  awk '$NF == "total" { t = $(NF - 2) } $NF == "read" { r = $4 } $NF == "write" { w = $4 }
       END { print t + 0, r + 0, w + 0 }' "$1"
}
count_fetch() {
  local prog=$1 f=$OUT/strace-$1.txt
  have "$prog" || return 0
  # shellcheck disable=SC2046
  strace -f -c -o "$f" "$BIN/$prog" $(fetch_args "$prog") "$(furl)" >/dev/null 2>"$tmp/s.err" ||
    { echo "bench-overhead: $prog under strace failed: $(head -c 300 "$tmp/s.err")" >&2; return 0; }
  read -r total _ _ < <(calls "$f")
  awk -v p="$prog" -v t="$total" -v n="$FETCH_N" 'BEGIN { printf "  %-12s %6.2f system calls per fetch (%d in all, %d fetches)\n", p, t / n, t, n }'
  echo "0,syscalls_fetch,$prog,$FETCH_C,1024,,$FETCH_N,,$total," >>"$CSV"
}
count_echo() {
  local prog=$1 f=$OUT/strace-$1.txt pid
  have "$prog" && have client-epoll || return 0
  start_server "$prog" strace -f -c -o "$f" "$BIN/$prog" --port 0 || return 0
  spid=$SPID sport=$SPORT
  "$BIN/client-epoll" --port "$sport" -c "$CONNS" --msg-bytes "$BYTES" --secs 1 >"$tmp/e.out" 2>&1
  for pid in $(children_of "$spid"); do kill -TERM "$pid" 2>/dev/null; done # the server; strace then writes its table
  stop
  local msgs total r w
  msgs=$(ce_field "$tmp/e.out" msgs)
  read -r total r w < <(calls "$f")
  [ -n "$msgs" ] && [ "$msgs" -gt 0 ] || { echo "bench-overhead: client-epoll against $prog under strace failed" >&2; return 0; }
  awk -v p="$prog" -v t="$total" -v r="$r" -v w="$w" -v m="$msgs" 'BEGIN {
    printf "  %-12s %6.3f system calls per message: read %.3f, write %.3f (%d messages, %d connections opened and closed)\n",
           p, t / m, r / m, w / m, m, '"$CONNS"' }'
  echo "0,syscalls_echo,$prog,$CONNS,$BYTES,1,$msgs,,$total," >>"$CSV"
}

scripts/meta.sh "$META" --set pinning="none (server and client share the $(nproc) cores)" \
  --set settings="reps=$REPS secs=$SECS conns=$CONNS msg_bytes=$BYTES model=$MODEL" \
  --set order="interleaved; the order alternates every repetition" \
  --command "$BIN/client-epoll --port PORT -c $CONNS --msg-bytes $BYTES --secs $SECS   (a: against echo-epoll and echo-$MODEL)" \
  --command "$BIN/loadgen --port PORT -c $CONNS --msg-bytes $BYTES --secs $SECS --csv   (b: against echo-epoll, CPU by bash's time)" \
  --command "$BIN/client-epoll --port PORT -c $CONNS --msg-bytes $BYTES --secs $SECS   (b: against echo-epoll, CPU by bash's time)" \
  --command "$BIN/fetch-$MODEL -c $FETCH_C -n $FETCH_N -q URL   (c: URL = http://127.0.0.1:PORT/bytes/1024?delay_ms=$FETCH_DELAY on bin/fetchd; wall by bash's time)" \
  --command "$BIN/fetch-epoll -c $FETCH_C -n $FETCH_N URL   (c)" \
  --command "strace -f -c -o OUT/strace-PROG.txt PROG ...   (system calls: separate, untimed runs of the (a) servers and (c) fetchers)" || exit 1
echo "bench-overhead: $REPS reps x $SECS s, $CONNS connections, $BYTES-byte messages; echo-$MODEL vs echo-epoll; fetch-$MODEL vs fetch-epoll; metadata in $META"
if have fetchd && start_server fetchd "$BIN/fetchd" --port 0; then fpid=$SPID fport=$SPORT; fi

for rep in $(seq 1 "$REPS"); do
  if [ $((rep % 2)) -eq 1 ]; then
    run_a "$rep" echo-epoll; run_a "$rep" "echo-$MODEL"
    run_b "$rep" client-epoll; run_b "$rep" loadgen
    run_c "$rep" fetch-epoll; run_c "$rep" "fetch-$MODEL"
  else
    run_a "$rep" "echo-$MODEL"; run_a "$rep" echo-epoll
    run_b "$rep" loadgen; run_b "$rep" client-epoll
    run_c "$rep" "fetch-$MODEL"; run_c "$rep" fetch-epoll
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
fe=$(median c fetch-epoll secs) fl=$(median c "fetch-$MODEL" secs)
[ -n "$fe" ] && printf '  (c) fetch-epoll  %8.3f s wall\n' "$fe"
[ -n "$fl" ] && printf '  (c) %-12s %8.3f s wall\n' "fetch-$MODEL" "$fl"
echo "  (c) fetch-$MODEL / fetch-epoll = $(ratio "$fl" "$fe")   (wall time at -c $FETCH_C; goal <= 1.10)"

echo
if command -v strace >/dev/null; then
  echo "system calls (strace -f -c, separate untimed runs; tables in $OUT/strace-*.txt):"
  count_fetch fetch-epoll; count_fetch "fetch-$MODEL"
  count_echo echo-epoll; count_echo "echo-$MODEL"
else
  echo "bench-overhead: strace is missing (apt-get install strace): system calls not counted" >&2
fi
[ -z "$fpid" ] || stop_server "$fpid"
fpid=""
