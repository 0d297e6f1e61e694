#!/usr/bin/env bash
# The comparison table in docs/table.md is regenerated from results files,
# never typed: check the generator against fixture files whose figures are
# easy to recognise.
source "$(dirname "$0")/lib.sh"
plan 24 # the last one a skip where results/reference or docs/table.md is missing
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
# The peers (a PEERS=1 run): rows of their own under the C model each is like,
# and the sentences on the classic table made from their figures.
# the main table: from its header row to the blank line after it, the C
# models' columns only (the fixture's results hold peers: py-*, node)
main=$(awk '/^\|  \|/ { on = 1 } on && /^$/ { exit } on' "$out")
[ "$(head -n 1 <<<"$main")" = "|  | processes (\`fork\`) | threads (\`threads\`) | coroutines (\`loop\`) |" ] &&
  ! grep -qE '`(py-[a-z]+|node|go|libuv)`|peer' <<<"$main" && [ "$(grep -c '^| ' <<<"$main")" -ge 10 ] &&
  pass "table: the main table keeps the C models only" ||
  fail "table: the main table keeps the C models only" "$(head -n 1 <<<"$main"); $(grep -E '`(py-[a-z]+|node|go|libuv)`|peer' <<<"$main" | head -n 2)"
has "a peer's row beside its C model" "| Python \`py-threads\` (peer, like \`threads\`) | 5,432 | 30.2 µs | 1.05 | 3200 µs | 64.0 + 22.0 KiB | not measured |"
has "the peer rows follow the C model they are like" "| C \`loop\` (coroutines) | 34,567 |"
grep -A3 -F '| C `loop` (coroutines)' "$out" | grep -qF '`node` (peer, like `loop`)' && pass "table: node's row under loop's" ||
  fail "table: node's row under loop's" "$(grep -F 'loop' "$out" | tail -n 3)"
has "the memory sentence from the figures" "in Python the order high, medium, low holds: processes 1570.0 KiB, threads 86.0 KiB, asyncio 10.5 KiB"
has "the GIL sentence from the figures" "kept 1.05 CPUs busy: one core at a time, as the GIL lets one thread run Python"
has "the asyncio sentence from the figures, with the interval from the repetitions" "the C loop 5.2 µs: 4.00x [3.85, 4.17];"
has "a ratio that is not 1: no 'about the same'" "the C loop carried 5.28x [5.07, 5.49] the messages per second"
has "the comparisons against the loop, with intervals" "| \`py-asyncio\` / \`loop\` | 0.19x [0.18, 0.20] | 4.00x [3.85, 4.17] | 3.57x [3.43, 3.72] |"
has "the number of repetitions behind the intervals" "6 interleaved repetitions of the run"
# the data cannot tell two models apart: the sentence says so
mkdir -p "$TMP/same" && cp -r tests/data/table/. "$TMP/same/"
awk -F, -v OFS=, '$1 == "py-asyncio" { l[$3] = $0 } { print }' tests/data/table/echo/echo.csv |
  awk -F, -v OFS=, 'NR == FNR { if ($1 == "loop") v[$3] = $4; next } FNR > 1 && $1 == "py-asyncio" { $4 = v[$3] * (1 + ($3 % 2 ? 0.03 : -0.03)) } { print }' tests/data/table/echo/echo.csv - >"$TMP/same/echo/echo.csv"
scripts/table.sh "$TMP/same" >"$TMP/same.md" 2>&1
grep -qF "both on one thread, they carried about the same (1.00x [0.97, 1.03], within noise) messages per second" "$TMP/same.md" &&
  grep -qF "| \`py-asyncio\` / \`loop\` | 1.00x [0.97, 1.03] within noise |" "$TMP/same.md" &&
  pass "table: about the same, within noise, when the interval holds 1" ||
  fail "table: about the same, within noise, when the interval holds 1" "$(grep -F 'both on one thread' "$TMP/same.md"; grep -F 'py-asyncio` / ' "$TMP/same.md")"
# without bin/bench the ratios stand alone, and say no interval
BIN=/nonexistent scripts/table.sh tests/data/table >"$TMP/nobench.md" 2>&1
grep -qF "the C loop 5.2 µs: 4.0x;" "$TMP/nobench.md" && ! grep -qF "## How sure" "$TMP/nobench.md" &&
  pass "table: without bin/bench, the plain ratio and no interval table" || fail "table: without bin/bench, the plain ratio and no interval table" "$(grep -F 'the C loop' "$TMP/nobench.md")"
# without peers in the data: no peer table, no stray file from awk
mkdir -p "$TMP/nopeers" && cp -r tests/data/table/. "$TMP/nopeers/"
for f in echo/echo-summary.csv c10k/c10k.csv; do grep -Ev '^(py-|node,)' "tests/data/table/$f" >"$TMP/nopeers/$f"; done
scripts/table.sh "$TMP/nopeers" >"$TMP/nopeers.md" 2>&1
! grep -qF "(peer, like" "$TMP/nopeers.md" && ! grep -qF "## The same table" "$TMP/nopeers.md" && grep -qF "| 12,345 | 23,456 | 34,567 |" "$TMP/nopeers.md" && pass "table: no peer rows when the data has no peers" ||
  fail "table: no peer rows when the data has no peers" "$(grep -i peer "$TMP/nopeers.md" | head -n 2)"
# the other way round: thread rows say what the GIL did not prevent
cp tests/data/table/echo/echo-summary.csv "$TMP/busy.csv"
sed 's/^py-threads,1000,5432,3200,30.25,1.05/py-threads,1000,5432,3200,30.25,1.6/' "$TMP/busy.csv" >"$TMP/nopeers/echo/echo-summary.csv"
scripts/table.sh "$TMP/nopeers" | grep -qF "kept 1.60 CPUs busy: more than one, because a thread lets the GIL go" &&
  pass "table: the GIL sentence follows the figure, not a fixed text" || fail "table: the GIL sentence follows the figure" "$(scripts/table.sh "$TMP/nopeers" | grep -F py-threads | tail -n 1)"
scripts/table.sh "$TMP/nowhere" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q 'no results folder' "$TMP/err" && pass "table: a missing folder is a clear error" \
  || fail "table: a missing folder is a clear error" "rc=$rc"
# The committed table must be what the generator makes of the committed reference run.
if [ -d results/reference ] && [ -f docs/table.md ]; then
  if scripts/table.sh results/reference | diff -q - docs/table.md >/dev/null; then pass "table: docs/table.md matches results/reference"
  else fail "table: docs/table.md matches results/reference" "run 'make table'"; fi
else skip "table: docs/table.md matches results/reference" "no results/reference or docs/table.md in this tree"
fi
finish
