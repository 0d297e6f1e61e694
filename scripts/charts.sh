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
source scripts/lib.sh
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

# the models in registry order (baselines after), the connection counts ascending
col() { awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next } { print $c }' "$summary"; }
models=$(csv_models "$summary")
conns=$(col conns | sort -n -u | tr '\n' ' ')

# the footnote, from meta.txt (scripts/meta.sh's keys; older runs: cpu_model, matrix)
m="$dir/meta.txt"
setting() { # KEY — from its own line, else from the matrix line
  local v; v=$(meta_get "$m" "$1")
  [ -n "$v" ] || v=$(sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$(meta_get "$m" matrix)")
  echo "${v:-?}"
}
pin=$(meta_get "$m" pinning | cut -d' ' -f1)
foot="$(meta_machine "$m") | $(meta_get "$m" date | cut -c1-10) | commit $(meta_get "$m" commit) | pinning ${pin:-?}"
foot="$foot | $(setting reps) reps x $(setting secs) s, $(setting msg_bytes)-byte messages, work $(setting work) | median, bars = min..max"
warn=$(chart_flags "$dir/echo.csv" "$summary")

# loadgen's fairness columns (older results do not have them): the fairness chart
fair=0 charts="throughput p99 memory cpu"
head -n 1 "$summary" | grep -q ',jain,' && fair=1 charts="$charts fairness"
# shellcheck disable=SC2086
panels=$(gp_panels $models)
has() { head -n 1 "$summary" | tr ',' '\n' | grep -qx "$1" && echo 1 || echo 0; }
for t in png svg; do
  # shellcheck disable=SC2086
  term=$(gp_term "$t" $models)
  # shellcheck disable=SC2086
  gnuplot -e "$term" -e "$(gp_palette $models)" -e "$panels" \
          -e "summary=$(gp_str "$summary"); outdir=$(gp_str "$dir"); ext=\"$t\"" \
          -e "models=$(gp_str "$models"); conns=$(gp_str "$conns"); foot=$(gp_str "$foot"); fair=$fair" \
          -e "has_dist=$(has disturbed_runs); has_spread=$(has spread_pct); warn=$(gp_str "$warn")" \
          scripts/echo.gp 2>&1 | { grep -v 'no valid points' || true; } >&2
done
for c in $charts; do
  for t in png svg; do
    [ -s "$dir/$c.$t" ] || { echo "charts.sh: $dir/$c.$t was not drawn" >&2; exit 1; }
  done
done
echo "charts: $dir/{${charts// /,}}.{png,svg}"
