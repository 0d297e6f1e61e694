#!/usr/bin/env bash
# t_loadgen.sh — bin/loadgen against bin/echo-epoll (and against peers that
# misbehave): exact counts, the CSV contract, errors and exit statuses, open
# loop figures. Also the baselines echo-epoll and client-epoll themselves.
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

LG=$BIN/loadgen
COLS="conns msg_bytes secs msgs msgs_per_s p50_us p90_us p99_us p999_us max_us errors connect_s p50_unc_us p99_unc_us p999_unc_us max_unc_us rate no_reply msgs_conn_min msgs_conn_median msgs_conn_max jain per_conn connects conns_per_s"
CLOSED_COLS="conns msg_bytes secs msgs msgs_per_s p50_us p90_us p99_us p999_us max_us errors connect_s no_reply msgs_conn_min msgs_conn_median msgs_conn_max jain per_conn connects conns_per_s"

# csv_get FILE COLUMN — the value of COLUMN in the data row of a loadgen CSV
csv_get() {
  awk -F, -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i }
                       NR == 2 && k { print $k }' "$1"
}

plan 35 # all but the pool/prefork loop's
if ! start_server echo "$BIN/echo-epoll" --port 0; then
  fail echo_epoll_ready "no ready line: $(cat "$TMP/echo.err")"
  exit 1
fi
pass echo_epoll_ready
EPID=$SPID EPORT=$SPORT

# 1. closed loop, --count: exactly that many messages, no errors, exit 0
timeout 60 "$LG" --port "$EPORT" -c 7 --count 10007 --csv >"$TMP/count.csv" 2>"$TMP/count.err"
rc=$?
msgs=$(csv_get "$TMP/count.csv" msgs) errs=$(csv_get "$TMP/count.csv" errors)
if [ "$rc" -eq 0 ] && [ "$msgs" = 10007 ] && [ "$errs" = 0 ]; then pass loadgen_count_exact
else fail loadgen_count_exact "rc=$rc msgs=$msgs errors=$errs $(cat "$TMP/count.err")"; fi

# the same split over 3 threads, odd sizes, a message bigger than a socket write
timeout 60 "$LG" --port "$EPORT" -c 5 --threads 3 --msg-bytes 60000 --count 301 --csv >"$TMP/big.csv" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(csv_get "$TMP/big.csv" msgs)" = 301 ]; then pass loadgen_threads_big_messages
else fail loadgen_threads_big_messages "rc=$rc $(tr '\n' ' ' <"$TMP/big.csv")"; fi

# 2. the CSV header holds every column in order; the closed-loop ones are filled
hdr=$(head -n 1 "$TMP/count.csv")
if [ "$hdr" = "$(echo $COLS | tr ' ' ,)" ]; then pass loadgen_csv_header
else fail loadgen_csv_header "got '$hdr'"; fi
empty=""
for c in $CLOSED_COLS; do
  v=$(csv_get "$TMP/count.csv" "$c")
  [[ "$v" =~ ^[0-9]+(\.[0-9]+)?$ ]] || empty="$empty $c='$v'"
done
rows=$(wc -l <"$TMP/count.csv")
if [ -z "$empty" ] && [ "$rows" -eq 2 ]; then pass loadgen_csv_row_filled
else fail loadgen_csv_row_filled "rows=$rows bad:$empty"; fi
p50=$(csv_get "$TMP/count.csv" p50_us) p99=$(csv_get "$TMP/count.csv" p99_us) max=$(csv_get "$TMP/count.csv" max_us)
if awk -v a="$p50" -v b="$p99" -v c="$max" 'BEGIN { exit !(a > 0 && a <= b && b <= c) }'; then
  pass loadgen_percentiles_ordered
else fail loadgen_percentiles_ordered "p50=$p50 p99=$p99 max=$max"; fi

# --json: one object with the same keys
timeout 30 "$LG" --port "$EPORT" -c 2 --count 100 --json >"$TMP/j.out" 2>&1
if [ "$(wc -l <"$TMP/j.out")" -eq 1 ] && grep -q '^{"conns":2,.*"msgs":100,.*"errors":0,.*}$' "$TMP/j.out"; then
  pass loadgen_json
else fail loadgen_json "$(head -c 300 "$TMP/j.out")"; fi

# --percentiles FILE: the HdrHistogram text, ending at percentile 1 with the full count
timeout 30 "$LG" --port "$EPORT" -c 3 --count 3000 --percentiles "$TMP/pct.txt" >/dev/null 2>&1
if head -n 1 "$TMP/pct.txt" | grep -q '^       Value     Percentile TotalCount 1/(1-Percentile)$' &&
   grep -Eq '^ +[0-9.]+ 1\.000000000000 +3000$' "$TMP/pct.txt" && grep -q '^#\[Max ' "$TMP/pct.txt"; then
  pass loadgen_percentiles_file
else fail loadgen_percentiles_file "$(head -n 3 "$TMP/pct.txt" | tr '\n' '|')"; fi

# 3. open loop: both corrected and uncorrected figures, rate echoed back
timeout 30 "$LG" --port "$EPORT" -c 4 --rate 2000 --secs 1 --csv >"$TMP/rate.csv" 2>&1
rc=$?
bad=""
for c in p50_us p99_us max_us p50_unc_us p99_unc_us p999_unc_us max_unc_us rate; do
  v=$(csv_get "$TMP/rate.csv" "$c")
  [[ "$v" =~ ^[0-9]+(\.[0-9]+)?$ ]] || bad="$bad $c='$v'"
done
msgs=$(csv_get "$TMP/rate.csv" msgs)
# the rate is a schedule, not a goal: on a busy machine it may fall short, so only "roughly"
if [ "$rc" -eq 0 ] && [ -z "$bad" ] && [ "${msgs:-0}" -ge 500 ] && [ "${msgs:-0}" -le 2100 ] &&
   [ "$(csv_get "$TMP/rate.csv" rate)" = 2000.0 ]; then pass loadgen_open_loop_reports_both
else fail loadgen_open_loop_reports_both "rc=$rc msgs=$msgs bad:$bad"; fi
if awk -v c="$(csv_get "$TMP/rate.csv" max_us)" -v u="$(csv_get "$TMP/rate.csv" max_unc_us)" \
     'BEGIN { exit !(c + 0.05 >= u) }'; then pass loadgen_corrected_not_below_uncorrected
else fail loadgen_corrected_not_below_uncorrected "$(tail -n 1 "$TMP/rate.csv")"; fi

# 3b. fairness per connection. An even server (echo-loop, 16 connections): every
# connection answered, Jain's index near 1. A pool of 4 workers with 16
# connections: 12 connections never get a first reply; they are counted as
# no-reply (not errors) and the run still stops at --secs.
# fair_ok FILE NOREPLY_TEST JAIN_TEST — errors 0 and the two conditions (awk)
fair_ok() {
  awk -v n="$(csv_get "$1" no_reply)" -v j="$(csv_get "$1" jain)" -v e="$(csv_get "$1" errors)" \
      -v lo="$(csv_get "$1" msgs_conn_min)" -v med="$(csv_get "$1" msgs_conn_median)" -v hi="$(csv_get "$1" msgs_conn_max)" \
      "BEGIN { exit !(e == 0 && lo <= med && med <= hi && ($2) && ($3)) }"
}
if start_server fairloop "$BIN/echo-loop" --port 0; then
  timeout 30 "$LG" --port "$SPORT" -c 16 --secs 1 --csv >"$TMP/even.csv" 2>&1; rc=$?
  if [ "$rc" -eq 0 ] && fair_ok "$TMP/even.csv" "n == 0" "j > 0.9"; then pass loadgen_fair_even_loop
  else fail loadgen_fair_even_loop "rc=$rc $(tail -n 1 "$TMP/even.csv")"; fi
  stop_server "$SPID"
else fail loadgen_fair_even_loop "echo-loop did not start"; fi
for m in pool prefork; do
  plan 2
  if start_server "fair$m" "$BIN/echo-$m" --port 0 --workers 4; then
    t0=$(date +%s%N)
    timeout 60 "$LG" --port "$SPORT" -c 16 --secs 2 --csv >"$TMP/starve.csv" 2>"$TMP/starve.err"; rc=$?
    took=$(( ($(date +%s%N) - t0) / 1000000 ))
    # 4 served, 12 starved: exactly; Jain's index of 4 equal shares among 16 is 0.25
    if [ "$rc" -eq 0 ] && fair_ok "$TMP/starve.csv" "n == 12 && lo == 0 && hi > 0" "j < 0.5" && [ "$took" -lt 20000 ]; then
      pass "loadgen_fair_starved[$m]"
    else fail "loadgen_fair_starved[$m]" "rc=$rc took=${took}ms $(tail -n 1 "$TMP/starve.csv") $(head -c 200 "$TMP/starve.err")"; fi
    timeout 30 "$LG" --port "$SPORT" -c 16 --secs 1 >"$TMP/starve.txt" 2>&1
    if grep -Eq '^  per connection  no reply 12 of 16  msgs min 0 .* Jain.s index 0\.[0-4]' "$TMP/starve.txt"; then
      pass "loadgen_fair_summary_line[$m]"
    else fail "loadgen_fair_summary_line[$m]" "$(grep 'per connection' "$TMP/starve.txt")"; fi
    stop_server "$SPID"
  else fail "loadgen_fair_starved[$m]" "echo-$m did not start"; fi
done
timeout 30 "$LG" --port "$EPORT" -c 3 --count 300 --json >"$TMP/fj.out" 2>&1
if grep -q '"no_reply":0,"msgs_conn_min":[0-9]*,"msgs_conn_median":[0-9.]*,"msgs_conn_max":[0-9]*,"jain":[01]\.[0-9]*,"per_conn":0,"connects":3,"conns_per_s":0.0}$' "$TMP/fj.out"; then
  pass loadgen_json_fairness_keys
else fail loadgen_json_fairness_keys "$(head -c 400 "$TMP/fj.out")"; fi

# 3c. churn: --per-conn K closes after K messages and reconnects. 300 messages
# 3 per connection: 100 connections ended, so 100..104 connects (the first 4
# included; at the end a slot may reconnect and then rest)
timeout 60 "$LG" --port "$EPORT" -c 4 --per-conn 3 --count 300 --csv >"$TMP/churn.csv" 2>&1; rc=$?
c=$(csv_get "$TMP/churn.csv" connects)
if [ "$rc" -eq 0 ] && [ "$(csv_get "$TMP/churn.csv" msgs)" = 300 ] && [ "$(csv_get "$TMP/churn.csv" per_conn)" = 3 ] &&
   [ "${c:-0}" -ge 100 ] && [ "${c:-0}" -le 104 ] && [ "$(csv_get "$TMP/churn.csv" errors)" = 0 ]; then
  pass loadgen_per_conn_counts
else fail loadgen_per_conn_counts "rc=$rc $(tail -n 1 "$TMP/churn.csv")"; fi
# the same over 2 threads (each its share of the slots and of the count): 400
# messages, 4 per connection: 100 connections ended, 100..106 connects
timeout 60 "$LG" --port "$EPORT" -c 6 --threads 2 --per-conn 4 --count 400 --csv >"$TMP/churn2.csv" 2>&1; rc=$?
c=$(csv_get "$TMP/churn2.csv" connects)
if [ "$rc" -eq 0 ] && [ "$(csv_get "$TMP/churn2.csv" msgs)" = 400 ] && [ "${c:-0}" -ge 100 ] && [ "${c:-0}" -le 106 ] &&
   [ "$(csv_get "$TMP/churn2.csv" errors)" = 0 ]; then pass loadgen_per_conn_threads
else fail loadgen_per_conn_threads "rc=$rc $(tail -n 1 "$TMP/churn2.csv")"; fi
# K = 1, timed: one connection per request, conns/s = msgs/s, no errors; the summary says so
timeout 30 "$LG" --port "$EPORT" -c 4 --per-conn 1 --secs 1 --connect-inflight 2 >"$TMP/k1.txt" 2>&1; rc=$?
if [ "$rc" -eq 0 ] && grep -Eq '^  churn           a new connection every 1 message: [1-9][0-9]* ended = [1-9][0-9.]* conns/s' "$TMP/k1.txt" &&
   grep -q '^  errors          0$' "$TMP/k1.txt"; then pass loadgen_per_conn_one
else fail loadgen_per_conn_one "rc=$rc $(tr '\n' '|' <"$TMP/k1.txt")"; fi
# --connect-rate caps the reconnects when given: 50/s for 1 s is about 50 (generous: 20..80)
timeout 30 "$LG" --port "$EPORT" -c 4 --per-conn 1 --secs 1 --connect-rate 50 --csv >"$TMP/k1r.csv" 2>&1; rc=$?
n=$(csv_get "$TMP/k1r.csv" msgs)
if [ "$rc" -eq 0 ] && [ "${n:-0}" -ge 20 ] && [ "${n:-0}" -le 80 ]; then pass loadgen_per_conn_connect_rate
else fail loadgen_per_conn_connect_rate "rc=$rc msgs=$n (want about 50)"; fi
# out of local ports: in a network namespace of our own with 4 ports and no
# TIME_WAIT reuse, the reconnects fail with EADDRNOTAVAIL: one clear line,
# exit 1, and the run ends at once (no hang until --secs)
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  timeout 60 unshare -n bash -c '
    ip link set lo up && echo "40000 40003" >/proc/sys/net/ipv4/ip_local_port_range &&
      echo 0 >/proc/sys/net/ipv4/tcp_tw_reuse || exit 99
    "$1/echo-epoll" --port 0 >"$2/ns.out" 2>&1 & e=$!
    for i in $(seq 50); do grep -q "^listening" "$2/ns.out" && break; sleep 0.1; done
    p=$(sed -n "s/^listening on .*:\([0-9]*\)$/\1/p" "$2/ns.out")
    s=$(date +%s); "$1/loadgen" --port "$p" -c 2 --per-conn 1 --secs 20 --csv >"$2/ports.csv" 2>"$2/ports.err"
    rc=$?; echo "$rc $(( $(date +%s) - s ))" >"$2/ports.rc"; kill $e; wait $e' _ "$BIN" "$TMP"
  ns_rc=$?
  read -r rc took <"$TMP/ports.rc" 2>/dev/null
  # 99: the namespace's sysctls are not writable here (a container's read-only /proc/sys)
  if [ "$ns_rc" = 99 ]; then
    skip loadgen_per_conn_out_of_ports "cannot set ip_local_port_range and tcp_tw_reuse in a network namespace here"
  elif [ "${rc:-}" = 1 ] && [ "${took:-99}" -lt 10 ] &&
     grep -q '^loadgen: --per-conn: reconnecting failed (first: Cannot assign requested address); out of local ports' "$TMP/ports.err"; then
    pass loadgen_per_conn_out_of_ports
  else fail loadgen_per_conn_out_of_ports "rc=${rc:-?} took=${took:-?}s $(cat "$TMP/ports.err")"; fi
else
  skip loadgen_per_conn_out_of_ports "needs root and unshare -n"
fi

# 4. bad flags: exit 2, one line naming the flag
for args in "--port" "--port x" "--port 1 -c 0" "--port 1 --msg-bytes 8" "--port 1 --bogus" "" "--port 1 --csv --json" \
            "--port 1 --per-conn 0" "--port 1 --per-conn 1 --rate 100"; do
  # shellcheck disable=SC2086
  "$LG" $args >"$TMP/bad.out" 2>&1
  rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/bad.out")" -eq 1 ]; then pass "loadgen_bad_flags[$args]"
  else fail "loadgen_bad_flags[$args]" "rc=$rc $(head -n 2 "$TMP/bad.out")"; fi
done
check_help loadgen_help "$LG"

# 5. a closed port: one line, non-zero, fast
"$BIN/echo-epoll" --port 0 >"$TMP/closed.out" 2>&1 & cpid=$!; _pids+=("$cpid")
sleep 0.3; cport=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$TMP/closed.out"); stop_server "$cpid"
timeout 20 "$LG" --port "${cport:-1}" -c 3 --secs 1 >"$TMP/refused.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$(wc -l <"$TMP/refused.out")" -eq 1 ] &&
   grep -q "^loadgen: connect 127.0.0.1:${cport:-1}: Connection refused$" "$TMP/refused.out"; then
  pass loadgen_connect_refused
else fail loadgen_connect_refused "rc=$rc $(head -n 2 "$TMP/refused.out")"; fi

# 6. the server dies mid-run: errors > 0, exit 1, results still printed, no hang
if start_server victim "$BIN/echo-epoll" --port 0; then
  vpid=$SPID
  timeout 30 "$LG" --port "$SPORT" -c 10 --secs 5 --csv >"$TMP/kill.csv" 2>&1 & lpid=$!
  sleep 0.7
  stop_server "$vpid"
  wait "$lpid"; rc=$?
  errs=$(csv_get "$TMP/kill.csv" errors)
  if [ "$rc" -eq 1 ] && [ "${errs:-0}" -gt 0 ]; then pass loadgen_server_killed_counts_errors
  else fail loadgen_server_killed_counts_errors "rc=$rc errors=$errs $(tail -n 1 "$TMP/kill.csv")"; fi
else fail loadgen_server_killed_counts_errors "victim did not start"; fi

# 7. a peer that corrupts the echo (flips one byte after a while): errors, exit 1
if command -v python3 >/dev/null 2>&1; then
  cat >"$TMP/bad_echo.py" <<'EOF'
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
def serve(c):
    n = 0
    while True:
        d = c.recv(65536)
        if not d: return
        n += len(d)
        if n > 6400: d = d[:-1] + bytes([d[-1] ^ 1])   # corrupt the body after ~100 messages
        c.sendall(d)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
  if start_server badecho python3 "$TMP/bad_echo.py"; then
    timeout 30 "$LG" --port "$SPORT" -c 2 --secs 3 --csv >"$TMP/corrupt.csv" 2>&1; rc=$?
    errs=$(csv_get "$TMP/corrupt.csv" errors)
    if [ "$rc" -eq 1 ] && [ "${errs:-0}" -eq 2 ]; then pass loadgen_corrupt_echo_detected
    else fail loadgen_corrupt_echo_detected "rc=$rc errors=$errs"; fi
    stop_server "$SPID" KILL
  else fail loadgen_corrupt_echo_detected "python peer did not start"; fi
else
  skip loadgen_corrupt_echo_detected "no python3"
fi

# 8. client-epoll, the baseline client: runs, counts, refuses bad flags
timeout 20 "$BIN/client-epoll" --port "$EPORT" -c 4 --secs 0.5 >"$TMP/ce.out" 2>&1; rc=$?
if [ "$rc" -eq 0 ] && grep -Eq '^msgs [1-9][0-9]* secs [0-9.]+ msgs_per_s [0-9.]+ errors 0$' "$TMP/ce.out"; then
  pass client_epoll_runs
else fail client_epoll_runs "rc=$rc $(cat "$TMP/ce.out")"; fi
"$BIN/client-epoll" --port "$EPORT" --nope >/dev/null 2>&1
[ $? -eq 2 ] && pass client_epoll_bad_flag || fail client_epoll_bad_flag "expected exit 2"

# echo-epoll: 64 KiB messages come back whole (short writes buffered), SIGTERM -> 0
"$BIN/loadgen" --port "$EPORT" -c 1 --msg-bytes 65536 --count 50 >/dev/null 2>&1
[ $? -eq 0 ] && pass echo_epoll_large_messages || fail echo_epoll_large_messages "loadgen reported errors"
stop_server "$EPID"
[ "$SRC" -eq 0 ] && pass echo_epoll_sigterm_exit_0 || fail echo_epoll_sigterm_exit_0 "exit $SRC"
"$BIN/echo-epoll" --bogus >/dev/null 2>&1
[ $? -eq 2 ] && pass echo_epoll_bad_flag || fail echo_epoll_bad_flag "expected exit 2"
finish
