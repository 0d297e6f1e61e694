#!/usr/bin/env bash
# tests/t_offload.sh — echo-loop --offload end to end: with --work sent to the
# worker pool (co_offload, models/loop/offload.c) every byte still comes back
# in order, resets and half-closes included; the pool's threads exist only
# with --offload; SIGTERM still stops the server (exit 0) while workers work;
# a model that does not offer the flag rejects it. The unit tests of co_offload itself
# (deadline, cancellation, dropped results) are tests/unit_offload.c.
source "$(dirname "$0")/lib.sh"
CHECK="$TBIN/echo_check"
srv=$BIN/echo-loop
[ -x "$srv" ] && [ -x "$CHECK" ] || { fail offload_built "$srv or $CHECK missing (run make)"; exit 0; }

threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

plan 5
if start_server offload "$srv" --port 0 --offload --work 200; then
  pass "offload: echo-loop --offload --work 200 starts"
  check "offload: 200 clients, random payloads, echoed byte-exactly" \
    "$CHECK" --port "$SPORT" --clients 200 --max-bytes 100000 --seed 21
  check "offload: half-closes and resets among 300 clients" \
    "$CHECK" --port "$SPORT" --clients 300 --halfclose --resets 30 --max-bytes 50000 --seed 22 --timeout-s 60
  n=$(threads_of "$SPID")
  [ "${n:-0}" -ge 2 ] && pass "offload: the server has worker threads ($n threads)" \
    || fail "offload: the server has worker threads" "Threads: ${n:-?}"
  # stop it while the workers are busy: exit 0 all the same
  "$CHECK" --port "$SPORT" --clients 50 --max-bytes 200000 --min-ok 0 --quiet --seed 23 >/dev/null 2>&1 &
  busy=$!; _pids+=("$busy")
  sleep 0.3
  stop_server "$SPID" TERM
  [ "$SRC" -eq 0 ] && pass "offload: SIGTERM while workers work exits 0" || fail "offload: SIGTERM while workers work exits 0" "exit status $SRC"
  kill "$busy" 2>/dev/null; wait "$busy" 2>/dev/null
else
  fail "offload: echo-loop --offload --work 200 starts" "$(cat "$TMP/offload.err")"
fi

# without --offload: one thread, the loop does the work itself
plan 1
if start_server nooffload "$srv" --port 0 --work 200; then
  "$CHECK" --port "$SPORT" --clients 20 --max-bytes 10000 --seed 24 >/dev/null 2>&1
  n=$(threads_of "$SPID")
  [ "$n" = 1 ] && pass "offload: without --offload echo-loop stays one thread" || fail "offload: without --offload echo-loop stays one thread" "Threads: $n"
  stop_server "$SPID" TERM
fi

# a model whose --help does not offer it (every model whose echo.c is not the
# loop's) rejects it with one line naming it; bounded, in case one starts
for m in $MODELS; do
  [ -x "$BIN/echo-$m" ] || { plan 1; fail "offload: echo-$m is built" "$BIN/echo-$m missing"; continue; }
  if "$BIN/echo-$m" --help 2>/dev/null | grep -q -- --offload; then
    [ "$m" = loop ] && continue # above, at length
    plan 2
    # another model built on the loop's echo.c (uring): the same promise, shorter
    if start_server "offload-$m" "$BIN/echo-$m" --port 0 --offload --work 200; then
      check "offload: echo-$m --offload echoes 100 clients byte-exactly" \
        "$CHECK" --port "$SPORT" --clients 100 --max-bytes 50000 --seed 25
      stop_server "$SPID" TERM
      [ "$SRC" -eq 0 ] && pass "offload: echo-$m --offload stops with exit 0" || fail "offload: echo-$m --offload stops with exit 0" "exit status $SRC"
    else
      fail "offload: echo-$m --offload starts" "$(cat "$TMP/offload-$m.err")"
    fi
    continue
  fi
  plan 1
  timeout 5 "$BIN/echo-$m" --port 0 --offload >"$TMP/o" 2>"$TMP/e"; rc=$?
  if [ "$rc" -eq 2 ] && grep -q -- --offload "$TMP/e"; then pass "offload: echo-$m rejects --offload"
  else fail "offload: echo-$m rejects --offload" "rc=$rc $(head -c 200 "$TMP/e")"; fi
done

# demo-blocking --what offload: the same CPU work blocks the ticks on the loop
# and leaves them (much) less late on a worker. Relative, same run: the
# machine's load shifts both. A 2-core machine is assumed to have a core free
# for the worker most of the time.
if [ -x "$BIN/demo-blocking" ]; then
  plan 2
  if timeout 40 "$BIN/demo-blocking" --what offload --phase-ms 1600 --block-ms 800 >"$TMP/blk" 2>&1; then
    worst() { sed -n "s/.*worst lateness \([0-9.]*\) ms  \[$1\].*/\1/p" "$TMP/blk"; }
    b=$(worst 'cpu blocking') o=$(worst 'cpu offload')
    if [ -n "$b" ] && [ -n "$o" ] && awk -v b="$b" -v o="$o" 'BEGIN { exit !(b >= 300 && o < b / 2) }'; then
      pass "offload: demo-blocking ticks late by $b ms with the work on the loop, $o ms with it offloaded"
    else fail "offload: demo-blocking offload phase" "blocking ${b:-?} ms, offloaded ${o:-?} ms"; fi
    grep -q "sleep blocking\|cpu fixed" "$TMP/blk" && fail "offload: --what offload runs only its two phases" "other phases ran" \
      || pass "offload: --what offload runs only its two phases"
  else fail "offload: demo-blocking --what offload runs" "exit $?"; fi
else plan 1; skip "offload: demo-blocking --what offload" "no $BIN/demo-blocking"
fi
finish
