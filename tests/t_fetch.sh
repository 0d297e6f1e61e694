#!/usr/bin/env bash
# End-to-end tests of the three fetchers (fetch-fork, fetch-threads,
# fetch-loop) against bin/fetchd over real sockets on 127.0.0.1, and of
# bin/measure. No timing assertions: `timeout` only guards against hangs.
source "$(dirname "$0")/lib.sh"

if ! start_server fetchd "$BIN/fetchd" --port 0; then
  fail "fetchd starts" "$(cat "$TMP/fetchd.err" 2>/dev/null)"; exit 0
fi
FPID=$SPID
U="http://127.0.0.1:$SPORT"

# A port nothing listens on: start a second fetchd, note its port, stop it.
start_server dead "$BIN/fetchd" --port 0 && { DEAD=$SPORT; stop_server "$SPID"; } || DEAD=1

# 500 URLs: 400 x /bytes/2000 and 100 chunked /bytes/3000 -> 1,100,000 bytes.
{ for i in $(seq 400); do echo "$U/bytes/2000"; done
  echo "# a comment and a blank line are skipped"; echo
  for i in $(seq 100); do echo "$U/bytes/3000?chunked=1"; done; } >"$TMP/urls.txt"

# run NAME CMD... — run a fetcher with a hang guard; sets RC, output in $TMP/out, $TMP/err
run() { local n=$1; shift; timeout 60 "$@" >"$TMP/out" 2>"$TMP/err"; RC=$?; }
# expect_fail NAME REASON CMD... — exit 1 and a failure line holding REASON
expect_fail() {
  local name=$1 reason=$2; shift 2
  run "$name" "$@"
  if [ "$RC" -eq 1 ] && grep -q -- "failed .*: .*$reason" "$TMP/err" && grep -q 'failed 1,' "$TMP/out"; then
    pass "$name"
  else fail "$name" "rc=$RC out=$(head -c 200 "$TMP/out") err=$(head -c 300 "$TMP/err")"; fi
}

for m in $MODELS; do
  f="$BIN/fetch-$m"
  plan 28

  run bytes "$f" -c 100 -i "$TMP/urls.txt"
  if [ "$RC" -eq 0 ] && grep -q "fetched 500, failed 0, bytes 1100000," "$TMP/out"; then
    pass "$m: 500 URLs at -c 100 (400 plain + 100 chunked), every byte verified"
  else fail "$m: 500 URLs at -c 100, every byte verified" "rc=$RC $(head -c 300 "$TMP/out") $(head -c 300 "$TMP/err")"; fi

  run chunked "$f" -c 7 -n 40 --verify on "$U/bytes/100000?chunked=1" "$U/bytes/1?chunked=1" "$U/bytes/0?chunked=1"
  if [ "$RC" -eq 0 ] && grep -q "fetched 120, failed 0, bytes 4000040," "$TMP/out"; then
    pass "$m: chunked bodies (100000, 1 and 0 bytes) decode and verify"
  else fail "$m: chunked bodies decode and verify" "rc=$RC $(head -c 300 "$TMP/out") $(head -c 300 "$TMP/err")"; fi

  # --keepalive: right bytes, and connections reused. Every closed connection
  # leaves one TIME-WAIT entry on the fetchd port: ~4 with reuse, 200 without.
  if start_server "ka-$m" "$BIN/fetchd" --port 0; then
    run keepalive "$f" --keepalive -c 4 -n 200 "http://127.0.0.1:$SPORT/bytes/5000"
    tw=$(ss -Htan state time-wait "( sport = :$SPORT or dport = :$SPORT )" 2>/dev/null | wc -l)
    stop_server "$SPID"
    if [ "$RC" -eq 0 ] && grep -q "fetched 200, failed 0, bytes 1000000," "$TMP/out" && [ "$tw" -le 40 ]; then
      pass "$m: --keepalive fetches 200 URLs over few connections ($tw closed)"
    else fail "$m: --keepalive fetches 200 URLs over few connections" "rc=$RC closed=$tw $(head -c 300 "$TMP/out") $(head -c 200 "$TMP/err")"; fi
  else fail "$m: --keepalive" "second fetchd did not start"; fi

  run keepalive-chunked "$f" --keepalive -c 3 -n 30 "$U/bytes/7000?chunked=1" "$U/bytes/10"
  [ "$RC" -eq 0 ] && grep -q "fetched 60, failed 0," "$TMP/out" && pass "$m: --keepalive with chunked and plain bodies mixed" \
    || fail "$m: --keepalive with chunked and plain bodies mixed" "rc=$RC $(head -c 300 "$TMP/err")"

  expect_fail "$m: connection refused is a failure" "connection refused" "$f" "http://127.0.0.1:$DEAD/bytes/10"
  # gives up at its --timeout: not before (the wall time it measured), not
  # long after (the server would answer at 5 s), and says so
  run slow "$f" --timeout 300 "$U/bytes/10?delay_ms=5000"
  wall=$(sed -n 's/.*, wall \([0-9.]*\) s .*/\1/p' "$TMP/out")
  if [ "$RC" -eq 1 ] && grep -q -- "failed .*: timeout after 300 ms" "$TMP/err" && grep -q 'failed 1,' "$TMP/out" &&
     awk -v w="$wall" 'BEGIN { exit !(w != "" && w >= 0.3 && w <= 2.8) }'; then
    pass "$m: a slow answer times out at --timeout 300 (after $wall s, 'timeout after 300 ms')"
  else fail "$m: a slow answer times out at --timeout 300 (0.3-2.8 s, 'timeout after 300 ms')" "rc=$RC wall=$wall out=$(head -c 200 "$TMP/out") err=$(head -c 300 "$TMP/err")"; fi
  expect_fail "$m: a truncated body is a failure" "truncated body: 500 of 1000 bytes" "$f" "$U/fault/truncate/1000"
  expect_fail "$m: a malformed status line is a failure" "malformed status line" "$f" "$U/fault/status"
  expect_fail "$m: a close without an answer is a failure" "connection closed before the response" "$f" "$U/fault/close"
  expect_fail "$m: a malformed Content-Length is a failure" "malformed Content-Length" "$f" "$U/fault/badlength"
  expect_fail "$m: HTTP 404 is a failure" "HTTP status 404" "$f" "$U/no/such/thing"
  # The status first: fetchd's 400 page for /bytes/100?x=1 is not "pattern
  # mismatch at byte 0", and its bytes are not counted as fetched.
  expect_fail "$m: an HTTP error on /bytes/N is reported as its status" "HTTP status 400\$" "$f" "$U/bytes/100?x=1"
  grep -q "bytes 0," "$TMP/out" && pass "$m: an error page's body is not counted in bytes fetched" ||
    fail "$m: an error page's body is not counted in bytes fetched" "$(head -c 200 "$TMP/out")"
  # A fragment is the client's: sent to fetchd it would make /bytes/5#x a 400.
  run fragment "$f" "$U/bytes/5#section"
  [ "$RC" -eq 0 ] && grep -q "fetched 1, failed 0, bytes 5," "$TMP/out" && pass "$m: a URL fragment is not sent" ||
    fail "$m: a URL fragment is not sent" "rc=$RC $(head -c 200 "$TMP/out") $(head -c 200 "$TMP/err")"

  # Failures among successes: counted apart, the rest still verified, exit 1.
  run mixed "$f" -c 20 -n 30 "$U/bytes/100" "http://127.0.0.1:$DEAD/x"
  lines=$(grep -c 'failed http' "$TMP/err")
  if [ "$RC" -eq 1 ] && grep -q "fetched 30, failed 30," "$TMP/out" && [ "$lines" -eq 20 ] &&
     grep -q "and 10 more failures" "$TMP/err"; then
    pass "$m: 30 failures among 60 fetches: 20 listed + 'and 10 more', exit 1"
  else fail "$m: 30 failures among 60 fetches listed with a cap" "rc=$RC lines=$lines $(head -c 200 "$TMP/out")"; fi

  run quiet "$f" -q -n 5 "$U/bytes/10"
  [ "$RC" -eq 0 ] && [ ! -s "$TMP/out" ] && pass "$m: --quiet prints nothing on success" \
    || fail "$m: --quiet prints nothing on success" "rc=$RC $(cat "$TMP/out")"

  # Bad flags and bad URLs: exit 2 with one line.
  for bad in "-c 0 $U/" "--frobnicate $U/" "--verify maybe $U/" "https://127.0.0.1/" "http://example.com/" \
             "http://127.0.0.1:99999/" "http://127.0.0.1:+80/" "http://127.0.0.1:-1/" "" "-i /nonexistent/file" "--timeout"; do
    # shellcheck disable=SC2086
    timeout 10 "$f" $bad >/dev/null 2>"$TMP/err"; rc=$?
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then pass "$m: bad input '$bad' exits 2 with one line"
    else fail "$m: bad input '$bad' exits 2 with one line" "rc=$rc: $(head -c 200 "$TMP/err")"; fi
  done
  "$f" --help >"$TMP/help" 2>&1 && grep -q -- '--keepalive' "$TMP/help" && pass "$m: --help lists the flags" \
    || fail "$m: --help lists the flags" "$(head -c 200 "$TMP/help")"
done

# fetch-fork reaps every child as soon as it reports: while one slow fetch is
# still running, the ten fast ones must leave no zombie behind.
case " $MODELS " in *" fork "*)
  plan 1
  "$BIN/fetch-fork" -q -c 20 -n 10 "$U/bytes/10" "$U/bytes/10?delay_ms=4000" >/dev/null 2>&1 &
  fpid=$!; _pids+=("$fpid")
  sleep 2
  kids=$(ps -o stat= --ppid "$fpid" 2>/dev/null | wc -l)
  zombies=$(ps -o stat= --ppid "$fpid" 2>/dev/null | grep -c '^Z')
  wait "$fpid"; rc=$?
  if [ "$rc" -eq 0 ] && [ "$zombies" -eq 0 ] && [ "$kids" -le 10 ]; then
    pass "fork: finished children are reaped at once ($kids alive, 0 zombies mid-run)"
  else fail "fork: finished children are reaped at once" "rc=$rc children=$kids zombies=$zombies"; fi
  ;;
esac

# fetch-threads when the system refuses threads: as user nobody with at most
# 12 tasks (RLIMIT_NPROC), 50 in flight cannot all get a thread. It must wait
# for a running one to end and retry: every fetch succeeds, just later.
case " $MODELS " in *" threads "*)
  plan 1
  if [ "$(id -u)" -eq 0 ] && command -v prlimit >/dev/null &&
     setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    run nproc prlimit --nproc=12:12 setpriv --reuid=65534 --regid=65534 --clear-groups \
      "$BIN/fetch-threads" -c 50 -n 200 "$U/bytes/100?delay_ms=50"
    if [ "$RC" -eq 0 ] && grep -q "fetched 200, failed 0," "$TMP/out"; then
      pass "threads: pthread_create refused (RLIMIT_NPROC 12) waits and retries, 200 of 200 fetched"
    else fail "threads: pthread_create refused waits and retries" "rc=$RC $(head -c 200 "$TMP/out") $(head -c 200 "$TMP/err")"; fi
  else skip "threads: pthread_create refused waits and retries" "the RLIMIT_NPROC test needs root, prlimit, and setpriv able to become nobody"; fi
  ;;
esac

# The rest is not the models': tests/t_peers.sh, testing its peers with this
# file, sets FETCH_MODELS_ONLY=1.
if [ "${FETCH_MODELS_ONLY:-0}" = 1 ]; then stop_server "$FPID"; finish; exit 0; fi

# bin/fetch-epoll, the baseline: right answers count, every failure exits 1 with a reason.
plan 8
run epoll "$BIN/fetch-epoll" -c 50 -n 300 "$U/bytes/3000"
if [ "$RC" -eq 0 ] && grep -q "fetched 300, failed 0," "$TMP/out"; then
  pass "fetch-epoll: 300 fetches at -c 50, all 200"
else fail "fetch-epoll: 300 fetches at -c 50" "rc=$RC $(head -c 300 "$TMP/out") $(head -c 300 "$TMP/err")"; fi
run epoll-refused "$BIN/fetch-epoll" -n 3 "http://127.0.0.1:$DEAD/"
if [ "$RC" -eq 1 ] && grep -q "failed 3," "$TMP/out" && grep -q "connect: Connection refused" "$TMP/err"; then
  pass "fetch-epoll: a refused port fails every fetch, exit 1, one reason"
else fail "fetch-epoll: refused port" "rc=$RC $(head -c 200 "$TMP/out") $(head -c 200 "$TMP/err")"; fi
run epoll-404 "$BIN/fetch-epoll" -n 2 "$U/no/such/path"
if [ "$RC" -eq 1 ] && grep -q "failed 2," "$TMP/out" && grep -q "not a 200 answer" "$TMP/err"; then
  pass "fetch-epoll: a 404 is a failure"
else fail "fetch-epoll: a 404 is a failure" "rc=$RC $(head -c 200 "$TMP/out") $(head -c 200 "$TMP/err")"; fi
run epoll-timeout "$BIN/fetch-epoll" -n 2 --timeout 300 "$U/bytes/10?delay_ms=5000"
if [ "$RC" -eq 1 ] && grep -q "failed 2," "$TMP/out" && grep -q "still in flight" "$TMP/err"; then
  pass "fetch-epoll: --timeout ends the run, the late ones fail"
else fail "fetch-epoll: --timeout" "rc=$RC $(head -c 200 "$TMP/out") $(head -c 200 "$TMP/err")"; fi
run epoll-flags "$BIN/fetch-epoll" --bogus "$U/"
[ "$RC" -eq 2 ] && grep -q "bogus" "$TMP/err" && pass "fetch-epoll: unknown flag exits 2 naming it" ||
  fail "fetch-epoll: unknown flag exits 2" "rc=$RC $(head -c 200 "$TMP/err")"

# bin/measure: a CSV line with the command's exit status, and that status.
csv="$TMP/m.csv"
"$BIN/measure" --out "$csv" --label hello -- sh -c 'sleep 0.3; exit 3' 2>/dev/null; rc=$?
"$BIN/measure" --out "$csv" --label tree -- sh -c 'sleep 0.3 & sleep 0.3; wait' 2>/dev/null
if [ "$rc" -eq 3 ] && [ "$(head -n 1 "$csv")" = "label,exit,wall_s,user_s,sys_s,maxrss_kib,peak_pss_kib,pss_samples" ] &&
   awk -F, 'NR==2 && $1=="hello" && $2==3 && $3>=0.25 && $6>0 && $7>0 {ok=1} END {exit !ok}' "$csv" &&
   [ "$(wc -l <"$csv")" -eq 3 ]; then
  pass "measure: appends one CSV line per run (header once), exits with the command's status"
else fail "measure: CSV line and exit status" "rc=$rc $(cat "$csv" | tr '\n' ' ')"; fi
"$BIN/measure" -- /nonexistent/cmd >/dev/null 2>&1; rc=$?
[ "$rc" -eq 127 ] && pass "measure: a command that cannot run gives 127" || fail "measure: a command that cannot run gives 127" "rc=$rc"
"$BIN/measure" --bogus -- true >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && pass "measure: unknown flag exits 2" || fail "measure: unknown flag exits 2" "rc=$rc"

# bin/measure's flags for the sweep across hosts (docs/fetch.md): --start-at
# starts CMD at that wall-clock time and counts wall_s from it, --until-eof
# stops CMD's whole group when stdin ends, --out - writes on stdout.
plan 4
t=$(( $(date +%s%N) + 400000000 ))
"$BIN/measure" --start-at "$t" --out - --label soon -- sh -c 'date +%s%N; sleep 0.2' >"$TMP/sa.out" 2>"$TMP/sa.err"; rc=$?
began=$(head -n 1 "$TMP/sa.out")
if [ "$rc" -eq 0 ] && [ "$began" -ge "$t" ] && [ "$(sed -n 2p "$TMP/sa.out")" = "label,exit,wall_s,user_s,sys_s,maxrss_kib,peak_pss_kib,pss_samples,late_ms" ] &&
   awk -F, 'NR == 3 && $1 == "soon" && $3 >= 0.19 && $3 < 0.35 && $9 < 10 { ok = 1 } END { exit !ok }' "$TMP/sa.out"; then
  pass "measure --start-at: CMD starts at the time, not before; wall from it; late_ms on time; --out - on stdout"
else fail "measure --start-at: CMD starts at the time, not before; wall from it; late_ms on time; --out - on stdout" "rc=$rc began-T=$(( (began - t) / 1000000 )) ms: $(tr '\n' ' ' <"$TMP/sa.out") $(head -c 200 "$TMP/sa.err")"; fi
t=$(( $(date +%s%N) - 300000000 ))
"$BIN/measure" --start-at "$t" --out - --label late -- sleep 0.1 >"$TMP/sa.out" 2>"$TMP/sa.err"
if awk -F, 'NR == 2 && $3 >= 0.39 && $9 >= 300 { ok = 1 } END { exit !ok }' "$TMP/sa.out" && grep -q "after --start-at" "$TMP/sa.err"; then
  pass "measure --start-at 300 ms ago: the late start is counted in wall_s and late_ms, and said"
else fail "measure --start-at 300 ms ago: the late start is counted in wall_s and late_ms, and said" "$(tr '\n' ' ' <"$TMP/sa.out") $(head -c 200 "$TMP/sa.err")"; fi
# stdin ends after 0.5 s: the command (sh) and the sleep it left behind both go
t0=$(date +%s%N)
{ sleep 0.5; } | timeout 20 "$BIN/measure" --until-eof --out "$TMP/eof.csv" --label eof -- \
  sh -c "sleep 31 & echo \$! >'$TMP/eof.pid'; wait" 2>"$TMP/eof.err"; rc=$?
took=$(( ($(date +%s%N) - t0) / 1000000 ))
left=$(cat "$TMP/eof.pid" 2>/dev/null)
# gone, or a zombie that PID 1 has not reaped yet
alive=$(ps -o stat= -p "${left:-0}" 2>/dev/null | grep -v '^Z')
if [ "$rc" -eq 143 ] && [ "$took" -lt 5000 ] && [ -n "$left" ] && [ -z "$alive" ] && grep -q '^eof,143,' "$TMP/eof.csv"; then
  pass "measure --until-eof: stdin's end stops the command and its group (${took} ms), the line written"
else fail "measure --until-eof: stdin's end stops the command and its group" "rc=$rc in $took ms, sleep $left ${alive:+alive: $alive}; $(cat "$TMP/eof.csv" 2>/dev/null) $(head -c 200 "$TMP/eof.err")"; fi
[ -n "$alive" ] && kill "$left" 2>/dev/null

# fetchd --control: a line asks for its CPU so far, stdin's end stops it
coproc CTL { exec "$BIN/fetchd" --port 0 --control 2>"$TMP/ctl.err"; }
ctl_in=${CTL[1]} ctl_out=${CTL[0]} ctl_pid=$CTL_PID
read -r -t 5 ready <&"$ctl_out"
"$BIN/fetch-epoll" -c 10 -n 100 "http://127.0.0.1:${ready##*:}/bytes/1000" >/dev/null 2>&1
echo >&"$ctl_in"; read -r -t 5 w u sy <&"$ctl_out"
exec {ctl_in}>&-
for ((i = 0; i < 50; i++)); do kill -0 "$ctl_pid" 2>/dev/null || break; sleep 0.1; done
wait "$ctl_pid"; rc=$?
if [[ $ready == "listening on "* ]] && [ "$w" = cpu ] && awk -v u="$u" -v s="$sy" 'BEGIN { exit !(u + s > 0 && u + s < 10) }' && [ "$rc" -eq 0 ]; then
  pass "fetchd --control: answers 'cpu USER SYS' ($u $sy) for a line, exits 0 when stdin ends"
else fail "fetchd --control: answers 'cpu USER SYS' for a line, exits 0 when stdin ends" "ready '$ready', answer '$w $u $sy', exit $rc: $(head -c 200 "$TMP/ctl.err")"; fi

# the local sweep's CPU sets: halves of FETCH_CPUS on 4+ (here a given list,
# 0,0,1,1: fetchd on CPU 0, the load on CPU 1), nothing pinned on fewer;
# meta.txt and the chart's footnote say which. fetchd and the fetcher are
# wrapped (BIN=$TMP/pinbin) to write down the CPUs they were allowed.
plan 2
mkdir -p "$TMP/pinbin"
ln -sf "$(cd "$BIN" && pwd)/measure" "$TMP/pinbin/measure"
for w in fetchd:fetchd fetch-probe:fetch-loop; do
  printf '#!/bin/sh\nsed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/self/status >"%s"\nexec "%s" "$@"\n' \
    "$TMP/cpus-${w%%:*}" "$(cd "$BIN" && pwd)/${w#*:}" >"$TMP/pinbin/${w%%:*}"
  chmod +x "$TMP/pinbin/${w%%:*}"
done
# bench_pins NAME WANT_META WANT_FOOT FETCHD_CPUS FETCHER_CPUS [VAR=VALUE...] — a tiny sweep, its pinning
bench_pins() {
  local name=$1 meta=$2 foot=$3 fcpus=$4 lcpus=$5 out=$TMP/bench-$((++npins)) got; shift 5
  if ! command -v gnuplot >/dev/null || ! command -v hyperfine >/dev/null; then
    skip "bench-fetch pinning: $name" "needs gnuplot and hyperfine (make deps)"; return
  fi
  rm -f "$TMP"/cpus-*
  env BIN="$TMP/pinbin" FETCH_OUT="$out" FETCH_COUNT=20 FETCH_CONC=10 FETCH_MODELS=probe FETCH_CURL=0 FETCH_RUNS=1 FETCH_WARMUP=0 "$@" \
    timeout 120 scripts/bench-fetch.sh sweep >"$out.log" 2>&1
  got=$(sed -n 's/^pinning: //p' "$out/meta.txt" 2>/dev/null)
  if [[ $got == "$meta"* ]] && grep -q "medians; $foot;" "$out/fetch-wall.svg" 2>/dev/null &&
     grep -q '^probe,10,1,0,' "$out/summary.csv" 2>/dev/null &&
     [ "$(cat "$TMP/cpus-fetchd" 2>/dev/null)" = "$fcpus" ] && [ "$(cat "$TMP/cpus-fetch-probe" 2>/dev/null)" = "$lcpus" ]; then
    pass "bench-fetch pinning: $name"
  else fail "bench-fetch pinning: $name" "meta '$got'; $(grep -o 'medians; [^;]*;' "$out/fetch-wall.svg" 2>/dev/null | head -n 1); fetchd on CPUs $(cat "$TMP/cpus-fetchd" 2>/dev/null), the fetcher on $(cat "$TMP/cpus-fetch-probe" 2>/dev/null); $(tail -n 2 "$out.log" | tr '\n' ' ')"; fi
}
npins=0 all=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
if [ -z "$(pin_halves)" ]; then
  bench_pins "this machine's $(nproc) CPUs: nothing pinned, and said" "none (" "nothing pinned" "$all" "$all"
else
  h=$(pin_halves)
  bench_pins "this machine's $(nproc) CPUs: halves, and said" "halves (fetchd on CPUs ${h% *};" \
    "fetchd on CPUs ${h% *}, the fetchers on CPUs ${h#* }" "$(taskset -c "${h% *}" sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)" \
    "$(taskset -c "${h#* }" sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
fi
# the first two of our CPUs, each twice: a list of 4 that pin_halves splits
# into one CPU for fetchd and another for the load
read -r c0 c1 < <(cpu_list | head -n 2 | paste -sd ' ' -)
if [ -n "${c1:-}" ]; then
  bench_pins "4 CPUs given (FETCH_CPUS=$c0,$c0,$c1,$c1): fetchd on CPU $c0, the fetcher on CPU $c1, and said" \
    "halves (fetchd on CPUs $c0,$c0; hyperfine, bin/measure, the fetcher and curl on CPUs $c1,$c1" \
    "fetchd on CPUs $c0,$c0, the fetchers on CPUs $c1,$c1" "$c0" "$c1" FETCH_CPUS="$c0,$c0,$c1,$c1"
else skip "bench-fetch pinning: 4 CPUs given" "one CPU only"; fi

stop_server "$FPID"
finish
