#!/usr/bin/env bash
# End-to-end tests of the peers (peers/NAME/: the echo server and fetcher in
# Python, Node, Go and libuv; docs/peers.md), over real sockets on 127.0.0.1.
# A peer whose toolchain is missing, or that `make peers` has not built, gets
# one line "SKIP name: why" (not counted as a pass). The registry itself is
# always checked. The fetchers run tests/t_fetch.sh's checks unchanged; the
# echo servers run tests/t_echo.sh's portable checks (not --stack-kib nor the
# out-of-descriptors one: each runtime has its own policy there, docs/peers.md).
source "$(dirname "$0")/lib.sh"

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

# The echo servers: tests/t_echo.sh's checks, unchanged, those that every
# runtime must pass (ECHO_PORTABLE: not --stack-kib nor the descriptor limit).
if [ -n "$peers" ]; then
  MODELS="${peers# }" ECHO_PORTABLE=1 bash "$(dirname "$0")/t_echo.sh"
fi

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
