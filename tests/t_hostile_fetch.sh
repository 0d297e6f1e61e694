#!/usr/bin/env bash
# The hostile HTTP suite: every fetcher (scripts/models.sh) against a server
# that lies, floods, drips, stalls and vanishes (build/tests/badhttpd, one
# behaviour per path), and bin/fetchd against slow, trickling, pipelining and
# oversized clients. Over real sockets on 127.0.0.1.
#
# A fetcher must end every such fetch with exit 1 and one clear reason, within
# its --timeout plus a margin, in bounded memory, never crashing. Bounds are
# generous (a noisy shared machine): this checks behaviour, not speed.
source "$(dirname "$0")/lib.sh"

TIMEOUT_MS=1000
MARGIN_S=2.5        # wall time allowed beyond --timeout
MAXRSS_KIB=65536    # no fetcher process may grow past this (bin/measure's maxrss_kib)

if ! start_server badhttpd "$TBIN/badhttpd" --port 0; then
  fail "badhttpd starts" "$(cat "$TMP/badhttpd.err" 2>/dev/null)"; exit 0
fi
BPID=$SPID
B="http://127.0.0.1:$SPORT"
# conns — how many connections badhttpd has accepted, this one included
conns() { curl -s --max-time 5 "$B/conns" || echo 0; }

# hostile MODEL PATH REASON — two fetches of PATH at -c 2: both fail with
# REASON, exit 1, within the time and memory bounds, no crash. When REASON is
# a timeout, not before it either: the wall time measured is at least
# --timeout (the two fetches run at once).
hostile() {
  local m=$1 path=$2 reason=$3 csv="$TMP/m.csv"
  rm -f "$csv"
  timeout 30 "$BIN/measure" --out "$csv" --label x -- \
    "$BIN/fetch-$m" -c 2 -n 2 --timeout "$TIMEOUT_MS" "$B/$path" >"$TMP/out" 2>"$TMP/err"
  local rc=$? row wall rss
  row=$(tail -n 1 "$csv" 2>/dev/null)
  wall=$(echo "$row" | cut -d, -f3); rss=$(echo "$row" | cut -d, -f6)
  local lines; lines=$(grep -c "failed $B/$path: " "$TMP/err")
  local least=0
  case $reason in "timeout after "*) least=$(awk -v t="$TIMEOUT_MS" 'BEGIN { print t / 1000 }') ;; esac
  if [ "$rc" -eq 1 ] && grep -q "failed 2," "$TMP/out" && [ "$lines" -eq 2 ] &&
     grep -q -- "failed $B/$path: $reason" "$TMP/err" &&
     awk -v w="$wall" -v t="$TIMEOUT_MS" -v m="$MARGIN_S" -v l="$least" 'BEGIN { exit !(w != "" && w >= l && w <= t / 1000 + m) }' &&
     [ -n "$rss" ] && [ "$rss" -le "$MAXRSS_KIB" ]; then
    pass "$m: /$path -> '$reason' (${wall} s, ${rss} KiB)"
  else
    fail "$m: /$path -> '$reason' in ${least}-$(awk -v t="$TIMEOUT_MS" -v m="$MARGIN_S" 'BEGIN { print t / 1000 + m }') s" "rc=$rc wall=${wall}s rss=${rss}KiB out=$(head -c 150 "$TMP/out") err=$(head -n 2 "$TMP/err" | tr '\n' '|' | head -c 300)"
  fi
}

for m in $MODELS; do
  plan 25 # 22 behaviours, reuse after a clean answer, the late 204, the fragment
  hostile "$m" cl-huge            "Content-Length too large"
  hostile "$m" cl-negative        "malformed Content-Length"
  hostile "$m" cl-lie             "truncated body: 10 of 1000000000 bytes"
  hostile "$m" chunk-overflow     "chunk size too large"
  hostile "$m" chunk-negative     "malformed chunk size line"
  hostile "$m" endless-headers    "headers longer than 32768 bytes"
  hostile "$m" endless-line       "header line longer than 4096 bytes"
  hostile "$m" endless-trailers   "more than 64 trailer lines"
  hostile "$m" endless-chunk-line "chunk size line longer than 4096 bytes"
  hostile "$m" endless-interim    "more than 8 interim (1xx) responses"
  hostile "$m" drip               "timeout after $TIMEOUT_MS ms"
  hostile "$m" stream             "timeout after $TIMEOUT_MS ms"
  hostile "$m" chunk-stream       "timeout after $TIMEOUT_MS ms"
  hostile "$m" early-close        "connection closed in the headers"
  hostile "$m" rst                "connection reset by peer"
  hostile "$m" rst-body           "connection reset by peer"
  hostile "$m" te-gzip            "unsupported Transfer-Encoding 'gzip, chunked'"
  hostile "$m" te-cl              "both Transfer-Encoding and Content-Length"
  hostile "$m" te-http10          "Transfer-Encoding in an HTTP/1.0 response"
  hostile "$m" nul-header         "NUL byte in a header line"
  hostile "$m" bare-cr            "bare CR in a header line"
  hostile "$m" switching          "unexpected 101 Switching Protocols"

  # A 204 that announces a body and sends it late must not be reused: the
  # late "hello" would be read as the next answer's status line. Counted at
  # the server (GET /conns): three fetches, three connections; and, so that a
  # fetcher that never reuses anything cannot pass, three fetches of a clean
  # answer on one.
  c0=$(conns)
  timeout 30 "$BIN/fetch-$m" --keepalive -c 1 -n 3 --timeout "$TIMEOUT_MS" "$B/ok" >"$TMP/out" 2>"$TMP/err"; rc=$?
  used=$(( $(conns) - c0 - 1 ))   # the second /conns is a connection too
  [ "$rc" -eq 0 ] && grep -q "fetched 3, failed 0," "$TMP/out" && [ "$used" -eq 1 ] &&
    pass "$m: --keepalive reuses its connection after a clean answer (3 fetches, 1 connection)" ||
    fail "$m: --keepalive reuses its connection after a clean answer (3 fetches, 1 connection)" "rc=$rc, $used connections: $(head -c 200 "$TMP/out") $(head -n 2 "$TMP/err" | tr '\n' '|')"
  c0=$(conns)
  timeout 30 "$BIN/fetch-$m" --keepalive -c 1 -n 3 --timeout "$TIMEOUT_MS" "$B/late-body-204" >"$TMP/out" 2>"$TMP/err"; rc=$?
  used=$(( $(conns) - c0 - 1 ))
  [ "$rc" -eq 0 ] && grep -q "fetched 3, failed 0," "$TMP/out" && [ "$used" -eq 3 ] &&
    pass "$m: --keepalive does not reuse a connection after a 204 that carried a body (3 fetches, 3 connections)" ||
    fail "$m: --keepalive does not reuse a connection after a 204 that carried a body (3 fetches, 3 connections)" "rc=$rc, $used connections: $(head -c 200 "$TMP/out") $(head -n 2 "$TMP/err" | tr '\n' '|')"
  # The fragment stays in the client (badhttpd refuses a target holding '#').
  timeout 30 "$BIN/fetch-$m" --timeout "$TIMEOUT_MS" "$B/ok#part" >"$TMP/out" 2>"$TMP/err"; rc=$?
  [ "$rc" -eq 0 ] && grep -q "fetched 1, failed 0, bytes 2," "$TMP/out" && pass "$m: a URL fragment is not sent" ||
    fail "$m: a URL fragment is not sent" "rc=$rc $(head -c 200 "$TMP/out") $(head -c 200 "$TMP/err")"
done

stop_server "$BPID"

# --- fetchd against hostile clients ---------------------------------------------
if ! start_server fetchd "$BIN/fetchd" --port 0 --timeout-ms 1000 --min-rate 4000000 --max-conns 50; then
  fail "fetchd starts" "$(cat "$TMP/fetchd.err")"; exit 0
fi
plan 8
FPID=$SPID; FP=$SPORT

# A reader that takes 512 KiB every 250 ms (2 MiB/s) of a 1 GiB body keeps
# fetchd writing every few hundred ms, so it never stalls for --timeout-ms;
# only --min-rate (here 4 MB/s after the first second) ends it: with a reset,
# within a few seconds. (At 16 KiB every 250 ms fetchd's send buffer took
# seconds to drain below the level at which it may write again, so the stall
# rule cut the reader first, and a fetchd without --min-rate passed: the
# seeded bug fetchd-min-rate survived.)
slowread() {
  exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 7
  printf 'GET /bytes/1073741824 HTTP/1.1\r\n\r\n' >&3
  local start total=0 n
  start=$(date +%s%N)
  while :; do
    n=$(dd bs=524288 count=1 iflag=fullblock <&3 2>/dev/null | wc -c)
    total=$((total + n))
    [ "$n" -lt 524288 ] && break
    [ $((($(date +%s%N) - start) / 1000000)) -gt 20000 ] && break
    sleep 0.25
  done
  echo "$total $((($(date +%s%N) - start) / 1000000))"
}
read -r got ms < <(slowread "$FP")
[ -n "$ms" ] && [ "$ms" -ge 1000 ] && [ "$ms" -lt 12000 ] && [ "$got" -lt 100000000 ] &&
  pass "fetchd: a reader below --min-rate is cut off (after ${ms} ms, ${got} bytes read)" ||
  fail "fetchd: a reader below --min-rate is cut off, after its first --timeout-ms (1000 ms) and within 12 s" "cut after ${ms} ms, ${got} bytes"

# A request trickled a byte every 100 ms: the deadline is not extended by
# bytes, so 408 after --timeout-ms, not after the 3 s the request would take.
start=$(date +%s%N)
out=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; req="GET /bytes/1 HTTP/1.1\r\nX-Trickle: aaaaaaaaaaaa\r\n\r\n";
  (for ((i = 0; i < ${#req}; i++)); do printf "%s" "${req:i:1}"; sleep 0.1; done) >&3 2>/dev/null & cat <&3' _ "$FP")
ms=$((($(date +%s%N) - start) / 1000000))
echo "$out" | head -n 1 | grep -q "408" && [ "$ms" -ge 1000 ] && [ "$ms" -lt 3000 ] &&
  pass "fetchd: a trickled request gets 408 after --timeout-ms (${ms} ms)" ||
  fail "fetchd: a trickled request gets 408 after --timeout-ms (1000-3000 ms)" "after ${ms} ms: $(echo "$out" | head -n 1)"

# 2000 pipelined requests in one burst (54 KB, far more than the 8 KiB request
# buffer): all answered, in order, on one connection.
out=$(timeout 20 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; for i in $(seq 1999); do printf "GET /bytes/3 HTTP/1.1\r\n\r\n"; done >&3;
  printf "GET /bytes/4 HTTP/1.1\r\nConnection: close\r\n\r\n" >&3; cat <&3' _ "$FP" | tr -d '\r')
n200=$(echo "$out" | grep -o 'HTTP/1.1 200 OK' | wc -l); last=$(echo "$out" | tail -c 5)
[ "$n200" -eq 2000 ] && [ "$last" = abcd ] && pass "fetchd: 2000 pipelined requests answered in order" ||
  fail "fetchd: 2000 pipelined requests answered in order" "$n200 answers, last line '$last'"

# Oversized: a megabyte of header lines gets 431 and a close, no more.
out=$(timeout 10 bash -c 'trap "" PIPE; exec 3<>"/dev/tcp/127.0.0.1/$1"; { printf "GET /bytes/1 HTTP/1.1\r\n"; head -c 1000000 /dev/zero | tr "\0" "a" | fold -w 100 | sed "s/^/X-Big: /;s/$/\r/"; } >&3 2>/dev/null; cat <&3 2>/dev/null; exit 0' _ "$FP" | head -n 1 | tr -d '\r')
case "$out" in "HTTP/1.1 431 "*) pass "fetchd: 1 MB of headers gets 431 ($out)" ;;
  *) fail "fetchd: 1 MB of headers gets 431" "got '$out'" ;; esac
# Oversized request line: one 100 kB line.
out=$(timeout 10 bash -c 'trap "" PIPE; exec 3<>"/dev/tcp/127.0.0.1/$1"; { printf "GET /"; head -c 100000 /dev/zero | tr "\0" "a"; printf " HTTP/1.1\r\n\r\n"; } >&3 2>/dev/null; cat <&3 2>/dev/null; exit 0' _ "$FP" | head -n 1 | tr -d '\r')
case "$out" in "HTTP/1.1 431 "*) pass "fetchd: a 100 kB request line gets 431" ;;
  *) fail "fetchd: a 100 kB request line gets 431" "got '$out'" ;; esac

# After all that, fetchd still serves, and its memory stayed small.
[ "$(curl -s --max-time 5 "http://127.0.0.1:$FP/bytes/4")" = abcd ] && pass "fetchd: still serves after the hostile clients" ||
  fail "fetchd: still serves after the hostile clients" ""
rss=$(sed -n 's/^VmHWM:\s*\([0-9]*\) kB/\1/p' "/proc/$FPID/status")
[ -n "$rss" ] && [ "$rss" -lt 65536 ] && pass "fetchd: peak RSS ${rss} KiB under hostile clients" ||
  fail "fetchd: peak RSS under hostile clients" "${rss} KiB"
stop_server "$FPID"
[ "$SRC" -eq 0 ] && pass "fetchd: SIGTERM exits 0 after the hostile clients" || fail "fetchd: SIGTERM exits 0" "status $SRC"
finish
