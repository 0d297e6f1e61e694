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
source "$(dirname "$0")/lib.sh"
CHECK="$TBIN/fair_check"
models=$(scripts/models.sh)

now_ms() { date +%s%3N; }

for m in $models; do
  srv="$BIN/echo-$m"
  [ -x "$srv" ] || { fail "$m: $srv is built" "missing"; continue; }
  for mode in read noread; do
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
    kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null
  done
done
