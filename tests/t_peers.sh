#!/usr/bin/env bash
# timeout: 900
# End-to-end tests of the peers (peers/NAME/: the echo server and fetcher in
# Python, Node, Go and libuv; docs/peers.md), over real sockets on 127.0.0.1.
# A peer whose toolchain is missing, or that `make peers` has not built, gets
# one line "SKIP name: why" (a skip, never a pass). The registry itself is
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
while read -r line; do # "skipped: NAME (why)"
  [ -n "$line" ] || continue
  line=${line#skipped: }; echo "$line" >>"$TMP/skips"
  plan 1; skip "${line%% *}" "${line#* }"
done <"$TMP/skipped"

# --- which peers are built
peers=""
for p in $avail; do
  if [ -x "$BIN/echo-$p" ] && [ -x "$BIN/fetch-$p" ]; then peers="$peers $p"
  else echo "$p: not built (run make peers)" >>"$TMP/skips"; plan 1; skip "$p" "not built (run make peers)"; fi
done
# The registry's line names the skipped peers too.
skips=$(paste -sd ';' "$TMP/skips" 2>/dev/null | sed 's/;/; /g')
plan 1
if [ -n "$all" ] && [ -z "$bad" ] && [ "$listed" = "$(echo "$all" | sort | tr '\n' ' ')" ]; then
  pass "peers/list.sh: $(echo $all | wc -w) peers, each with a complete about.txt, each listed or skipped once; tested:${peers:- none}${skips:+; SKIPPED $skips}"
else fail "peers/list.sh: every peer registered" "problems:$bad listed='$listed' all='$(echo $all)'"; fi

# The echo servers: tests/t_echo.sh's checks, unchanged, those that every
# runtime must pass (ECHO_PORTABLE: not --stack-kib nor the descriptor limit).
if [ -n "$peers" ]; then
  nested_suite "t_echo.sh on the peers" env MODELS="${peers# }" ECHO_PORTABLE=1 bash "$(dirname "$0")/t_echo.sh"
fi

# The fetchers: tests/t_fetch.sh's checks, unchanged, with the peers as its
# models (FETCH_MODELS_ONLY: its checks of fetch-epoll and bin/measure are not the peers').
if [ -n "$peers" ]; then
  nested_suite "t_fetch.sh on the peers" env MODELS="${peers# }" FETCH_MODELS_ONLY=1 bash "$(dirname "$0")/t_fetch.sh"
fi

# Beyond t_fetch.sh: the URL rules are http_url_parse's, word for word — each
# refused URL gets fetch-loop's own line (the program's name aside), exit 2.
for m in $peers; do
  plan 1
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
    plan 1
    timeout 30 "$BIN/fetch-$m" -n 2 --timeout 3000 "http://127.0.0.1:$SPORT/late-body-204" >"$TMP/out" 2>"$TMP/err"; rc=$?
    [ "$rc" -eq 0 ] && grep -q "fetched 2, failed 0, bytes 0," "$TMP/out" &&
      pass "$m: a 204 with a Content-Length is a success with no body" ||
      fail "$m: a 204 with a Content-Length is a success with no body" "rc=$rc $(head -c 200 "$TMP/out") $(head -c 200 "$TMP/err")"
  done
  stop_server "$SPID"
elif [ -n "$peers" ]; then plan 1; fail "badhttpd starts" "$(cat "$TMP/badhttpd.err" 2>/dev/null)"; fi

# --- PEERS in the runners (peers/list.sh --bench; docs/peers.md) --------------
# Without PEERS the runners' list is the registry's, untouched, and nothing is said.
plan 2
got=$(PEERS= peers/list.sh --bench echo 2>"$TMP/bench.err" | paste -sd ' ' -)
[ "$got" = "$(models_list | paste -sd ' ' -)" ] && [ ! -s "$TMP/bench.err" ] &&
  pass "runners: without PEERS, the models only, nothing said" ||
  fail "runners: without PEERS, the models only, nothing said" "got '$got'; stderr: $(head -c 200 "$TMP/bench.err")"
# PEERS=1 with two toolchains "missing" (PEERS_MISSING): ONE line each, the others listed after the models.
miss="node go"
got=$(PEERS=1 PEERS_MISSING="$miss" peers/list.sh --bench echo 2>"$TMP/bench.err" | paste -sd ' ' -)
want="$(models_list | paste -sd ' ' -)"
for p in $peers; do [[ " $miss " == *" $p "* ]] || want="$want $p"; done
lines=$(grep -c . "$TMP/bench.err")
nmiss=$(for p in $miss; do grep -c "^peers: skipped $p (no " "$TMP/bench.err"; done | paste -sd ' ' -)
unbuilt=$(for p in $avail; do [[ " $peers " == *" $p "* || " $miss " == *" $p "* ]] || echo "$p"; done | grep -c .)
[ "$got" = "$want" ] && [ "$nmiss" = "1 1" ] && [ "$lines" -eq $((2 + unbuilt)) ] &&
  pass "runners: PEERS=1 adds the built peers after the models; a missing toolchain is one line ($(grep -m1 'skipped node' "$TMP/bench.err"))" ||
  fail "runners: PEERS=1 adds the built peers, one line per missing toolchain" "got '$got', want '$want'; stderr: $(tr '\n' ';' <"$TMP/bench.err")"
# A real runner, end to end: make bench's script with one peer, the others "missing".
one=$(echo $peers | cut -d' ' -f1)
if [ -n "$one" ]; then
  plan 2
  others=$(peers/list.sh --all | grep -vxF "$one" | paste -sd , -)
  PEERS=1 PEERS_MISSING="$others" BENCH_OUT="$TMP/bench" BENCH_ARGS="--conns 2 --secs 0.3 --reps 1" \
    timeout 120 scripts/bench-echo.sh >"$TMP/run.out" 2>"$TMP/run.err"; rc=$?
  skips=$(grep -c '^peers: skipped ' "$TMP/run.err")
  rows=$(awk -F, -v p="$one" '$1 == p' "$TMP/bench/echo.csv" 2>/dev/null | grep -c .)
  [ "$rc" -eq 0 ] && [ "$skips" -eq "$(echo "$others" | tr , '\n' | grep -c .)" ] && [ "$rows" -ge 1 ] &&
    ! grep -qE "^(${others//,/|}),?" <(cut -d, -f1 "$TMP/bench/echo.csv") &&
    pass "runners: make bench PEERS=1 measures $one beside the models, skips the $skips others with one line each, exits 0" ||
    fail "runners: make bench PEERS=1 with missing toolchains" "rc=$rc skips=$skips rows=$rows; $(grep -v '^\[' "$TMP/run.err" | tail -n 3 | tr '\n' ' ')"
  # c10k takes a peer's name and gives it no flag it lacks
  timeout 60 "$BIN/c10k" --model "$one" --conns 5 --reps 1 --settle-ms 100 --no-cgroup >"$TMP/c10k.csv" 2>"$TMP/c10k.err"; rc=$?
  [ "$rc" -eq 0 ] && grep -q "^$one,5,1," "$TMP/c10k.csv" && pass "runners: bin/c10k --model $one (a peer) measures it" ||
    fail "runners: bin/c10k --model $one (a peer)" "rc=$rc $(tail -n 2 "$TMP/c10k.err" | tr '\n' ' ')"
fi
plan 1
# Charts: a peer is dashed, in a colour of its own, "(peer)" in the key; the
# definitions load through gnuplot -e (one line), as every chart script passes them.
read -r _ pc _ pd pt <<<"$(scripts/palette.sh node)"; read -r _ lc _ ld _ <<<"$(scripts/palette.sh loop)"
title=$(gnuplot -e "$(scripts/palette.sh --gnuplot node)" -e 'print model_title("node"), model_dash("node"), model_dash("loop")' 2>&1)
[ "$pd" = 2 ] && [ "$ld" = 1 ] && [ "$pc" != "$lc" ] && [ "$title" = "node (peer) 2 1" ] &&
  pass "charts: a peer is dashed with a colour of its own and '(peer)' in the key; a model solid" ||
  fail "charts: a peer dashed, a model solid" "node: $pc $pd '$pt'; loop: $lc $ld; gnuplot: $title"
finish
