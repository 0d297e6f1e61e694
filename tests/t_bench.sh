#!/usr/bin/env bash
# t_bench.sh — bin/bench, its summary and the echo charts, end to end: a tiny
# matrix (2 connections, 1 s, 1 repetition) over whichever echo servers of
# $MODELS exist in $BIN, with the real loadgen and real gnuplot.
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

COLUMNS_WANT="model,conns,msg_bytes,work,rep,secs,msgs,msgs_per_s,p50_us,p90_us,p99_us,p999_us,max_us,errors,connect_s,cpu_user_s,cpu_sys_s,cpu_us_per_msg,cores_busy,rss_peak_kib,pss_idle_kib,pss_peak_kib,pss_per_conn_kib,procs_peak,threads_peak,server_exit,no_reply,msgs_conn_min,msgs_conn_median,msgs_conn_max,jain,per_conn,connects,conns_per_s,cpu_us_per_conn,other_cpu_s,disturbed,load_hosts,start_spread_ms"

# --- flags ------------------------------------------------------------------
plan 13
check_help help "$BIN/bench"
for bad in "--frobnicate" "--reps x" "--reps 0" "--pin sideways" "--conns 1,,2" "--conns" "--models a,b,"; do
  # shellcheck disable=SC2086
  timeout 10 "$BIN/bench" $bad --out "$TMP/bad" >"$TMP/bad.out" 2>&1
  rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/bad.out")" -eq 1 ]; then pass "bad flag '$bad' -> exit 2"
  else fail "bad flag '$bad' -> exit 2" "exit $rc: $(head -c 200 "$TMP/bad.out")"; fi
done

# --- a name that is not a registered model: one line naming --models, exit 2 ----------
timeout 10 "$BIN/bench" --bin "$BIN" --models nosuchmodel --conns 2 --secs 1 --reps 1 \
  --out "$TMP/unknown" >"$TMP/unknown.out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/unknown.out")" -eq 1 ] && grep -q -- "--models: 'nosuchmodel'" "$TMP/unknown.out"; then
  pass "unregistered model: one line naming --models, exit 2"
else
  fail "unregistered model: one line naming --models, exit 2" "exit $rc: $(head -c 200 "$TMP/unknown.out")"
fi

# --- more names than bench holds: refused, none dropped (17 names once ran 16) --------
many=$(printf 'nosuch%d,' $(seq 1 65)); many=${many%,}
timeout 10 "$BIN/bench" --bin "$BIN" --models "$many" --conns 2 --secs 1 --reps 1 --out "$TMP/many" >"$TMP/many.out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/many.out")" -eq 1 ] && grep -q -- '--models: 65 models, at most 64' "$TMP/many.out"; then
  pass "65 models: one line saying how many bench takes, exit 2 (none silently dropped)"
else fail "65 models: one line saying how many bench takes, exit 2" "exit $rc: $(head -c 200 "$TMP/many.out")"; fi

# --help lists the registered models; the default --models is all of them, in order
registered=$(scripts/models.sh | paste -sd, -)
"$BIN/bench" --help >"$TMP/help.out" 2>&1
if grep -q "Models (models/NAME/about.txt): $(scripts/models.sh | paste -sd, - | sed 's/,/, /g')\." "$TMP/help.out" &&
   grep -q "(default $registered)" "$TMP/help.out"; then pass "--help lists the registered models, the default is all of them"
else fail "--help lists the registered models, the default is all of them" "$(grep -i models "$TMP/help.out" | tr '\n' ' ')"; fi

# A source tree of our own (C10K_ROOT): models/ghost and models/broken are
# registered there; ghost has no program, broken's echo server dies before
# its ready line. scripts/ is the real one (meta.sh).
root="$TMP/root"
for m in ghost broken; do
  mkdir -p "$root/models/$m"
  printf 'connection: a test\nswitches: nobody\norder: 5\n' >"$root/models/$m/about.txt"
  touch "$root/models/$m/echo.c" "$root/models/$m/fetch.c"
done
touch "$root/Makefile"
ln -s "$(pwd)/scripts" "$root/scripts"

# --- a registered model without a program: a clear error at once -------------------------
C10K_ROOT=$root timeout 10 "$BIN/bench" --bin "$BIN" --models ghost --conns 2 --secs 1 --reps 1 \
  --out "$TMP/missing" >"$TMP/missing.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "ghost" "$TMP/missing.out" && grep -q "echo-ghost" "$TMP/missing.out"; then
  pass "missing model program: clear error"
else
  fail "missing model program: clear error" "exit $rc: $(head -c 200 "$TMP/missing.out")"
fi

# --- a server that dies before its ready line: no hang, the run is reported -----
mkdir -p "$TMP/fakebin"
ln -s "$(cd "$BIN" && pwd)/loadgen" "$TMP/fakebin/loadgen"
printf '#!/bin/sh\necho "about to fail" >&2\nexit 3\n' >"$TMP/fakebin/echo-broken"
chmod +x "$TMP/fakebin/echo-broken"
start=$SECONDS
C10K_ROOT=$root timeout 60 "$BIN/bench" --bin "$TMP/fakebin" --models broken --conns 2 --secs 1 --reps 1 \
  --out "$TMP/broken" >"$TMP/broken.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "echo-broken (pid [0-9]*) did not get ready: exited with status 3 before its ready line" "$TMP/broken.out" &&
   grep -q "1 failed" "$TMP/broken.out"; then
  pass "server that never starts: reported, exit 1 ($((SECONDS - start)) s)"
else
  fail "server that never starts: reported, exit 1" "exit $rc: $(tail -n 3 "$TMP/broken.out" | tr '\n' ' ')"
fi

# --- the tiny matrix ------------------------------------------------------------
models=()
for m in $MODELS; do [ -x "$BIN/echo-$m" ] && models+=("$m"); done
if [ ${#models[@]} -eq 0 ]; then
  fail "tiny matrix" "none of the models '$MODELS' has a program in $BIN"
  exit 0
fi
list=$(IFS=,; echo "${models[*]}")
plan 19 # the matrix, its meta, the summary, --compare, a disturbed run, --per-conn, --calibrate-work
out="$TMP/run"
timeout 120 "$BIN/bench" --bin "$BIN" --models "$list" --conns 2 --secs 1 --reps 1 --out "$out" \
  >"$TMP/run.out" 2>"$TMP/run.err"
rc=$?
if [ "$rc" -eq 0 ]; then pass "bench on $list exits 0"
else fail "bench on $list exits 0" "exit $rc: $(tail -n 3 "$TMP/run.err" | tr '\n' ' ')"; fi

csv="$out/echo.csv"
if [ "$(head -n 1 "$csv" 2>/dev/null)" = "$COLUMNS_WANT" ]; then pass "echo.csv header is exactly the documented columns"
else fail "echo.csv header is exactly the documented columns" "got: $(head -n 1 "$csv" 2>/dev/null)"; fi

rows=$(($(wc -l <"$csv" 2>/dev/null || echo 1) - 1))
if [ "$rows" -eq ${#models[@]} ]; then pass "one row per run (${#models[@]})"
else fail "one row per run (${#models[@]})" "$rows rows"; fi

# every column filled; servers stopped cleanly; the numbers make sense
bad=$(awk -F, 'NR == 1 { n = NF; next }
  { if (NF != n) { print "row " NR " has " NF " fields"; next }
    for (i = 1; i <= NF; i++) if ($i == "") print "row " NR " column " i " empty"
    if ($26 != "0") print $1 ": server_exit " $26
    if ($7 + 0 <= 0) print $1 ": no messages"
    if ($22 + 0 <= 0 || $20 + 0 <= 0) print $1 ": no memory sampled"
    if ($24 + 0 < 1 || $25 + 0 < 1) print $1 ": no process or thread counted"
    if ($16 + $17 <= 0) print $1 ": no CPU time" }' "$csv" 2>&1)
if [ -z "$bad" ] && [ "$rows" -gt 0 ]; then pass "every row has every column filled, server_exit 0"
else fail "every row has every column filled, server_exit 0" "$(echo "$bad" | head -n 3 | tr '\n' ';')"; fi

# the sampler sees the whole tree: the fork server has a child per connection,
# the threads server a thread per connection
for m in "${models[@]}"; do
  case "$m" in
    fork)    plan 1; v=$(awk -F, '$1 == "fork" { print $24 }' "$csv")
             if [ "${v:-0}" -ge 3 ]; then pass "fork: process tree sampled (procs_peak $v >= 3)"
             else fail "fork: process tree sampled" "procs_peak ${v:-none}, want >= 3"; fi ;;
    threads) plan 1; v=$(awk -F, '$1 == "threads" { print $25 }' "$csv")
             if [ "${v:-0}" -ge 3 ]; then pass "threads: threads counted (threads_peak $v >= 3)"
             else fail "threads: threads counted" "threads_peak ${v:-none}, want >= 3"; fi ;;
  esac
done

# meta.txt: scripts/meta.sh's keys in its order, then bench's own, the command, the end
keys=$(sed -n 's/^\([a-z_0-9]*\): .*/\1/p' "$out/meta.txt" 2>/dev/null | paste -sd ' ' -)
want="commit dirty date kernel cpu cores memory_kib compiler flags pinning load_start workload models conns reps secs msg_bytes work loadgen_threads stack_kib per_conn pool_size disturbed_cores command load_end duration_s runs"
if [ "$keys" = "$want" ]; then pass "meta.txt has every key, in meta.sh's order"
else fail "meta.txt has every key, in meta.sh's order" "got: $keys"; fi
if grep -q "^models: $list\$" "$out/meta.txt" && grep -q "^command: .*bench --bin" "$out/meta.txt" &&
   grep -q "^runs: ${#models[@]} (0 failed, 0 marked" "$out/meta.txt"; then pass "meta.txt says the matrix, the command and the runs"
else fail "meta.txt says the matrix, the command and the runs" "$(grep -E '^(models|command|runs):' "$out/meta.txt" | tr '\n' ' ')"; fi
n_srv=$(grep -c '^  server: ' "$out/commands.txt" 2>/dev/null)
n_lg=$(grep -c '^  loadgen: ' "$out/commands.txt" 2>/dev/null)
if [ "${n_srv:-0}" -eq ${#models[@]} ] && [ "${n_lg:-0}" -eq ${#models[@]} ]; then pass "commands.txt has every command"
else fail "commands.txt has every command" "$n_srv server, $n_lg loadgen lines"; fi
if [ "$(grep -c '^\[' "$TMP/run.err")" -eq ${#models[@]} ]; then pass "one progress line per run"
else fail "one progress line per run" "$(head -n 3 "$TMP/run.err" | tr '\n' ' ')"; fi

# --- summary ----------------------------------------------------------------------
"$BIN/bench" --summarize "$csv" >"$TMP/sum.csv" 2>"$TMP/sum.err"
if [ $? -eq 0 ] && [ "$(wc -l <"$TMP/sum.csv")" -eq $((${#models[@]} + 1)) ] &&
   head -n 1 "$TMP/sum.csv" | grep -q '^model,conns,.*msgs_per_s_min,msgs_per_s_max,.*,reps,bad_runs,disturbed_runs,spread_pct$' &&
   cmp -s "$TMP/sum.csv" "$out/echo-summary.csv"; then
  pass "--summarize: one row per model, same as echo-summary.csv"
else
  fail "--summarize: one row per model, same as echo-summary.csv" "$(head -n 2 "$TMP/sum.csv" | tr '\n' ' ') $(cat "$TMP/sum.err")"
fi

# medians, min and max on numbers we choose (3 reps, out of order; 2 reps: mean of the middle)
{ # the columns before loadgen's fairness ones: a CSV of an older run summarises the same
  echo "${COLUMNS_WANT%%,server_exit,*},server_exit"
  echo "a,10,64,0,1,1,100,30,1,1,400,1,1,0,0,1,1,5,1,1,1,1,7,1,1,0"
  echo "a,10,64,0,2,1,100,10,1,1,100,1,1,0,0,1,1,3,1,1,1,1,9,1,1,0"
  echo "a,10,64,0,3,1,100,20,1,1,200,1,1,0,0,1,1,4,1,1,1,1,8,1,1,signal:9"
  echo "b,10,64,0,1,1,100,1,1,1,1,1,1,2,0,1,1,1,1,1,1,1,1,1,1,0"
  echo "b,10,64,0,2,1,100,2,1,1,1,1,1,0,0,1,1,1,1,1,1,1,1,1,1,0"
} >"$TMP/synthetic.csv"
"$BIN/bench" --summarize "$TMP/synthetic.csv" >"$TMP/syn.out" 2>&1
got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { print $c["model"], $c["msgs_per_s"], $c["msgs_per_s_min"], $c["msgs_per_s_max"], $c["p99_us"],
          $c["pss_per_conn_kib"], $c["cpu_us_per_msg_max"], $c["reps"], $c["bad_runs"] }' "$TMP/syn.out" | tr '\n' ';')
want="a 20 10 30 200 8 5 3 1;b 1.5 1 2 1 1 1 2 1;"
if [ "$got" = "$want" ]; then pass "--summarize: medians, min/max, reps, bad runs"
else fail "--summarize: medians, min/max, reps, bad runs" "got '$got' want '$want'"; fi
"$BIN/bench" --summarize "$TMP/nonexistent.csv" >/dev/null 2>"$TMP/noent.err"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$TMP/noent.err")" -eq 1 ]; then pass "--summarize on a missing file: one line, exit 1"
else fail "--summarize on a missing file: one line, exit 1" "exit $rc"; fi

# --- comparisons: a ratio with its interval from the rounds (bench --compare) -------
# b against base a, per round: 6 rounds -> min..max (96.9%); 9 rounds -> 2nd..8th (96.1%)
{
  echo "model,conns,rep,msgs_per_s,cpu_us_per_msg"
  for r in 1 2 3 4 5 6; do echo "a,10,$r,100,10"; done
  i=0; for v in 120 130 110 125 140 115; do i=$((i + 1)); echo "b,10,$i,$v,$((8 + i % 3))"; done
  for r in 1 2 3 4 5 6 7 8 9; do echo "a,20,$r,100,1"; echo "b,20,$r,$((95 + r)),1"; done
  for r in 1 2 3; do echo "a,30,$r,100,1"; echo "b,30,$r,$((90 + 10 * r)),1"; done
} >"$TMP/cmp.csv"
"$BIN/bench" --compare "$TMP/cmp.csv" --base a --metrics msgs_per_s,cpu_us_per_msg >"$TMP/cmp.out" 2>&1
got=$(awk -F, 'NR > 1 { printf "%s@%s=%s[%s,%s]%s%%,%s;", $1, $4, $8, $9, $10, $12, $13 }' "$TMP/cmp.out")
want="msgs_per_s@10=1.225[1.1,1.4]96.9%,higher;msgs_per_s@20=1[0.97,1.03]96.1%,within noise;msgs_per_s@30=1.1[1,1.2]75.0%,within noise;"
want="${want}cpu_us_per_msg@10=0.9[0.8,1]96.9%,within noise;cpu_us_per_msg@20=1[1,1]96.1%,within noise;cpu_us_per_msg@30=1[1,1]75.0%,within noise;"
if [ "$got" = "$want" ]; then pass "--compare: ratio of medians, order-statistic interval of the per-round ratios, its coverage, the verdict"
else fail "--compare: ratio of medians, order-statistic interval of the per-round ratios, its coverage, the verdict" "got '$got' want '$want'"; fi
"$BIN/bench" --compare "$TMP/cmp.csv" >/dev/null 2>"$TMP/cmp.err"; rc=$?
"$BIN/bench" --compare "$TMP/cmp.csv" --base nosuch >/dev/null 2>>"$TMP/cmp.err"; rc2=$?
if [ "$rc" -eq 2 ] && [ "$rc2" -eq 1 ] && grep -q 'needs --base' "$TMP/cmp.err" && grep -q "no rows of the base model 'nosuch'" "$TMP/cmp.err"; then
  pass "--compare without --base, or with a base not in the CSV: one line each"
else fail "--compare without --base, or with a base not in the CSV: one line each" "rc $rc $rc2: $(cat "$TMP/cmp.err")"; fi

# --- a disturbed run says so: CPU burnt outside the benchmark is counted -------------
# The burner takes a core for the whole run, but on 2 cores it shares them
# with the server and loadgen: 0.3 s of its CPU is far above what a quiet
# machine shows, and far below what it burns. A run afterwards checks the
# other side, whatever else the machine is doing: the machine's busy time
# around that run (/proc/stat) minus the CPU of the benchmark's own process
# tree (bash's time) bounds other_cpu_s; counting the server and loadgen as
# "other" (about 1.7 s here) breaks it.
m=${models[0]}
( exec timeout 8 sh -c 'while :; do :; done' ) & burner=$!
timeout 60 "$BIN/bench" --bin "$BIN" --models "$m" --conns 2 --secs 1.5 --reps 1 --out "$TMP/dist" >/dev/null 2>"$TMP/dist.err"
timeout 60 "$BIN/bench" --bin "$BIN" --models "$m" --conns 2 --secs 1 --reps 1 --disturbed 100 --out "$TMP/calm" >/dev/null 2>&1
kill "$burner" 2>/dev/null; wait "$burner" 2>/dev/null
busy_s() { awk '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) / 100; exit }' /proc/stat; } # USER_HZ is 100 on Linux
b0=$(busy_s)
TIMEFORMAT='%U %S' # bash's time: CPU of bench and of the server and loadgen it reaped
{ time timeout 60 "$BIN/bench" --bin "$BIN" --models "$m" --conns 2 --secs 1.5 --reps 1 --out "$TMP/quiet" >/dev/null 2>&1; } 2>"$TMP/quiet.time"
b1=$(busy_s)
ours=$(awk '{ print $1 + $2 }' "$TMP/quiet.time")
col() { awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c[n] }' "$1"; }
got="$(awk -v x="$(col "$TMP/dist/echo.csv" other_cpu_s)" 'BEGIN { print (x >= 0.3) }') $(col "$TMP/dist/echo.csv" disturbed)"
calm=$(col "$TMP/calm/echo.csv" disturbed)
dr=$(col "$TMP/dist/echo-summary.csv" disturbed_runs)
if [ "$got" = "1 1" ] && [ "$calm" = 0 ] && [ "$dr" = 1 ] && grep -q '(disturbed)' "$TMP/dist.err"; then
  pass "a busy loop beside the run: other_cpu_s counted, the row and the summary marked disturbed (not above --disturbed 100)"
else fail "a busy loop beside the run: other_cpu_s counted, the row and the summary marked disturbed" "got '$got' calm '$calm' summary '$dr' (other_cpu_s $(col "$TMP/dist/echo.csv" other_cpu_s))"; fi
q_other=$(col "$TMP/quiet/echo.csv" other_cpu_s); q_own=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["cpu_user_s"] + $c["cpu_sys_s"] }' "$TMP/quiet/echo.csv")
outside=$(awk -v a="$b0" -v z="$b1" -v o="$ours" 'BEGIN { print z - a - o }')
if awk -v o="$q_other" -v s="$q_own" -v x="$outside" 'BEGIN { exit !(o != "" && o >= 0 && s > 0.3 && o < x + 0.3) }'; then
  pass "the benchmark's own CPU is not counted as other (other_cpu_s $q_other s; everything outside the benchmark's processes: $outside s; the server alone: $q_own s)"
else fail "the benchmark's own CPU is not counted as other" "other_cpu_s '$q_other' > outside CPU '$outside' + 0.3 s (server '$q_own', benchmark tree '$ours')"; fi

# --- fairness, churn, pool size, work calibration ------------------------------------
# every row: Jain's index in (0, 1], no connection without a reply (2 connections)
bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { if (!($c["jain"] > 0 && $c["jain"] <= 1 && $c["no_reply"] == 0 && $c["per_conn"] == 0)) print $1 ": jain " $c["jain"] " no_reply " $c["no_reply"] }' "$csv")
if [ -z "$bad" ] && [ "$rows" -gt 0 ]; then pass "fairness columns filled: Jain in (0,1], no_reply 0"
else fail "fairness columns filled: Jain in (0,1], no_reply 0" "$bad"; fi
# --per-conn and --pool-size reach loadgen and the pool model's --workers; the row says so
if [ -x "$BIN/echo-pool" ]; then
  timeout 60 "$BIN/bench" --bin "$BIN" --models pool --conns 3 --secs 0.5 --reps 1 --per-conn 2 --pool-size 3 \
    --out "$TMP/churn" >"$TMP/churn.out" 2>&1
  rc=$?
  got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { print ($c["per_conn"] == 2) ($c["conns_per_s"] > 0) ($c["cpu_us_per_conn"] > 0) ($c["connects"] > 3) ($c["errors"] == 0) }' "$TMP/churn/echo.csv" 2>/dev/null)
  if [ "$rc" -eq 0 ] && [ "$got" = 11111 ] && grep -q '^  server: .*echo-pool .* --workers 3$' "$TMP/churn/commands.txt" &&
     grep -q '^  loadgen: .* --per-conn 2$' "$TMP/churn/commands.txt" && grep -q '^per_conn: 2$' "$TMP/churn/meta.txt" &&
     grep -q '^pool_size: 3$' "$TMP/churn/meta.txt"; then
    pass "--per-conn K and --pool-size N: passed on, recorded, conns_per_s and cpu_us_per_conn filled"
  else fail "--per-conn K and --pool-size N: passed on, recorded, conns_per_s and cpu_us_per_conn filled" \
    "exit $rc got '$got' $(tail -n 2 "$TMP/churn.out" | tr '\n' ' ')"; fi
else skip "--per-conn K and --pool-size N" "no $BIN/echo-pool"
fi
"$BIN/bench" --calibrate-work >"$TMP/cal.out" 2>&1
if awk '$1 == "work_unit_ns" && $2 > 0 { a = 1 } $1 == "units_per_us" && $2 > 0 { b = 1 } END { exit !(a && b && NR == 2) }' "$TMP/cal.out"; then
  pass "--calibrate-work: nanoseconds per work unit"
else fail "--calibrate-work: nanoseconds per work unit" "$(cat "$TMP/cal.out")"; fi
# the summary keeps a sweep's settings apart: one group per model x conns x per_conn x work
{
  echo "model,conns,work,per_conn,msgs_per_s"
  echo "a,10,0,1,100"; echo "a,10,0,10,300"; echo "a,10,0,1,200"; echo "a,10,5,1,7"
} >"$TMP/sweep.csv"
got=$("$BIN/bench" --summarize "$TMP/sweep.csv" 2>&1 | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { printf "%s/%s/%s=%s ", $c["per_conn"], $c["work"], $c["reps"], $c["msgs_per_s"] }')
if [ "$got" = "1/0/2=150 1/5/1=7 10/0/1=300 " ]; then pass "--summarize: groups by per_conn and work too"
else fail "--summarize: groups by per_conn and work too" "got '$got'"; fi

# --- --pin: CPU sets from the CPUs this process may use (its affinity) -------------------
plan 2
taskset -c 0 "$BIN/bench" --bin "$BIN" --pin split --models loop --conns 2 --reps 1 --secs 0.2 --out "$TMP/pin1" >"$TMP/pin1.out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/pin1.out")" -eq 1 ] && grep -q -- "--pin split: needs at least 2 CPUs.*may use 1" "$TMP/pin1.out"; then
  pass "--pin split with one CPU to run on (taskset -c 0): one line, exit 2"
else fail "--pin split with one CPU to run on (taskset -c 0): one line, exit 2" "exit $rc: $(head -c 200 "$TMP/pin1.out")"; fi
if [ "$(nproc)" -ge 2 ]; then
  c=$(cpu_list | head -n 2 | paste -sd , -)
  taskset -c "$c" "$BIN/bench" --bin "$BIN" --pin halves --models loop --conns 2 --reps 1 --secs 0.2 --out "$TMP/pin2" >/dev/null 2>&1
  want="pinning: split (server on CPUs ${c%,*}; loadgen and bench on CPUs ${c#*,})"
  if grep -qxF "$want" "$TMP/pin2/meta.txt" 2>/dev/null; then pass "--pin halves on two CPUs: one each, named in meta.txt"
  else fail "--pin halves on two CPUs: one each, named in meta.txt" "want '$want', got '$(grep pinning "$TMP/pin2/meta.txt" 2>/dev/null)'"; fi
else skip "--pin halves on two CPUs" "this machine has one"; fi

# --- charts -------------------------------------------------------------------------
if ! command -v gnuplot >/dev/null; then
  fail "charts" "gnuplot is not installed (make deps)"
  exit 0
fi
plan 4
BIN=$BIN timeout 60 scripts/charts.sh "$out" >"$TMP/charts.out" 2>&1
rc=$?
missing=""
for c in throughput p99 memory cpu fairness; do
  [ -s "$out/$c.png" ] && [ "$(head -c 4 "$out/$c.png" | tail -c 3)" = "PNG" ] || missing="$missing $c.png"
  [ -s "$out/$c.svg" ] && grep -q '</svg>' "$out/$c.svg" || missing="$missing $c.svg"
done
if [ "$rc" -eq 0 ] && [ -z "$missing" ]; then pass "charts.sh draws 5 PNG and 5 SVG charts (fairness too)"
else fail "charts.sh draws 5 PNG and 5 SVG charts (fairness too)" "exit $rc, missing:$missing $(tail -n 2 "$TMP/charts.out" | tr '\n' ' ')"; fi
if grep -q "$(sed -n 's/^commit: //p' "$out/meta.txt")" "$out/throughput.svg"; then pass "charts carry the footnote from meta.txt"
else fail "charts carry the footnote from meta.txt" "commit not found in throughput.svg"; fi
pin=$(sed -n 's/^pinning: \([a-z]*\).*/\1/p' "$out/meta.txt")
if [ -n "$pin" ] && grep -q "pinning $pin" "$out/throughput.svg"; then pass "... and say the run's pinning ($pin)"
else fail "... and say the run's pinning ($pin)" "'pinning $pin' not in throughput.svg"; fi
scripts/charts.sh "$TMP/nowhere" >/dev/null 2>"$TMP/nowhere.err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "echo.csv not found" "$TMP/nowhere.err"; then pass "charts.sh on an empty folder: clear error"
else fail "charts.sh on an empty folder: clear error" "exit $rc"; fi
finish
