#!/usr/bin/env bash
# charts.sh DIR — draw the echo charts of a results folder.
#
#   scripts/charts.sh results/latest      (what `make charts` runs)
#
# Rewrites DIR/echo-summary.csv from DIR/echo.csv (bin/bench --summarize:
# medians per model x connections, min/max for error bars), then draws with
# gnuplot into DIR: throughput, p99, memory and cpu, each as .png and .svg.
# The footnote of each chart comes from DIR/meta.txt. docs/charts.md says how
# to read them.
#
# Environment: BIN (where bench is, default bin).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
dir=${1:-}
if [ -z "$dir" ] || [ "$dir" = "-h" ] || [ "$dir" = "--help" ]; then
  sed -n '2,12s/^# \{0,1\}//p' "$0"
  [ -n "$dir" ] && exit 0 || exit 2
fi
[ -f "$dir/echo.csv" ] || { echo "charts.sh: $dir/echo.csv not found (run make bench first)" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "charts.sh: gnuplot is missing (apt-get install gnuplot-nox)" >&2; exit 1; }
[ -x "$BIN/bench" ] || { echo "charts.sh: $BIN/bench is missing (run make)" >&2; exit 1; }

"$BIN/bench" --summarize "$dir/echo.csv" >"$dir/echo-summary.csv.tmp"
mv "$dir/echo-summary.csv.tmp" "$dir/echo-summary.csv"
summary="$dir/echo-summary.csv"
[ "$(wc -l <"$summary")" -ge 2 ] || { echo "charts.sh: $dir/echo.csv has no rows to draw" >&2; exit 1; }

# the models in order of appearance, and the connection counts ascending
col() { awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next } { print $c }' "$summary"; }
models=$(col model | awk '!seen[$0]++' | tr '\n' ' ')
conns=$(col conns | sort -n -u | tr '\n' ' ')

# the footnote, from meta.txt
meta() { sed -n "s/^$1: //p" "$dir/meta.txt" 2>/dev/null | head -n 1; }
matrix=$(meta matrix)
reps=$(sed -n 's/.*reps=\([0-9]*\).*/\1/p' <<<"$matrix")
secs=$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' <<<"$matrix")
bytes=$(sed -n 's/.*msg_bytes=\([0-9]*\).*/\1/p' <<<"$matrix")
work=$(sed -n 's/.* work=\([0-9]*\).*/\1/p' <<<"$matrix")
pin=$(meta pinning | cut -d' ' -f1)
foot="$(meta cpu_model), $(meta cores) cores, Linux $(meta kernel) | $(meta date | cut -c1-10) | commit $(meta commit) | pinning ${pin:-?}"
foot="$foot | ${reps:-?} reps x ${secs:-?} s, ${bytes:-?}-byte messages, work ${work:-?} | median, bars = min..max"
gp_str() { printf '"%s"' "$(sed 's/[\\"]/\\&/g' <<<"$1")"; }

# PNG: pngcairo if this gnuplot has it (anti-aliased), else the libgd png one
terms=$(gnuplot -e 'set terminal' 2>&1 || true)
if grep -qw pngcairo <<<"$terms"; then
  png='set terminal pngcairo size 1100,650 font "DejaVu Sans,11" noenhanced'
else
  png='set terminal png size 1100,650 font "DejaVuSans,11" noenhanced'
fi
svg='set terminal svg size 1100,650 dynamic font "DejaVu Sans,12" noenhanced background "#ffffff"'

for t in png svg; do
  if [ "$t" = png ]; then term=$png; else term=$svg; fi
  gnuplot -e "$term" \
          -e "summary=$(gp_str "$summary"); outdir=$(gp_str "$dir"); ext=\"$t\"" \
          -e "models=$(gp_str "$models"); conns=$(gp_str "$conns"); foot=$(gp_str "$foot")" \
          scripts/echo.gp 2>&1 | { grep -v 'no valid points' || true; } >&2
done
for c in throughput p99 memory cpu; do
  for t in png svg; do
    [ -s "$dir/$c.$t" ] || { echo "charts.sh: $dir/$c.$t was not drawn" >&2; exit 1; }
  done
done
echo "charts: $dir/{throughput,p99,memory,cpu}.{png,svg}"
