#!/usr/bin/env bash
# The comparison table in docs/table.md is regenerated from results files,
# never typed: check the generator against fixture files whose figures are
# easy to recognise.
source "$(dirname "$0")/lib.sh"
out="$TMP/table.md"
if scripts/table.sh tests/data/table >"$out" 2>"$TMP/err"; then pass "table: generated from a results folder"
else fail "table: generated from a results folder" "$(cat "$TMP/err")"; fi
has() { grep -qF -- "$2" "$out" && pass "table: $1" || fail "table: $1" "no '$2' in: $(grep -F "${3:-|}" "$out" | head -n 3)"; }
has "throughput at the largest connection count, with separators" "| echo, 1000 connections: messages/s | 12,345 | 23,456 | 34,567 |"
has "CPU per message" "| 11.5 µs | 9.5 µs | 5.2 µs |"
has "creation cost converted to µs" "| 100.0 µs | 20.0 µs | 0.15 µs |"
has "switch cost on one core" "| 3000 ns | 2500 ns | 40 ns |"
has "a negative noisy delta shows as ≈0" "4.0 + ≈0 KiB"
has "c10k memory is the median of the repetitions" "45.0 + 61.0 KiB"
has "the machine comes from meta.txt" "Test CPU, 2 cores"
scripts/table.sh "$TMP/nowhere" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q 'no results folder' "$TMP/err" && pass "table: a missing folder is a clear error" \
  || fail "table: a missing folder is a clear error" "rc=$rc"
# The committed table must be what the generator makes of the committed reference run.
if [ -d results/reference ] && [ -f docs/table.md ]; then
  if scripts/table.sh results/reference | diff -q - docs/table.md >/dev/null; then pass "table: docs/table.md matches results/reference"
  else fail "table: docs/table.md matches results/reference" "run 'make table'"; fi
fi
