#!/usr/bin/env bash
# Fairness under a flood, for every echo server (issue 8, item 1): one client
# streams megabytes without pause — reading every echoed byte, or never
# reading — while 4 other clients make 20 round trips each. Every server does
# --work 10000 per message, so it cannot keep up with the flood: its reads
# always find data (the runtime never has to wait). The others must
# keep getting replies (each round trip within 1 s: a generous bound, this is a
# test, not a benchmark), and SIGTERM must stop the server within 2 s while the
# flood goes on. Before the runtime's fairness budget, echo-loop failed both:
# a flood whose reads and writes never wait kept the one thread for itself.
# What this cannot promise: that the flooder's data is ALWAYS ready. The
# server's receive buffer holds about 100 ms of its --work, and on a shared
# machine the flooder is often descheduled for longer, so now and then a read
# comes up short and the server waits anyway; with the budget switched off the
# worst round trip only rose from 44 to 167 ms (issue 20). The budget itself is
# tested where the data never runs dry: unit_coro's budget_* checks.
# Then the fetchers against a server whose response body never ends.
source "$(dirname "$0")/lib.sh"
CHECK="$TBIN/fair_check"
models=$MODELS

now_ms() { date +%s%3N; }

for m in $models; do
  srv="$BIN/echo-$m"
  [ -x "$srv" ] || { fail "$m: $srv is built" "missing"; continue; }
  for mode in read noread; do
    plan 2
    name="$m: flood ($mode)"
    if ! start_server "$m-$mode" "$srv" --port 0 --work 10000; then
      fail "$name: server starts" "$(cat "$TMP/$m-$mode.err")"; continue
    fi
    spid=$SPID
    "$CHECK" --port "$SPORT" --flood "$mode" --secs 30 >"$TMP/flood.out" 2>&1 &
    fpid=$!; _pids+=("$fpid")
    sleep 0.5
    if "$CHECK" --port "$SPORT" --rounds 20 --clients 4 --max-ms 1000 >"$TMP/rounds.out" 2>&1; then
      pass "$name: 4 others x 20 round trips, each within 1 s ($(sed 's/^fair_check: //' "$TMP/rounds.out" | tail -n 1))"
    else
      fail "$name: 4 others x 20 round trips, each within 1 s" "$(tr '\n' ' ' <"$TMP/rounds.out")"
    fi
    # Stop it while the flood still runs.
    if kill -0 "$fpid" 2>/dev/null; then
      t0=$(now_ms)
      stop_server "$spid" TERM
      el=$(( $(now_ms) - t0 ))
      if [ "$SRC" -eq 0 ] && [ "$el" -le 2000 ]; then
        pass "$name: SIGTERM during the flood stops it in ${el} ms, exit 0"
      else
        fail "$name: SIGTERM during the flood stops it within 2 s, exit 0" "exit $SRC after ${el} ms"
      fi
    else
      fail "$name: the flood was still running at SIGTERM" "$(cat "$TMP/flood.out")"
      stop_server "$spid" TERM
    fi
    kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null || true
  done
done

# A server that streams a chunked body of one-byte chunks without end: every
# fetcher must give up at its --timeout (2 s: not before, nor more than 3 s
# after), exit 1, and say why: "timeout after 2000 ms". The server feeds each
# connection for 20 s from its own request, so the last fetcher is fed as long
# as the first (it used to stop 60 s after it started: later fetchers then
# "failed in time" because the stream had ended). Before
# the budget, fetch-loop's reads never waited whenever the server kept ahead
# of its parser, so the deadline was never checked: in three tries on a busy
# 2-core machine it stopped after 10.1 s, 13.0 s and 2.3 s (now 2.0-2.3 s).
if start_server drip "$CHECK" --drip --secs 20; then
  dpid=$SPID
  for m in $models; do
    plan 1
    f="$BIN/fetch-$m"
    [ -x "$f" ] || { fail "$m: $f is built" "missing"; continue; }
    t0=$(now_ms)
    timeout 30 "$f" -q --timeout 2000 "http://127.0.0.1:$SPORT/stream" >"$TMP/drip.out" 2>&1; rc=$?
    el=$(( $(now_ms) - t0 ))
    if [ "$rc" -eq 1 ] && [ "$el" -ge 2000 ] && [ "$el" -le 5000 ] &&
       grep -q "failed http://127.0.0.1:$SPORT/stream: timeout after 2000 ms" "$TMP/drip.out"; then
      pass "$m: a body that never ends: fetch --timeout 2000 gives up in ${el} ms (2000-5000), exit 1, 'timeout after 2000 ms'"
    else
      fail "$m: a body that never ends: fetch --timeout 2000 gives up in 2000-5000 ms, exit 1, 'timeout after 2000 ms'" "exit $rc after ${el} ms: $(tail -n 3 "$TMP/drip.out" | tr '\n' ' ')"
    fi
  done
  stop_server "$dpid"
else
  fail "the dripping HTTP server starts" "$(cat "$TMP/drip.err")"
fi
finish
