#!/usr/bin/env bash
# t_latency.sh — open-loop latency you can defend (docs/latency.md):
#   1. the stall check: an echo server frozen for 1 s (SIGSTOP/SIGCONT) under
#      open-loop load must show in the corrected p99.9 (>= 500 ms) and NOT in
#      the uncorrected one (< 200 ms); a closed-loop client sees it only in
#      its max. Run through scripts/demo-stall.sh, for every model in $MODELS.
#   2. loadgen's percentile file parses: title line, 4 columns (3 on the 100%
#      row), percentiles and values never decrease, the footer, counts agree.
#   3. make bench-latency on a tiny setting: every CSV column filled (load_hosts
#      1, start_spread_ms 0 here), a .hgrm per run, meta.txt, a non-empty PNG.
#   4. the pinning PIN=auto chooses: disjoint halves on a given list of 4+
#      CPUs, none on 2 (this machine's own list decides the tiny run's).
#   5. bin/loadmerge --percentiles: the spectrum of two loadgens' summed
#      counters, whose total is the sum of theirs (the .hgrm of a run across
#      hosts is drawn so; tests/hosts.d/latency.sh runs that for real).
# The windows are wide on purpose: a 1 s freeze against a sub-millisecond
# echo on an idle machine, 200 ms of slack for a shared, noisy one.
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

# ge NAME VALUE MIN / lt NAME VALUE MAX — numeric checks that name the value
ge() { if [ -n "$2" ] && awk -v v="$2" -v m="$3" 'BEGIN { exit !(v >= m) }'; then pass "$1"; else fail "$1" "got '$2', want >= $3"; fi; }
lt() { if [ -n "$2" ] && awk -v v="$2" -v m="$3" 'BEGIN { exit !(v < m) }'; then pass "$1"; else fail "$1" "got '$2', want < $3"; fi; }

for p in loadgen echo-epoll; do
  [ -x "$BIN/$p" ] || { fail "latency_built_$p" "$BIN/$p missing (run make)"; exit 1; }
done

# --- flags: one line naming the flag, exit 2 -------------------------------------
plan 6
scripts/demo-stall.sh --no-such-flag >/dev/null 2>"$TMP/e"; rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ] && grep -q -- --no-such-flag "$TMP/e"; then pass stall_bad_flag
else fail stall_bad_flag "rc=$rc stderr=$(head -c 200 "$TMP/e")"; fi
scripts/demo-stall.sh --model nosuch >/dev/null 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && grep -q -- --model "$TMP/e" && pass stall_bad_model || fail stall_bad_model "rc=$rc"
check_help stall_help scripts/demo-stall.sh
RATE=fast scripts/bench-latency.sh >/dev/null 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && grep -q RATE "$TMP/e" && pass bench_latency_bad_env || fail bench_latency_bad_env "rc=$rc $(head -c 200 "$TMP/e")"
PIN=2 scripts/bench-latency.sh >/dev/null 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ] && grep -q PIN "$TMP/e" && pass bench_latency_bad_pin || fail bench_latency_bad_pin "rc=$rc $(head -c 200 "$TMP/e")"
SERVER_HOST=root@nowhere.invalid LOAD_HOSTS=root@nowhere.invalid PIN=1 scripts/bench-latency.sh >/dev/null 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ] && grep -q "PIN=1" "$TMP/e" && pass bench_latency_pin1_with_hosts_refused ||
  fail bench_latency_pin1_with_hosts_refused "rc=$rc $(head -c 200 "$TMP/e")"

# --- 1. the stall: corrected p99.9 shows it, uncorrected does not --------------------
# p999 FILE LABEL — the p99.9 (ms) of the table row that starts with LABEL
# (columns: messages p50 p99 p99.9 max, so p99.9 is the next to last)
p999() { awk -v l="$2" 'index($0, "  " l) == 1 { print $(NF - 1) }' "$1"; }
maxv() { awk -v l="$2" 'index($0, "  " l) == 1 { print $NF }' "$1"; }
spids=""
for m in $MODELS; do
  plan 6
  out=$TMP/stall-$m.txt
  if ! BIN=$BIN timeout 60 scripts/demo-stall.sh --model "$m" --secs 3 >"$out" 2>"$TMP/stall.err"; then
    fail "stall_${m}_runs" "exit $?: $(tail -n 2 "$TMP/stall.err" | tr '\n' ' ')"
    continue
  fi
  pass "stall_${m}_runs"
  # the PID of the server the demo started ("... listening on port N (pid P)")
  spids+=" $(sed -n 's/.* listening on port [0-9]* (pid \([0-9]*\))$/\1/p' "$out" | head -n 1)"
  ge "stall_${m}_open_corrected_p999_shows_stall_ms" "$(p999 "$out" 'open loop, corrected')" 500
  lt "stall_${m}_open_uncorrected_p999_hides_it_ms" "$(p999 "$out" 'open loop, uncorrected')" 200
  lt "stall_${m}_closed_p999_hides_it_ms" "$(p999 "$out" 'closed loop')" 200
  ge "stall_${m}_closed_max_saw_it_ms" "$(maxv "$out" 'closed loop')" 500
  n=$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} (SIGSTOP|SIGCONT)' "$out")
  [ "$n" -eq 4 ] && pass "stall_${m}_timestamped_signals" || fail "stall_${m}_timestamped_signals" "$n stamped SIGSTOP/SIGCONT lines, want 4"
done
# every server a demo started is gone (it stops it by its PID). The server is
# the demo's child, not ours: look for the PIDs the demos printed (one per
# model that ran); a PID since given to another program does not count.
plan 2 # and hgrm_parses
sleep 0.2
left="" n=0
for p in $spids; do
  n=$((n + 1))
  grep -q 'echo-' "/proc/$p/cmdline" 2>/dev/null && left+=" $p"
done
if [ "$n" -gt 0 ] && [ -z "$left" ]; then pass "stall_no_server_left ($n servers started, all gone)"
else fail stall_no_server_left "$n server PIDs printed by the demos; still running:${left:- (no PID was printed)}"; fi

# --- 2. the percentile file ------------------------------------------------------------
if start_server hgrm "$BIN/echo-epoll" --port 0; then
  timeout 30 "$BIN/loadgen" --port "$SPORT" -c 4 --rate 4000 --secs 1 --csv --percentiles "$TMP/p.hgrm" >"$TMP/p.csv" 2>"$TMP/p.err"
  stop_server "$SPID"
  msgs=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "msgs") k = i } NR == 2 { print $k }' "$TMP/p.csv")
  # prints "ok" or what is wrong, first problem only
  verdict=$(awk -v msgs="$msgs" '
    NR == 1 { if ($1 != "Value" || $2 != "Percentile" || $3 != "TotalCount" || $4 != "1/(1-Percentile)") { print "title line: " $0; bad = 1; exit } next }
    /^#\[/ { foot++; if ($0 ~ /Total count *= *[0-9]+/) { t = $0; sub(/.*Total count *= */, "", t); sub(/[^0-9].*/, "", t); total = t } next }
    NF == 0 { next }
    { if (foot) { print "data after the footer: " $0; bad = 1; exit }
      rows++
      if ($2 + 0 < 1 && NF != 4) { print "not 4 columns: " $0; bad = 1; exit }
      if ($2 + 0 == 1) { last = 1; if (NF != 3) { print "the 100% row has " NF " columns"; bad = 1; exit } }
      if (rows > 1 && ($1 + 0 < pv || $2 + 0 < pp || $3 + 0 < pc)) { print "decreasing at: " $0; bad = 1; exit }
      pv = $1 + 0; pp = $2 + 0; pc = $3 + 0 }
    END { if (bad) exit
      if (rows < 10) print "only " rows " rows"
      else if (!last) print "no 100% row"
      else if (foot != 3) print foot " footer lines, want 3"
      else if (total != msgs || pc != msgs) print "counts: footer " total ", last row " pc ", loadgen msgs " msgs
      else print "ok" }' "$TMP/p.hgrm")
  [ "$verdict" = ok ] && pass hgrm_parses || fail hgrm_parses "${verdict:-empty file} ($(head -c 200 "$TMP/p.err"))"
else
  fail hgrm_parses "echo-epoll gave no ready line"
fi

# --- 3. bench-latency, tiny --------------------------------------------------------------
lo=$TMP/lat
models="$MODELS epoll"
plan 6
if BIN=$BIN OUT=$lo REPS=1 SECS=1 WARMUP=0.2 CAP_SECS=0.5 RATE=2000 CONNS=10 LAT_MODELS="$models" \
   timeout 120 scripts/bench-latency.sh >"$TMP/bl.out" 2>"$TMP/bl.err"; then
  pass bench_latency_runs
else
  fail bench_latency_runs "exit $?: $(tail -n 3 "$TMP/bl.err" | tr '\n' ' ')"
fi
want="model,rep,rate,conns,secs,msgs,msgs_per_s,errors,p50_us,p90_us,p99_us,p999_us,p9999_us,max_us,p50_unc_us,p99_unc_us,p999_unc_us,max_unc_us,load_hosts,start_spread_ms"
hdr=$(head -n 1 "$lo/latency.csv" 2>/dev/null)
[ "$hdr" = "$want" ] && pass bench_latency_csv_header || fail bench_latency_csv_header "got '$hdr'"
bad=$(awk -F, 'NR > 1 { for (i = 3; i <= NF; i++) if ($i !~ /^[0-9]+(\.[0-9]+)?$/) printf "%s row %d col %d=%s; ", $1, NR, i, $i
                         if (NF != 20) printf "row %d has %d fields; ", NR, NF
                         if ($19 != 1 || $20 != 0) printf "row %d: load_hosts %s, start_spread_ms %s here; ", NR, $19, $20 }' "$lo/latency.csv" 2>/dev/null)
rows=$(($(wc -l <"$lo/latency.csv" 2>/dev/null || echo 0) - 1))
nm=$(wc -w <<<"$models")
if [ "$rows" -eq "$nm" ] && [ -z "$bad" ]; then pass bench_latency_csv_filled
else fail bench_latency_csv_filled "$rows rows for $nm models; $bad"; fi
missing=""
for m in $models; do [ -s "$lo/$m-rep1.hgrm" ] || missing="$missing $m"; done
[ -z "$missing" ] && pass bench_latency_hgrm_per_run || fail bench_latency_hgrm_per_run "no .hgrm for:$missing"
miss=""
for k in date commit kernel cpu cores command pinning; do grep -q "^$k: ." "$lo/meta.txt" 2>/dev/null || miss="$miss $k"; done
[ -z "$miss" ] && pass bench_latency_meta || fail bench_latency_meta "meta.txt lacks:$miss"
if [ -s "$lo/latency.png" ] && [ "$(head -c 8 "$lo/latency.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
   [ "$(stat -c %s "$lo/latency.png")" -gt 10000 ]; then pass bench_latency_png
else fail bench_latency_png "missing, empty or not a PNG: $(ls -l "$lo/latency.png" 2>&1)"; fi

# --- 4. pinning: PIN=auto halves 4 or more CPUs, leaves 2 alone; meta.txt says which ---
plan 5
# pins VAR=VALUE... — the pinning line a run would use
pins() { env "$@" scripts/bench-latency.sh --pinning 2>&1; }
got=$(pins LAT_CPUS=0-3)
[ "$got" = "pinning: halves (server on CPUs 0,1, loadgen on CPUs 2,3; taskset)" ] && pass pin_auto_halves_on_4 || fail pin_auto_halves_on_4 "$got"
got=$(pins LAT_CPUS=0,2,4,6,8,10)
[ "$got" = "pinning: halves (server on CPUs 0,2,4, loadgen on CPUs 6,8,10; taskset)" ] && pass pin_auto_halves_on_6 || fail pin_auto_halves_on_6 "$got"
got=$(pins LAT_CPUS=0-1)
[[ $got == "pinning: none ("*"2 CPUs"* ]] && pass pin_auto_none_on_2 || fail pin_auto_none_on_2 "$got"
got=$(pins LAT_CPUS=0-7 PIN=1)
[ "$got" = "pinning: split (server on CPU 1, loadgen on CPU 0; taskset)" ] && pass pin_1_stays || fail pin_1_stays "$got"
# the tiny run above: this machine's own CPUs decided
want=$(pins); want=${want#pinning: }
got=$(meta_get "$lo/meta.txt" pinning)
if [ -n "$got" ] && [ "$got" = "$want" ] && [[ $got == none* || $got == halves* ]]; then pass "pin_auto_in_meta ($got)"
else fail pin_auto_in_meta "meta.txt '$got', --pinning '$want'"; fi

# --- 5. loadmerge --percentiles: the spectrum of the summed counters -------------------
plan 2
if start_server merge "$BIN/echo-epoll" --port 0; then
  timeout 30 "$BIN/loadgen" --port "$SPORT" -c 3 --rate 3000 --secs 0.5 --csv --dump "$TMP/a.dump" >/dev/null 2>&1
  timeout 30 "$BIN/loadgen" --port "$SPORT" -c 2 --rate 1000 --secs 0.5 --csv --dump "$TMP/b.dump" >/dev/null 2>&1
  stop_server "$SPID"
fi
"$BIN/loadmerge" --percentiles "$TMP/m.hgrm" "$TMP/a.dump" "$TMP/b.dump" >"$TMP/m.csv" 2>"$TMP/m.err"
parts=$(awk '$1 == "hist" { print $2; exit }' "$TMP/a.dump" 2>/dev/null)+$(awk '$1 == "hist" { print $2; exit }' "$TMP/b.dump" 2>/dev/null)
total=$(sed -n 's/.*Total count *= *\([0-9]*\).*/\1/p' "$TMP/m.hgrm" 2>/dev/null)
last=$(awk '$2 + 0 == 1 { print $3 }' "$TMP/m.hgrm" 2>/dev/null)
if [ -n "$total" ] && [ "$total" -gt 0 ] && [ "$total" = "$((parts))" ] && [ "$last" = "$total" ]; then pass "loadmerge_percentiles_sum ($parts = $total)"
else fail loadmerge_percentiles_sum "parts $parts, .hgrm total '$total', 100% row '$last' ($(head -c 200 "$TMP/m.err"))"; fi
# its worst message is the worse of the two hosts' (the counters' max, in ns)
want=$(awk '$1 == "hist" { if ($4 > m) m = $4; nextfile } END { printf "%.3f", m / 1000 }' "$TMP/a.dump" "$TMP/b.dump" 2>/dev/null)
got=$(sed -n 's/^#\[Max *= *\([0-9.]*\),.*/\1/p' "$TMP/m.hgrm" 2>/dev/null)
if [ -n "$got" ] && [ "$got" = "$want" ]; then pass "loadmerge_percentiles_max_of_parts ($got us)"
else fail loadmerge_percentiles_max_of_parts ".hgrm max '$got', the parts' '$want'"; fi
finish
