#!/usr/bin/env bash
# End-to-end tests of bin/fetchd, the HTTP target server, over real sockets on
# 127.0.0.1: with curl for well-behaved HTTP and bash's /dev/tcp for raw bytes.
source "$(dirname "$0")/lib.sh"
FETCHD="$BIN/fetchd"

# expect NAME WANT GOT — pass if the two strings are equal
expect() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "wanted '$2', got '$3'"; fi; }

# raw PORT FORMAT — send printf FORMAT on a fresh connection, then print all the
# server sends until it closes (at most 10 s: a server that never closes fails).
raw() {
  # (SIGPIPE ignored: a server that answers and closes early may reset the
  # connection while printf still writes; what it sent is still read.)
  timeout 10 bash -c 'trap "" PIPE; exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 7; printf "$2" >&3 2>/dev/null; cat <&3 2>/dev/null; exit 0' _ "$1" "$2"
}

# status_of TEXT — the status code of the first status line in TEXT
status_of() { printf '%s' "$1" | head -n 1 | sed -n 's|^HTTP/1\.1 \([0-9]*\) .*|\1|p'; }

# get URL_PATH — curl the running server, body to stdout
get() { curl -s --max-time 20 "http://127.0.0.1:$SPORT$1"; }

plan 72 # all but the slowloris block's
# --- flags ------------------------------------------------------------------------
"$FETCHD" --frobnicate >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- '--frobnicate' "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
  pass "unknown flag: exit 2, one line naming it" || fail "unknown flag: exit 2, one line naming it" "rc=$rc: $(cat "$TMP/err")"
"$FETCHD" --max-conns abc >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- '--max-conns' "$TMP/err" &&
  pass "malformed --max-conns: exit 2 naming it" || fail "malformed --max-conns: exit 2 naming it" "rc=$rc: $(cat "$TMP/err")"
"$FETCHD" --port 70000 >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- '--port' "$TMP/err" &&
  pass "--port 70000: exit 2 naming it" || fail "--port 70000: exit 2 naming it" "rc=$rc: $(cat "$TMP/err")"
"$FETCHD" --help >"$TMP/help" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q -- '--max-delay-ms' "$TMP/help" && grep -q -- '--timeout-ms' "$TMP/help" &&
  pass "--help lists the flags" || fail "--help lists the flags" "rc=$rc"

# --- the pattern, checked against an independent copy of pattern.h's formula -----
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "%c", (i % 64 == 63) ? 10 : 97 + (int(i / 64) + i % 64) % 26 }' >"$TMP/awk.pat"
"$FETCHD" --print-pattern 5000 >"$TMP/p5000"
check "--print-pattern 5000 matches pattern_byte(i) computed by awk" cmp "$TMP/awk.pat" "$TMP/p5000"

if ! start_server main "$FETCHD" --port 0 --max-bytes 50000000 --max-delay-ms 10000; then
  fail "starts and prints its ready line" "$(cat "$TMP/main.err")"; exit 1
fi
pass "starts and prints its ready line"
grep -qx "listening on 127.0.0.1:$SPORT" "$TMP/main.out" && pass "ready line is exactly 'listening on 127.0.0.1:PORT'" ||
  fail "ready line is exactly 'listening on 127.0.0.1:PORT'" "$(cat "$TMP/main.out")"

# --- /bytes/N, plain and chunked ------------------------------------------------
"$FETCHD" --print-pattern 20000000 >"$TMP/big.pat"
for n in 0 1 63 64 65 1000 65536 100001 3000000 20000000; do
  head -c "$n" "$TMP/big.pat" >"$TMP/want"
  get "/bytes/$n" >"$TMP/got"
  check "/bytes/$n: $n bytes of the pattern" cmp "$TMP/want" "$TMP/got"
  get "/bytes/$n?chunked=1" >"$TMP/got"
  check "/bytes/$n?chunked=1: decodes to the same bytes" cmp "$TMP/want" "$TMP/got"
done
curl -s -D "$TMP/hdr" -o /dev/null "http://127.0.0.1:$SPORT/bytes/1234"
grep -qi '^Content-Length: 1234' "$TMP/hdr" && grep -qi '^Content-Type: application/octet-stream' "$TMP/hdr" &&
  pass "/bytes/1234 headers: Content-Length 1234, application/octet-stream" ||
  fail "/bytes/1234 headers: Content-Length 1234, application/octet-stream" "$(tr '\r\n' '  ' <"$TMP/hdr")"
curl -s --raw -D "$TMP/hdr" "http://127.0.0.1:$SPORT/bytes/100000?chunked=1" -o "$TMP/rawchunks"
nchunks=$(grep -ac $'^[0-9a-f]*\r$' "$TMP/rawchunks")
grep -qi '^Transfer-Encoding: chunked' "$TMP/hdr" && ! grep -qi '^Content-Length' "$TMP/hdr" && [ "$nchunks" -ge 5 ] &&
  pass "?chunked=1 sends Transfer-Encoding: chunked in several chunks ($nchunks size lines)" ||
  fail "?chunked=1 sends Transfer-Encoding: chunked in several chunks" "$nchunks size lines; $(tr '\r\n' '  ' <"$TMP/hdr")"
sizes=$(grep -a $'^[0-9a-f]*\r$' "$TMP/rawchunks" | tr -d '\r' | sort -u | wc -l)
[ "$sizes" -ge 4 ] && pass "chunks vary in size ($sizes distinct sizes)" || fail "chunks vary in size" "$sizes distinct sizes"
head -c 777 "$TMP/big.pat" >"$TMP/want"
get "/bytes/777?delay_ms=50&chunked=1" >"$TMP/got"
check "query parameters combine: /bytes/777?delay_ms=50&chunked=1" cmp "$TMP/want" "$TMP/got"
curl -s -I "http://127.0.0.1:$SPORT/bytes/100" >"$TMP/head" 2>&1
out=$(raw "$SPORT" 'HEAD /bytes/100 HTTP/1.1\r\nConnection: close\r\n\r\n')
grep -qi '^Content-Length: 100' "$TMP/head" && [ "$(printf '%s' "$out" | sed -n '/^\r$/,$p' | wc -c)" -le 2 ] &&
  pass "HEAD /bytes/100: Content-Length 100 and no body" || fail "HEAD /bytes/100: Content-Length 100 and no body" "$out"
get / | grep -q '/fault/truncate/N' && pass "GET / lists the endpoints" || fail "GET / lists the endpoints" ""

# --- connections: keep-alive, HTTP/1.0, pipelining --------------------------------
curl -sv -o /dev/null -o /dev/null "http://127.0.0.1:$SPORT/bytes/10" "http://127.0.0.1:$SPORT/bytes/20" 2>"$TMP/v"
grep -qi 're-using existing connection' "$TMP/v" && [ "$(grep -c 'Connected to' "$TMP/v")" -eq 1 ] &&
  pass "keep-alive: curl fetches two URLs over one connection" ||
  fail "keep-alive: curl fetches two URLs over one connection" "$(grep -iE 'connect|re-us' "$TMP/v" | tr '\n' ' ')"
out=$(raw "$SPORT" 'GET /bytes/5 HTTP/1.0\r\n\r\n'); rc=$?
[ $rc -eq 0 ] && [ "$(status_of "$out")" = 200 ] && printf '%s' "$out" | tail -c 5 | grep -qx abcde &&
  pass "HTTP/1.0 without keep-alive: answered, then closed" || fail "HTTP/1.0 without keep-alive: answered, then closed" "rc=$rc: $out"
out=$(raw "$SPORT" 'GET /bytes/5?chunked=1 HTTP/1.0\r\n\r\n')
printf '%s' "$out" | grep -qi '^Content-Length: 5' && ! printf '%s' "$out" | grep -qi '^Transfer-Encoding' &&
  pass "HTTP/1.0 asking chunked=1 gets Content-Length (1.0 has no chunked coding)" ||
  fail "HTTP/1.0 asking chunked=1 gets Content-Length (1.0 has no chunked coding)" "$out"
out=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf "GET /bytes/3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" >&3
  read -r -t 5 line <&3; echo "$line"; sleep 0.3; printf "GET /bytes/4 HTTP/1.1\r\nConnection: close\r\n\r\n" >&3; cat <&3' _ "$SPORT")
[ "$(printf '%s\n' "$out" | grep -o 'HTTP/1.1 200' | wc -l)" -eq 2 ] &&
  pass "HTTP/1.0 with Connection: keep-alive stays open for a second request" ||
  fail "HTTP/1.0 with Connection: keep-alive stays open for a second request" "$out"
out=$(raw "$SPORT" 'GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/7 HTTP/1.1\r\nConnection: close\r\n\r\n')
# each body is the line after a blank line, up to the next status line
bodies=$(printf '%s\n' "$out" | tr -d '\r' | awk 'blank { sub(/HTTP\/1\.1.*/, ""); printf "%s ", $0 } { blank = ($0 == "") }')
[ "$(printf '%s\n' "$out" | grep -o 'HTTP/1.1 200' | wc -l)" -eq 3 ] && [ "$bodies" = "abc abcde abcdefg " ] &&
  pass "three pipelined requests in one write: answered in order" || fail "three pipelined requests in one write: answered in order" "bodies '$bodies'"

# --- delay_ms holds one answer, not the others ----------------------------------
start=$(date +%s%N)
curl -s -o "$TMP/slow" "http://127.0.0.1:$SPORT/bytes/10?delay_ms=3000" &
slow=$!; _pids+=("$slow")
sleep 0.2
get /bytes/10 >"$TMP/fast"; fast_ms=$((($(date +%s%N) - start) / 1000000))
if kill -0 "$slow" 2>/dev/null && [ "$(cat "$TMP/fast")" = abcdefghij ]; then
  pass "a fast request is answered while a delay_ms=3000 one waits (${fast_ms} ms)"
else fail "a fast request is answered while a delay_ms=3000 one waits" "the slow one was done first (${fast_ms} ms)"; fi
wait "$slow"; slow_ms=$((($(date +%s%N) - start) / 1000000))
[ "$slow_ms" -ge 2950 ] && [ "$(cat "$TMP/slow")" = abcdefghij ] &&
  pass "delay_ms=3000 holds the answer at least 3 s (${slow_ms} ms)" || fail "delay_ms=3000 holds the answer at least 3 s" "${slow_ms} ms"
urls=(); for i in $(seq 1 200); do urls+=(-o /dev/null "http://127.0.0.1:$SPORT/bytes/$((i * 10))?delay_ms=500"); done
got=$(curl -s -Z --parallel-max 200 --max-time 60 -w '%{http_code} %{size_download}\n' "${urls[@]}" 2>/dev/null | awk '$1 == 200 { n++; b += $2 } END { print n + 0, b + 0 }')
expect "200 concurrent delay_ms=500 requests all answered in full" "200 201000" "$got"

# --- bad requests: the right status, closed, and the server still serves ----------
bad() { # NAME WANT_STATUS REQUEST_FORMAT
  local out rc st
  out=$(raw "$SPORT" "$3"); rc=$?; st=$(status_of "$out")
  if [ $rc -eq 0 ] && [ "$st" = "$2" ] && [ "$(get /bytes/2)" = ab ]; then pass "$1: $2, closed, server still serves"
  else fail "$1: $2, closed, server still serves" "rc=$rc status='$st': $(printf '%s' "$out" | head -c 200 | tr '\r\n' '  ')"; fi
}
bad "malformed request line" 400 'GARBAGE\r\n\r\n'
bad "request line without version" 400 'GET /bytes/1\r\n\r\n'
bad "header line without a colon" 400 'GET /bytes/1 HTTP/1.1\r\nNoColonHere\r\n\r\n'
bad "space before the colon" 400 'GET /bytes/1 HTTP/1.1\r\nHost : x\r\n\r\n'
bad "unknown path" 404 'GET /nope HTTP/1.1\r\n\r\n'
bad "/bytes/N/extra" 404 'GET /bytes/5/x HTTP/1.1\r\n\r\n'
bad "POST" 405 'POST /bytes/1 HTTP/1.1\r\n\r\n'
bad "DELETE" 405 'DELETE / HTTP/1.1\r\n\r\n'
bad "Content-Length: 5 (a body)" 413 'GET /bytes/1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello'
bad "Transfer-Encoding (a body)" 413 'GET /bytes/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
bad "malformed Content-Length" 400 'GET /bytes/1 HTTP/1.1\r\nContent-Length: x\r\n\r\n'
bad "N not a number" 400 'GET /bytes/12ab HTTP/1.1\r\n\r\n'
bad "N negative" 400 'GET /bytes/-1 HTTP/1.1\r\n\r\n'
bad "N above --max-bytes" 400 'GET /bytes/50000001 HTTP/1.1\r\n\r\n'
bad "N with 30 digits" 400 'GET /bytes/123456789012345678901234567890 HTTP/1.1\r\n\r\n'
bad "delay_ms above --max-delay-ms" 400 'GET /bytes/1?delay_ms=10001 HTTP/1.1\r\n\r\n'
bad "unknown query parameter" 400 'GET /bytes/1?dealy_ms=5 HTTP/1.1\r\n\r\n'
bad "HTTP/2.0" 505 'GET / HTTP/2.0\r\n\r\n'
big=$(head -c 9000 /dev/zero | tr '\0' a)
bad "header section over 8 KiB" 431 "GET /bytes/1 HTTP/1.1\r\nX-Big: $big\r\n\r\n"
bad "request line over 8 KiB" 431 "GET /$big HTTP/1.1\r\n\r\n"
out=$(raw "$SPORT" 'GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n')
printf '%s' "$out" | grep -q '^404 Not Found: ' && printf '%s' "$out" | grep -qi '^Content-Length: ' &&
  pass "an error carries a short body with its Content-Length" || fail "an error carries a short body with its Content-Length" "$out"

# Garbage: random bytes on 5 connections at once, then a good request.
junk=()
for i in 1 2 3 4 5; do
  timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; head -c 100000 /dev/urandom >&3; cat <&3 >/dev/null' _ "$SPORT" 2>/dev/null &
  junk+=("$!"); _pids+=("$!")
done
wait "${junk[@]}" # (a bare `wait` would also wait for the server)
kill -0 "$SPID" 2>/dev/null && [ "$(get /bytes/3)" = abc ] &&
  pass "100 kB of random bytes on 5 connections: server alive and serving" ||
  fail "100 kB of random bytes on 5 connections: server alive and serving" ""
out=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf "GET /bytes/1 HTTP/1.1\r\n\0\r\n\r\n" >&3; cat <&3' _ "$SPORT" | tr -d '\0')
expect "a NUL byte in the header section: 400" 400 "$(status_of "$out")"

# --- faults --------------------------------------------------------------------
curl -s --max-time 10 -o "$TMP/trunc" "http://127.0.0.1:$SPORT/fault/truncate/1000"; rc=$?
expect "/fault/truncate/1000: curl sees a partial body (exit 18) of 500 bytes" "18 500" "$rc $(wc -c <"$TMP/trunc")"
out=$(raw "$SPORT" 'GET /fault/truncate/1000 HTTP/1.1\r\n\r\n')
printf '%s' "$out" | grep -qi '^Content-Length: 1000' && pass "/fault/truncate/1000 announces Content-Length: 1000" ||
  fail "/fault/truncate/1000 announces Content-Length: 1000" "$out"
curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$SPORT/fault/status"; rc=$?
[ $rc -ne 0 ] && pass "/fault/status: curl rejects the status line (exit $rc)" || fail "/fault/status: curl rejects the status line" "exit 0"
curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$SPORT/fault/close"; rc=$?
expect "/fault/close: curl sees an empty reply (exit 52)" 52 "$rc"
curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$SPORT/fault/reset"; rc=$?
expect "/fault/reset: curl sees a reset (exit 56)" 56 "$rc"
out=$(raw "$SPORT" 'GET /fault/badlength HTTP/1.1\r\n\r\n')
printf '%s' "$out" | grep -q $'^Content-Length: abc\r$' && pass "/fault/badlength sends Content-Length: abc" ||
  fail "/fault/badlength sends Content-Length: abc" "$out"
[ "$(get /bytes/4)" = abcd ] && pass "after every fault the server still serves" || fail "after every fault the server still serves" ""

# --- stop ----------------------------------------------------------------------
exec 5<>"/dev/tcp/127.0.0.1/$SPORT" # one idle connection and one mid-delay
printf 'GET /bytes/1?delay_ms=9000 HTTP/1.1\r\n\r\n' >&5
exec 6<>"/dev/tcp/127.0.0.1/$SPORT"
sleep 0.2
stop_server "$SPID" TERM
expect "SIGTERM with open connections: exit 0" 0 "$SRC"
exec 5>&- 6>&-

# --- slowloris guard, connection cap, port in use, SIGINT -----------------------
if start_server slow "$FETCHD" --port 0 --timeout-ms 1000 --max-conns 3; then
  plan 6
  start=$(date +%s%N)
  out=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf "GET /bytes/1 HTTP/1.1\r\nX-Slow: " >&3; cat <&3' _ "$SPORT"); rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  [ $rc -eq 0 ] && [ "$(status_of "$out")" = 408 ] && [ "$ms" -ge 900 ] &&
    pass "a half-sent request gets 408 and a close after --timeout-ms (${ms} ms)" ||
    fail "a half-sent request gets 408 and a close after --timeout-ms" "rc=$rc after ${ms} ms: $out"
  out=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; cat <&3' _ "$SPORT"); rc=$?
  [ $rc -eq 0 ] && [ -z "$out" ] && pass "an idle connection is closed after --timeout-ms" ||
    fail "an idle connection is closed after --timeout-ms" "rc=$rc: $out"
  # Three connections held by a trickle (each byte restarts nothing: the
  # deadline is per request), the fourth is refused with 503.
  exec 7<>"/dev/tcp/127.0.0.1/$SPORT" 8<>"/dev/tcp/127.0.0.1/$SPORT" 9<>"/dev/tcp/127.0.0.1/$SPORT"
  sleep 0.2
  out=$(raw "$SPORT" 'GET /bytes/1 HTTP/1.1\r\n\r\n')
  expect "--max-conns 3: a fourth connection gets 503" 503 "$(status_of "$out")"
  exec 7>&- 8>&- 9>&-
  sleep 0.3
  [ "$(curl -s --max-time 5 "http://127.0.0.1:$SPORT/bytes/2")" = ab ] &&
    pass "--max-conns 3: serves again once connections close" || fail "--max-conns 3: serves again once connections close" ""
  "$FETCHD" --port "$SPORT" >/dev/null 2>"$TMP/err"; rc=$?
  [ $rc -ne 0 ] && [ $rc -ne 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "$SPORT" "$TMP/err" &&
    pass "port in use: one line naming the port, exit $rc" || fail "port in use: one line naming the port" "rc=$rc: $(cat "$TMP/err")"
  stop_server "$SPID" INT
  expect "SIGINT: exit 0" 0 "$SRC"
else
  plan 1; fail "second server starts" "$(cat "$TMP/slow.err")"
fi
finish
