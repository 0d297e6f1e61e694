#!/usr/bin/env bash
# make report gathers a run's charts, metadata and summary tables into REPORT.md.
source "$(dirname "$0")/lib.sh"
plan 11
cp -r tests/data/table "$TMP/run"
printf 'fake png' >"$TMP/run/echo/throughput.png"
if scripts/report.sh "$TMP/run" >/dev/null 2>"$TMP/err"; then pass "report: writes REPORT.md"
else fail "report: writes REPORT.md" "$(cat "$TMP/err")"; fi
r="$TMP/run/REPORT.md"
has() { grep -qF -- "$2" "$r" && pass "report: $1" || fail "report: $1" "no '$2'"; }
first=$(sed -n '/^## /{p;q}' "$r")
[[ $first == "## Echo servers"* ]] && pass "report: the echo section comes first" || fail "report: the echo section comes first" "first: $first"
has "an echo summary table with the chosen columns" "| model | conns | msgs_per_s | p99_us | cpu_us_per_msg | cores_busy | pss_per_conn_kib |"
has "a figure from the echo summary" "| loop | 1000 | 34567 | 700 | 5.25 | 1 | 3.5 |"
has "the chart, linked relative to the report" "![throughput](echo/throughput.png)"
has "the run's metadata" "cpu_model: Test CPU"
has "the units section" "## Unit costs"
has "the c10k section" "## C10K"
has "the raw files are listed" '`echo/echo-summary.csv`'
[ "$(grep -c '^## ' "$r")" -eq 3 ] && pass "report: one section per benchmark folder" || fail "report: one section per benchmark folder" "$(grep '^## ' "$r")"
scripts/report.sh "$TMP/none" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q 'no run folder' "$TMP/err" && pass "report: a missing run folder is a clear error" \
  || fail "report: a missing run folder is a clear error" "rc=$rc"
finish
