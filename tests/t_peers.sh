#!/usr/bin/env bash
# End-to-end tests of the peers (peers/NAME/: the echo server and fetcher in
# Python, Node, Go and libuv; docs/peers.md), over real sockets on 127.0.0.1.
# A peer whose toolchain is missing, or that `make peers` has not built, gets
# one line "SKIP name: why" (not counted as a pass). The registry itself is
# always checked. The fetchers run tests/t_fetch.sh's checks unchanged; the
# echo servers run the checks of tests/t_echo.sh but the out-of-descriptors
# one (each runtime has its own policy there: docs/peers.md).
source "$(dirname "$0")/lib.sh"
CHECK="$TBIN/echo_check"

# --- the registry: every peer folder is complete, list.sh accounts for each
bad=""
all=$(peers/list.sh --all)
for p in $all; do
  for k in connection switches order like lang packages check runtime; do
    [ -n "$(peers/list.sh --about "$p" "$k")" ] || bad="$bad $p:no-$k"
  done
  like=$(peers/list.sh --about "$p" like) # a model of the registry, or "own"
  [ "$like" = own ] || models_list | grep -qxF -- "$like" || bad="$bad $p:like"
done
avail=$(peers/list.sh 2>"$TMP/skipped")
listed=$( (echo "$avail"; sed -n 's/^skipped: \([^ ]*\) .*/\1/p' "$TMP/skipped") | sed '/^$/d' | sort | tr '\n' ' ')
while read -r line; do
  [ -n "$line" ] && echo "SKIP ${line#skipped: }" | tee -a "$TMP/skips"
done <"$TMP/skipped"

# --- which peers are built
peers=""
for p in $avail; do
  if [ -x "$BIN/echo-$p" ] && [ -x "$BIN/fetch-$p" ]; then peers="$peers $p"
  else echo "SKIP $p: not built (run make peers)" | tee -a "$TMP/skips"; fi
done
# tests/run.sh shows only PASS and FAIL lines: the registry's line names the skipped peers too.
skips=$(sed 's/^SKIP //' "$TMP/skips" 2>/dev/null | paste -sd ';' | sed 's/;/; /g')
if [ -n "$all" ] && [ -z "$bad" ] && [ "$listed" = "$(echo "$all" | sort | tr '\n' ' ')" ]; then
  pass "peers/list.sh: $(echo $all | wc -w) peers, each with a complete about.txt, each listed or skipped once; tested:${peers:- none}${skips:+; SKIPPED $skips}"
else fail "peers/list.sh: every peer registered" "problems:$bad listed='$listed' all='$(echo $all)'"; fi

for m in $peers; do
  srv="$BIN/echo-$m"
  if ! start_server "$m" "$srv" --port 0; then
    fail "$m: starts and prints its ready line" "$(cat "$TMP/$m.err")"; continue
  fi
  pass "$m: starts and prints its ready line"
  check "$m: 200 clients, random payloads, echoed byte-exactly" \
    "$CHECK" --port "$SPORT" --clients 200 --max-bytes 200000 --seed 11
  check "$m: half-close still echoes the tail, then EOF" \
    "$CHECK" --port "$SPORT" --clients 100 --halfclose --max-bytes 100000 --seed 12
  check "$m: 30 clients reset mid-message, the other 170 are undisturbed" \
    "$CHECK" --port "$SPORT" --clients 200 --resets 30 --max-bytes 100000 --seed 13
  check "$m: 1000 concurrent clients, payloads + half-closes + resets" \
    "$CHECK" --port "$SPORT" --clients 1000 --halfclose --resets 50 --max-bytes 20000 --seed 14 --timeout-s 60

  # Stop with connections open: exit 0 within 5 s, every child gone.
  "$CHECK" --port "$SPORT" --clients 20 --idle-ms 30000 --min-ok 0 --quiet >/dev/null 2>&1 &
  holder=$!; _pids+=("$holder")
  sleep 1
  kids=$(children_of "$SPID")
  stop_server "$SPID" TERM
  if [ "$SRC" -eq 0 ]; then pass "$m: SIGTERM with 20 open connections exits 0"
  else fail "$m: SIGTERM with 20 open connections exits 0" "exit status $SRC"; fi
  left=""
  for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
  if [ -z "$left" ]; then pass "$m: no child process left behind ($(echo $kids | wc -w) children before the stop)"
  else fail "$m: no child process left behind" "still there:$left"; fi
  kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

  if start_server "$m-int" "$srv" --port 0; then
    stop_server "$SPID" INT
    [ "$SRC" -eq 0 ] && pass "$m: SIGINT exits 0" || fail "$m: SIGINT exits 0" "exit status $SRC"
  else fail "$m: SIGINT exits 0" "did not start"; fi

  # Bad flags: exit 2 and one line that names the flag.
  "$srv" --port 99999 >/dev/null 2>"$TMP/err"; rc=$?
  if [ $rc -eq 2 ] && grep -q -- '--port' "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
    pass "$m: --port 99999 is refused with exit 2 and one line naming --port"
  else fail "$m: --port 99999 is refused with exit 2 and one line naming --port" "rc=$rc: $(cat "$TMP/err")"; fi
  "$srv" --frobnicate >/dev/null 2>"$TMP/err"; rc=$?
  if [ $rc -eq 2 ] && grep -q -- '-frobnicate' "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
    pass "$m: unknown flag exits 2 with one line naming it"
  else fail "$m: unknown flag exits 2 with one line naming it" "rc=$rc: $(cat "$TMP/err")"; fi
  "$srv" --help >"$TMP/help" 2>&1; rc=$?
  [ $rc -eq 0 ] && grep -q -- '--port' "$TMP/help" && grep -q -- '--bind' "$TMP/help" && pass "$m: --help lists the flags" \
    || fail "$m: --help lists the flags" "rc=$rc"

  # CPU work per message (--work, models/common/work.c in each language) keeps the echo exact.
  if grep -q -- '--work' "$TMP/help"; then
    if start_server "$m-work" "$srv" --port 0 --work 50; then
      check "$m: --work 50 still echoes byte-exactly" "$CHECK" --port "$SPORT" --clients 50 --max-bytes 50000 --seed 15 --timeout-s 60
      stop_server "$SPID"
    else fail "$m: --work 50 still echoes byte-exactly" "did not start"; fi
  else echo "SKIP $m: --work is not offered"; fi

  # A port in use: one clear line, non-zero exit, no hang.
  if start_server "$m-busy" "$srv" --port 0; then
    busy=$SPORT; bpid=$SPID
    timeout 5 "$srv" --port "$busy" >/dev/null 2>"$TMP/err"; rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'in use' "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
      pass "$m: a port in use gives one clear error"
    else fail "$m: a port in use gives one clear error" "rc=$rc: $(cat "$TMP/err")"; fi
    stop_server "$bpid"
  else fail "$m: a port in use gives one clear error" "did not start"; fi
done

# The fetchers: tests/t_fetch.sh's checks, unchanged, with the peers as its
# models (its lines about fetch-epoll and bin/measure are not the peers': dropped).
if [ -n "$peers" ]; then
  MODELS="${peers# }" bash "$(dirname "$0")/t_fetch.sh" | grep -Ev '^(PASS|FAIL) (fetch-epoll|measure):'
fi

# Beyond t_fetch.sh: the URL rules are http_url_parse's, word for word — each
# refused URL gets fetch-loop's own line (the program's name aside), exit 2.
for m in $peers; do
  diffs=""
  for u in "https://127.0.0.1/" "http://example.com/" "http://1.2.3.256/" "http:///x" "http://127.0.0.1:0/" \
           "http://127.0.0.1:99999/" "http://127.0.0.1:+80/" "http://127.0.0.1:-1/" "http://127.0.0.1:80x/" \
           "http://127.0.0.1/a b" "http://127.0.0.1/é"; do
    "$BIN/fetch-loop" "$u" >/dev/null 2>"$TMP/want"
    timeout 10 "$BIN/fetch-$m" "$u" >/dev/null 2>"$TMP/err"; rc=$?
    want=$(sed 's/^fetch-loop://' "$TMP/want"); got=$(sed "s/^fetch-$m://" "$TMP/err")
    [ "$rc" -eq 2 ] && [ -n "$want" ] && [ "$got" = "$want" ] || diffs="$diffs '$u': rc=$rc got[$got] want[$want];"
  done
  [ -z "$diffs" ] && pass "$m: 11 refused URLs get fetch-loop's one-line reason and exit 2" ||
    fail "$m: refused URLs get fetch-loop's one-line reason and exit 2" "$diffs"
done

# A 204 has no body, whatever its Content-Length says (RFC 9110 6.4.1):
# build/tests/badhttpd's late-body-204 announces 5 bytes and sends them late.
if [ -n "$peers" ] && start_server badhttpd "$TBIN/badhttpd" --port 0; then
  for m in $peers; do
    timeout 30 "$BIN/fetch-$m" -n 2 --timeout 3000 "http://127.0.0.1:$SPORT/late-body-204" >"$TMP/out" 2>"$TMP/err"; rc=$?
    [ "$rc" -eq 0 ] && grep -q "fetched 2, failed 0, bytes 0," "$TMP/out" &&
      pass "$m: a 204 with a Content-Length is a success with no body" ||
      fail "$m: a 204 with a Content-Length is a success with no body" "rc=$rc $(head -c 200 "$TMP/out") $(head -c 200 "$TMP/err")"
  done
  stop_server "$SPID"
elif [ -n "$peers" ]; then fail "badhttpd starts" "$(cat "$TMP/badhttpd.err" 2>/dev/null)"; fi
