#!/usr/bin/env bash
# tests/t_units.sh — bin/micro-unitcost (micro/unitcost.c) and
# scripts/bench-units.sh: every row is there, every figure is a positive
# number, the flags are checked, the chart is drawn. The only comparison is
# one no noisy machine can flip: creating a coroutine is cheaper than forking
# a process (by orders of magnitude). No other timing is asserted.
source "$(dirname "$0")/lib.sh"

P=$BIN/micro-unitcost
SMALL=(--count 200 --switches 2000 --reps 1 --live 100)
if [ ! -x "$P" ]; then fail units_built "$P missing (run make)"; exit 0; fi

plan 20 # flags (7), the CSV (10), the benchmark (3)
# --- flags -------------------------------------------------------------------
check_help units_help "$P"
bad_flag() { # NAME WANT_IN_STDERR ARGS... — exit 2 and one line naming the flag
  local name=$1 want=$2; shift 2
  "$P" "$@" >"$TMP/o" 2>"$TMP/e"; local rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ] && grep -q -- "$want" "$TMP/e"; then pass "$name"
  else fail "$name" "rc=$rc stderr=$(head -c 200 "$TMP/e")"; fi
}
bad_flag units_unknown_flag --no-such-flag --no-such-flag
bad_flag units_bad_count --count --count abc
bad_flag units_zero_reps --reps --reps 0
bad_flag units_bad_kind --kind --kind process,goroutine
bad_flag units_bad_what --what --what everything
bad_flag units_positional "'extra'" extra

# --- a small full run, as CSV ---------------------------------------------------
if timeout 120 "$P" "${SMALL[@]}" --csv >"$TMP/u.csv" 2>"$TMP/u.err"; then pass units_csv_runs
else fail units_csv_runs "exit $?: $(head -c 200 "$TMP/u.err")"; fi

header=kind,what,pinned,count,ns_per_unit_median,ns_min,ns_max,pss_kib_per_unit,kernel_kib_per_unit
[ "$(head -n 1 "$TMP/u.csv")" = "$header" ] && pass units_csv_header || fail units_csv_header "$(head -n 1 "$TMP/u.csv")"

want_rows="process,create,no thread,create,no coroutine,create,no process,create,yes thread,create,yes
coroutine,create,yes process,switch,no thread,switch,no coroutine,switch,no coroutine,switch-chan,no
process,switch,yes thread,switch,yes coroutine,switch,yes coroutine,switch-chan,yes"
missing=""
for r in $want_rows; do grep -q "^$r," "$TMP/u.csv" || missing="$missing $r"; done
[ -z "$missing" ] && pass units_every_row || fail units_every_row "missing:$missing"
n=$(($(wc -l <"$TMP/u.csv") - 1))
[ "$n" -eq 14 ] && pass units_row_count || fail units_row_count "$n rows, want 14"

# times: positive, min <= median <= max; counts as asked
bad=$(awk -F, 'NR > 1 && !($5 > 0 && $6 > 0 && $7 > 0 && $6 <= $5 && $5 <= $7) { print $1 "/" $2 "/" $3 }' "$TMP/u.csv" | tr '\n' ' ')
[ -z "$bad" ] && pass units_times_positive || fail units_times_positive "bad rows: $bad"
bad=$(awk -F, 'NR > 1 && $4 != ($2 == "create" ? 200 : 2000) { print $1 "/" $2 }' "$TMP/u.csv" | tr '\n' ' ')
[ -z "$bad" ] && pass units_counts || fail units_counts "wrong count in: $bad"

# memory: on the unpinned create rows only; user PSS > 0; kernel a number
# within 1 MiB a unit either way (a machine-wide delta: it may even come out
# negative on a busy machine; a process costs ~100 KiB, a coroutine ~0; bytes
# for KiB, or no division by the count, land far outside)
bad=$(awk -F, 'NR > 1 {
    mem = ($2 == "create" && $3 == "no")
    if (mem && !($8 > 0 && $9 ~ /^-?[0-9]+(\.[0-9]+)?$/ && $9 > -1024 && $9 < 1024)) print $1 "/" $2 "/" $3
    if (!mem && ($8 != "" || $9 != "")) print $1 "/" $2 "/" $3 "(unexpected memory)" }' "$TMP/u.csv" | tr '\n' ' ')
[ -z "$bad" ] && pass units_memory || fail units_memory "bad rows: $bad"

# the one comparison: a coroutine is created faster than a process
med() { awk -F, -v k="$1" -v w="$2" -v p="$3" '$1 == k && $2 == w && $3 == p { print $5 }' "$TMP/u.csv"; }
co=$(med coroutine create no) pr=$(med process create no)
if [ -n "$co" ] && [ -n "$pr" ] && awk -v a="$co" -v b="$pr" 'BEGIN { exit !(a < b) }'; then
  pass units_coroutine_cheaper_than_fork
else fail units_coroutine_cheaper_than_fork "coroutine $co ns, process $pr ns"; fi

# --- filters and the table -------------------------------------------------------
timeout 60 "$P" "${SMALL[@]}" --csv --what switch --kind coroutine >"$TMP/f.csv" 2>"$TMP/f.err"
kinds=$(awk -F, 'NR > 1 { print $1 "/" $2 }' "$TMP/f.csv" | sort -u | tr '\n' ' ')
[ "$kinds" = "coroutine/switch coroutine/switch-chan " ] && pass units_filters || fail units_filters "got: $kinds"

timeout 60 "$P" "${SMALL[@]}" --kind thread >"$TMP/t.txt" 2>"$TMP/t.err"; rc=$?
if [ "$rc" -eq 0 ] && grep -q '^create one unit' "$TMP/t.txt" && grep -q '^memory per live unit' "$TMP/t.txt" &&
   grep -q '^switch between two units' "$TMP/t.txt" && [ "$(grep -c '^  thread ' "$TMP/t.txt")" -eq 5 ]; then
  pass units_table
else fail units_table "rc=$rc: $(head -c 300 "$TMP/t.txt")"; fi

# --- the bench script: CSV, meta, chart -----------------------------------------
if command -v gnuplot >/dev/null; then
  if BIN=$BIN OUT=$TMP/bench COUNT=100 SWITCHES=1000 REPS=1 LIVE=50 timeout 120 scripts/bench-units.sh >"$TMP/b.out" 2>"$TMP/b.err"; then
    pass units_bench_runs
  else fail units_bench_runs "exit $?: $(tail -n 2 "$TMP/b.err" | tr '\n' ' ')"; fi
  ok=1
  for f in units.csv meta.txt units.png units.svg; do [ -s "$TMP/bench/$f" ] || ok=0; done
  for k in date commit kernel cpu cores command; do grep -q "^$k: " "$TMP/bench/meta.txt" 2>/dev/null || ok=0; done
  [ "$ok" -eq 1 ] && pass units_bench_outputs || fail units_bench_outputs "$(ls "$TMP/bench" 2>/dev/null | tr '\n' ' ')"
  grep -q '<svg' "$TMP/bench/units.svg" 2>/dev/null && pass units_bench_svg || fail units_bench_svg "not an SVG"
else
  fail units_bench_runs "gnuplot is missing (make deps)"
fi
finish
