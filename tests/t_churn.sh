#!/usr/bin/env bash
# t_churn.sh — make bench-churn and make bench-work end to end, at tiny
# settings with two models each: real servers, the real loadgen and bench,
# real gnuplot. Checks the CSV columns, meta.txt, the charts and the summary.
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

png_ok() { [ -s "$1" ] && [ "$(head -c 4 "$1" | tail -c 3)" = PNG ]; }
col_check() { # CSV AWK-CONDITION — every data row meets it (columns by name: c["name"])
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { n++ } END { exit !(n > 0) }' "$1" &&
  awk -F, "NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } !($2) { bad = 1 } END { exit bad }" "$1"
}
meta_keys_ok() { # FILE — meta.sh's own keys first, in order, and the end keys
  local keys; keys=$(sed -n 's/^\([a-z_0-9]*\): .*/\1/p' "$1" | paste -sd ' ' -)
  [[ $keys == "commit dirty date kernel cpu cores memory_kib compiler flags pinning load_start "* ]] &&
    [[ $keys == *" command load_end duration_s" ]]
}
if ! command -v gnuplot >/dev/null; then fail churn_work "gnuplot is not installed (make deps)"; exit 0; fi

# --- bench-churn: fork and pool, K = 1 and 10 ----------------------------------
if [ -x "$BIN/echo-fork" ] && [ -x "$BIN/echo-pool" ]; then
  plan 7
  out="$TMP/churn"
  CHURN_OUT=$out CHURN_SECS=0.4 CHURN_REPS=1 CHURN_K="1 10" CHURN_CONNS=4 CHURN_MODELS="fork pool" BIN=$BIN \
    timeout 120 scripts/bench-churn.sh >"$TMP/churn.out" 2>"$TMP/churn.err"
  rc=$?
  [ "$rc" -eq 0 ] && pass churn_exit_0 || fail churn_exit_0 "exit $rc: $(tail -n 3 "$TMP/churn.err" | tr '\n' ' ')"
  hdr=$(head -n 1 "$out/churn.csv" 2>/dev/null)
  if [[ $hdr == model,conns,msg_bytes,work,rep,*,server_exit,no_reply,msgs_conn_min,msgs_conn_median,msgs_conn_max,jain,per_conn,connects,conns_per_s,cpu_us_per_conn,value ]] &&
     [ "$(($(wc -l <"$out/churn.csv") - 1))" -eq 4 ]; then pass churn_csv_columns_and_rows
  else fail churn_csv_columns_and_rows "header '$hdr', $(wc -l <"$out/churn.csv" 2>/dev/null) lines"; fi
  if col_check "$out/churn.csv" '$c["per_conn"] == $c["value"] && $c["conns_per_s"] > 0 && $c["cpu_us_per_conn"] > 0 && $c["errors"] == 0 && $c["connects"] > $c["conns"] && $c["server_exit"] == "0"'; then
    pass churn_rows_measure_connections
  else fail churn_rows_measure_connections "$(cut -d, -f1,14,26- "$out/churn.csv" | tr '\n' ' ')"; fi
  if grep -q '^  server: .*echo-pool .* --workers 4$' "$out/commands.txt" && grep -q '^  loadgen: .* --per-conn 10$' "$out/commands.txt"; then
    pass churn_pool_sized_and_per_conn_passed
  else fail churn_pool_sized_and_per_conn_passed "$(grep -m 3 'server:\|loadgen:' "$out/commands.txt" | tr '\n' ' ')"; fi
  if meta_keys_ok "$out/meta.txt" && grep -q '^workload: churn$' "$out/meta.txt" && grep -q '^per_conn: 1,10$' "$out/meta.txt" &&
     grep -q '^models: fork,pool$' "$out/meta.txt"; then pass churn_meta
  else fail churn_meta "$(tr '\n' '|' <"$out/meta.txt")"; fi
  if png_ok "$out/churn.png" && png_ok "$out/churn-cpu.png" && grep -q '</svg>' "$out/churn.svg"; then pass churn_charts_drawn
  else fail churn_charts_drawn "$(ls "$out")"; fi
  if grep -Eq '^pool/fork at K=1: [0-9.]+x connections per second \(goal >= 3x: (not )?reached\)$' "$TMP/churn.out" &&
     grep -Eq '^fork +[0-9]+ +[0-9]+ +[0-9.]+$' "$TMP/churn.out" && [ "$(grep -c '^\[' "$TMP/churn.err")" -eq 4 ]; then
    pass churn_summary_and_progress
  else fail churn_summary_and_progress "$(tr '\n' '|' <"$TMP/churn.out")"; fi
else
  plan 1; skip churn "echo-fork or echo-pool not built"
fi
plan 1
CHURN_SECS=x scripts/bench-churn.sh >/dev/null 2>"$TMP/bad.err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/bad.err")" -eq 1 ] && pass churn_bad_setting_exit_2 || fail churn_bad_setting_exit_2 "exit $rc"

# --- bench-work: loop and loops, 0 and 100 us ---------------------------------------
if [ -x "$BIN/echo-loop" ] && [ -x "$BIN/echo-loops" ]; then
  plan 5
  out="$TMP/work"
  WORK_OUT=$out WORK_SECS=0.4 WORK_REPS=1 WORK_US="0 100" WORK_CONNS=4 WORK_MODELS="loop loops" BIN=$BIN \
    timeout 120 scripts/bench-work.sh >"$TMP/work.out" 2>"$TMP/work.err"
  rc=$?
  [ "$rc" -eq 0 ] && pass work_exit_0 || fail work_exit_0 "exit $rc: $(tail -n 3 "$TMP/work.err" | tr '\n' ' ')"
  per_us=$(sed -n 's/^work_units_per_us: //p' "$out/meta.txt")
  if [ "$(($(wc -l <"$out/work.csv") - 1))" -eq 4 ] && [ "$(head -n 1 "$out/work.csv" | awk -F, '{ print $NF }')" = value ] &&
     col_check "$out/work.csv" "(\$c[\"value\"] == 0 ? \$c[\"work\"] == 0 : \$c[\"work\"] == int(\$c[\"value\"] * $per_us + 0.5)) && \$c[\"msgs_per_s\"] > 0 && \$c[\"cores_busy\"] > 0"; then
    pass work_units_from_calibration
  else fail work_units_from_calibration "per_us=$per_us $(cut -d, -f1,4,8 "$out/work.csv" | tr '\n' ' ')"; fi
  if meta_keys_ok "$out/meta.txt" && grep -q '^workload: work$' "$out/meta.txt" && grep -Eq '^work_unit_ns: [0-9.]+$' "$out/meta.txt" &&
     grep -Eq '^work_units: 0us=0,100us=[1-9][0-9]*$' "$out/meta.txt"; then pass work_meta_states_calibration
  else fail work_meta_states_calibration "$(tr '\n' '|' <"$out/meta.txt")"; fi
  if png_ok "$out/work.png" && png_ok "$out/work-cores.png" && grep -q '</svg>' "$out/work-cores.svg"; then pass work_charts_drawn
  else fail work_charts_drawn "$(ls "$out")"; fi
  if grep -Eq '^loops/loop at 100 us of work per message: [0-9.]+x messages per second \(goal >= 1.6x: (not )?reached\)$' "$TMP/work.out"; then
    pass work_summary
  else fail work_summary "$(tr '\n' '|' <"$TMP/work.out")"; fi
else
  plan 1; skip work "echo-loop or echo-loops not built"
fi
plan 1
WORK_US="0 ten" scripts/bench-work.sh >/dev/null 2>"$TMP/bad.err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/bad.err")" -eq 1 ] && pass work_bad_setting_exit_2 || fail work_bad_setting_exit_2 "exit $rc"
finish
