#!/usr/bin/env bash
# What is particular to the loops model (models/loops/): N threads, each a
# loop with its own listening socket on one port (SO_REUSEPORT), and the
# kernel spreading the connections over all of them; --loops in its --help
# and nobody else's; fetch-loops dealing the URLs and -c out to its loops.
# The end-to-end contracts (echo, fetch, hostile peers, fairness) are checked
# for every model by the other tests.
source "$(dirname "$0")/lib.sh"
CHECK="$TBIN/echo_check"
case " $MODELS " in *" loops "*) ;; *) plan 1; skip "loops" "not among MODELS ($MODELS): its checks not run"; finish; exit 0 ;; esac

srv="$BIN/echo-loops"
ncpu=$(getconf _NPROCESSORS_ONLN)
plan 16

# --help states the default, one loop per online CPU; the other servers and
# fetchers neither list nor take --loops.
"$srv" --help >"$TMP/help" 2>&1
grep -q -- "--loops N .*per online CPU (default $ncpu)" "$TMP/help" && pass "loops: --help gives --loops and its default, $ncpu online CPUs" ||
  fail "loops: --help gives --loops and its default" "$(grep -- --loops "$TMP/help")"
"$BIN/fetch-loops" --help 2>&1 | grep -q -- "--loops N .*(default $ncpu)" && pass "loops: fetch-loops --help gives --loops" ||
  fail "loops: fetch-loops --help gives --loops" "$("$BIN/fetch-loops" --help 2>&1 | grep -- --loops)"
others=""
for m in $(models_list); do
  [ "$m" = loops ] && continue
  for p in echo fetch; do
    "$BIN/$p-$m" --help 2>&1 | grep -q -- '--loops' && others="$others $p-$m"
  done
  # Taking it, the server would run until the timeout; the fetcher fail to connect.
  timeout 5 "$BIN/echo-$m" --loops 2 --port 0 >/dev/null 2>&1; [ $? -eq 2 ] || others="$others echo-$m(takes it)"
  timeout 5 "$BIN/fetch-$m" --loops 2 http://127.0.0.1:1/ >/dev/null 2>&1; [ $? -eq 2 ] || others="$others fetch-$m(takes it)"
done
[ -z "$others" ] && pass "loops: no other model lists or accepts --loops" || fail "loops: no other model lists or accepts --loops" "$others"
for bad in 0 -1 1025 two; do
  timeout 5 "$srv" --loops "$bad" >/dev/null 2>"$TMP/err"; rc=$?
  [ $rc -eq 2 ] && grep -q -- '--loops' "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ] || { fail "loops: --loops $bad exits 2 naming --loops" "rc=$rc $(cat "$TMP/err")"; continue; }
  pass "loops: --loops $bad exits 2 naming --loops"
done

# --loops 3: three threads, three listening sockets on the one port, and the
# kernel gives every loop connections: under CPU work each thread burns time.
if start_server loops3 "$srv" --port 0 --loops 3 --work 20000; then
  threads=$(ls "/proc/$SPID/task" | wc -l)
  want=3; [ "${SANITIZER:-}" = tsan ] && want=4 # ThreadSanitizer runs a thread of its own
  socks=$(ss -Htln "sport = :$SPORT" | wc -l)
  [ "$threads" -eq "$want" ] && [ "$socks" -eq 3 ] && pass "loops: --loops 3 is 3 threads and 3 listening sockets on port $SPORT" ||
    fail "loops: --loops 3 is 3 threads and 3 listening sockets" "threads=$threads sockets=$socks"
  check "loops: 60 clients echoed byte-exactly across 3 loops" "$CHECK" --port "$SPORT" --clients 60 --max-bytes 20000 --seed 31 --timeout-s 60
  busy=0 ticks=""
  for t in /proc/"$SPID"/task/*; do
    v=$(awk '{print $14 + $15}' "$t/stat"); ticks="$ticks $v"
    [ "$v" -gt 0 ] && busy=$((busy + 1))
  done
  [ "$busy" -ge 3 ] && pass "loops: the kernel gave every loop connections to serve (CPU ticks per thread:$ticks)" ||
    fail "loops: the kernel gave every loop connections to serve" "CPU ticks per thread:$ticks"
  stop_server "$SPID" TERM
  [ "$SRC" -eq 0 ] && pass "loops: SIGTERM stops all 3 loops, exit 0" || fail "loops: SIGTERM stops all 3 loops, exit 0" "exit $SRC"
else fail "loops: --loops 3 starts" "$(cat "$TMP/loops3.err")"; fi

# A port given explicitly: every loop binds it; a second server is refused
# (SO_REUSEPORT would otherwise let it join the first one's sockets).
if start_server loops-a "$srv" --port 0 --loops 2; then
  apid=$SPID; port=$SPORT
  stop_server "$apid"
  if start_server loops-b "$srv" --port "$port" --loops 2; then
    socks=$(ss -Htln "sport = :$port" | wc -l)
    timeout 5 "$srv" --port "$port" --loops 2 >/dev/null 2>"$TMP/err"; rc=$?
    [ "$socks" -eq 2 ] && [ $rc -eq 1 ] && grep -q 'in use' "$TMP/err" &&
      pass "loops: --port $port: 2 sockets; a second server on it is refused ('$(cat "$TMP/err")')" ||
      fail "loops: --port $port: 2 sockets, a second server refused" "sockets=$socks rc=$rc $(cat "$TMP/err")"
    stop_server "$SPID"
  else fail "loops: starts on a port given explicitly" "$(cat "$TMP/loops-b.err")"; fi
fi

# fetch-loops: more loops than requests in flight (each loop needs one), and
# a run dealt over 4 loops, keep-alive too: every fetch counted once.
if start_server fetchd "$BIN/fetchd" --port 0; then
  U="http://127.0.0.1:$SPORT"
  for args in "--loops 8 -c 3 -n 20" "--loops 4 -c 10 -n 101" "--loops 4 -c 6 -n 50 --keepalive" "--loops 1 -c 5 -n 30"; do
    # shellcheck disable=SC2086
    timeout 60 "$BIN/fetch-loops" $args "$U/bytes/1000" >"$TMP/out" 2>"$TMP/err"; rc=$?
    n=$(sed -n 's/.* -n \([0-9]*\).*/\1/p' <<<" $args")
    [ $rc -eq 0 ] && grep -q "fetched $n, failed 0, bytes $((n * 1000))," "$TMP/out" &&
      pass "loops: fetch-loops $args: $n fetched, every byte verified" ||
      fail "loops: fetch-loops $args" "rc=$rc $(head -c 200 "$TMP/out") $(head -c 200 "$TMP/err")"
  done
  stop_server "$SPID"
else fail "loops: fetchd starts" "$(cat "$TMP/fetchd.err")"; fi
finish
