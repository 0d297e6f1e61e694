#!/usr/bin/env bash
# make report gathers a run's charts, metadata and summary tables into REPORT.md,
# and the same into REPORT.html, a page rendered here by headless Chromium.
# timeout: 240
source "$(dirname "$0")/lib.sh"
plan 13
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
has "each model against the loop, with its interval from the repetitions" "| fork | 0.36x [0.36, 0.36] |"
has "the comparisons say how they are made" "ratio of the medians [interval of the per-round ratios, 95% where 6 rounds allow]"
[ "$(grep -c '^## ' "$r")" -eq 3 ] && pass "report: one section per benchmark folder" || fail "report: one section per benchmark folder" "$(grep '^## ' "$r")"
scripts/report.sh "$TMP/none" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q 'no run folder' "$TMP/err" && pass "report: a missing run folder is a clear error" \
  || fail "report: a missing run folder is a clear error" "rc=$rc"

# --- REPORT.html: one page, nothing from the network, every chart an SVG that
# draws and hides a line when its key is clicked (real gnuplot, real Chromium)
plan 4
h="$TMP/run/REPORT.html"
[ -s "$h" ] && grep -q '</html>' "$h" && pass "html: REPORT.html beside REPORT.md" || fail "html: REPORT.html beside REPORT.md" "$(ls "$TMP/run")"
ext=$(grep -Eio '(src|href|url)[=(]"?(https?:)?//[^" )]*' "$h" | head -n 3)
! grep -Eiq '<script[^>]* src=|<link[^>]*stylesheet' "$h" && [ -z "$ext" ] &&
  pass "html: self-contained (no external script, style or address)" || fail "html: self-contained" "$ext"
# a real run's worth of charts: seven models (three panels), two connection counts, two rounds
out="$TMP/charts"; mkdir -p "$out"
{ echo "model,conns,rep,msgs_per_s,p99_us,pss_per_conn_kib,cpu_us_per_msg,jain,no_reply"
  i=0; for m in fork threads loop prefork pool py-asyncio node; do i=$((i + 1))
    for c in 10 100; do for r in 1 2; do echo "$m,$c,$r,$((1000 * i + 37 * r)),$((100 * i + c)),$i.5,$((i + r)).25,0.9$r,$((r - 1))"; done; done
  done; } >"$out/echo.csv"
printf 'commit: abc1234\ndate: 2026-12-06T00:00:00Z\ncpu: Test CPU\ncores: 2\nkernel: Linux 6.1\nreps: 2\nsecs: 1\n' >"$out/meta.txt"
if BIN=$BIN scripts/charts.sh "$out" >"$TMP/charts.out" 2>&1 && scripts/report.sh "$out" >/dev/null 2>"$TMP/err" &&
   [ "$(grep -c '<iframe class="chart"' "$out/REPORT.html")" -eq 5 ] && grep -q 'gnuplot_svg.toggleVisibility' "$out/REPORT.html"; then
  pass "html: the five echo charts drawn by gnuplot, each an SVG with gnuplot's own key script, in the page"
else fail "html: the five echo charts in the page" "$(tail -n 3 "$TMP/charts.out" "$TMP/err" | tr '\n' ' ') $(grep -c '<iframe' "$out/REPORT.html" 2>/dev/null)"; fi
# Chromium: the page's own check (charts drawn, a click on a key hides its line), and a screenshot
browser=${CHROMIUM-$(command -v chromium || command -v chromium-browser || true)}   # CHROMIUM= : as if it were missing
if [ -z "$browser" ]; then
  skip "html: Chromium renders the page (every chart drew, a click on a key hides its line) and a screenshot" "chromium is not installed (apt-get install chromium)"
else
  cr() { timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
           --disable-background-networking --disable-component-update --disable-sync \
           --user-data-dir="$(mktemp -d "$TMP/chromium.XXXXXX")" --virtual-time-budget=5000 "$@" 2>>"$TMP/chromium.err"; }
  got=$(cr --dump-dom "file://$out/REPORT.html" | grep -o '<p id="selfcheck">[^<]*' | sed 's/.*>//')
  want="self-check: 5 SVG charts, 5 drawn, 5 hide and show a line on a click; 0 PNG charts, 0 shown"
  cr --hide-scrollbars --window-size=1300,3600 --screenshot="$TMP/report.png" "file://$out/REPORT.html" >/dev/null
  shot=$(stat -c %s "$TMP/report.png" 2>/dev/null || echo 0)
  if [ "$got" = "$want" ] && [ "$(head -c 4 "$TMP/report.png" 2>/dev/null | tail -c 3)" = PNG ] && [ "$shot" -gt 50000 ]; then
    pass "html: Chromium renders the page (every chart drew, a click on a key hides its line) and a screenshot ($shot bytes)"
  else fail "html: Chromium renders the page (every chart drew, a click on a key hides its line) and a screenshot" \
    "got '${got:-nothing}' want '$want'; screenshot $shot bytes; $(tail -c 200 "$TMP/chromium.err" | tr '\n' ' ')"; fi
  [ -z "${KEEP_SCREENSHOT:-}" ] || cp "$TMP/report.png" "$KEEP_SCREENSHOT"
fi
finish
