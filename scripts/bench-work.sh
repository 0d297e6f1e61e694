#!/usr/bin/env bash
# bench-work.sh — `make bench-work`: CPU work per message. Every model of the
# registry echoes with W microseconds of CPU work per message in the server
# (W = 0, 10, 100, 1000), so the server, not the network stack, becomes the
# bottleneck: where one loop (one core) stops winning, and how far a loop per
# core, a pool of threads or processes go on 2 cores.
#
# The servers' --work N is in units (models/common/work.c). The run starts by
# timing one unit on this machine (bin/bench --calibrate-work: the servers'
# own work_do(), thread CPU time, median of 7), turns W us into
# round(W * units_per_us) units, and states both in meta.txt. Repetitions are
# interleaved (each runs every W, each W every model, in a rotating order);
# pool models get one worker per client connection (bench --pool-size). At the
# defaults (7 models) about 3.5 minutes on 2 cores.
#
# Writes OUT/work.csv (bin/bench's echo.csv columns, rep set, `value` = W in
# us), OUT/work-summary.csv (medians per model x W), OUT/meta.txt,
# OUT/commands.txt, the charts OUT/work.png (messages per second vs W) and
# OUT/work-cores.png (cores used: server CPU seconds / wall seconds), .svg
# too, and prints a summary: median msgs/s per model per W, and each model of
# N loops (about.txt loops:) against the one-loop model whose programs it
# runs — loops/loop — at the largest W (the goal: at least 1.6x; the ideal on
# 2 cores is 2x).
#
# Environment: WORK_OUT (results/work), WORK_SECS (2), WORK_REPS (3),
#   WORK_US ("0 10 100 1000"), WORK_CONNS (20 client connections),
#   WORK_MODELS (default: every model of the registry), BIN (bin).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
source scripts/sweep.sh
case "${1:-}" in -h|--help) sed -n '2,27s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -eq 0 ] || { echo "bench-work.sh: takes no arguments; see --help" >&2; exit 2; }

OUT=${WORK_OUT:-results/work}
SECS=${WORK_SECS:-2}
REPS=${WORK_REPS:-3}
WUS=${WORK_US:-0 10 100 1000}
CONNS=${WORK_CONNS:-20}
MODELS=${WORK_MODELS:-$(scripts/models.sh | paste -sd ' ' -)}
MODELS=${MODELS//,/ }
for v in "$SECS" "$REPS" "$CONNS" $WUS; do
  [[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "bench-work.sh: '$v' is not a number (WORK_SECS, WORK_REPS, WORK_US, WORK_CONNS)" >&2; exit 2; }
done
for p in bench loadgen; do
  [ -x "$BIN/$p" ] || { echo "bench-work.sh: $BIN/$p is missing (run make)" >&2; exit 1; }
done
mkdir -p "$OUT"

# one unit of --work, on this machine, now
cal=$("$BIN/bench" --calibrate-work) || { echo "bench-work.sh: calibration failed" >&2; exit 1; }
unit_ns=$(awk '$1 == "work_unit_ns" { print $2 }' <<<"$cal")
per_us=$(awk '$1 == "units_per_us" { print $2 }' <<<"$cal")
units() { awk -v w="$1" -v u="$per_us" 'BEGIN { printf "%d", w * u + 0.5 }'; }
map=""; for w in $WUS; do map="$map${map:+,}${w}us=$(units "$w")"; done
echo "bench-work.sh: one work unit = $unit_ns ns of CPU here ($per_us units per us): $map" >&2

work_args() { echo "--conns $CONNS --secs $SECS --work $(units "$1") --pool-size $CONNS"; }

scripts/meta.sh "$OUT/meta.txt" --set workload=work --set "models=${MODELS// /,}" \
  --set "work_us=${WUS// /,}" --set "work_unit_ns=$unit_ns" --set "work_units_per_us=$per_us" \
  --set "work_units=$map" \
  --set "calibration=bin/bench --calibrate-work: the servers' work_do(), thread CPU time, median of 7 timings of ~50 ms" \
  --set "conns=$CONNS" --set "reps=$REPS" --set "secs=$SECS" \
  --set "pool_size=$CONNS (pool_flag models: one worker per client connection)" \
  --command "WORK_SECS=$SECS WORK_REPS=$REPS WORK_US='$WUS' WORK_CONNS=$CONNS scripts/bench-work.sh" || exit 1
start=$SECONDS
sweep_all work "$REPS" "$WUS" work_args work work-cores
rc=$?
[ "$rc" -eq 2 ] && exit 1

# --- the summary (also in $OUT/summary.txt) -----------------------------------
{
S=$OUT/work-summary.csv
echo
printf '%-8s' model; for w in $WUS; do printf ' %13s' "${w}us msgs/s"; done
last=$(awk '{ print $NF }' <<<"$WUS")
printf ' %12s\n' "cores@${last}us"
for m in $(csv_models "$S"); do
  printf '%-8s' "$m"
  for w in $WUS; do printf ' %13.0f' "$(sweep_median "$S" "$m" msgs_per_s value "$w")"; done
  printf ' %12.2f\n' "$(sweep_median "$S" "$m" cores_busy value "$last")"
done
# the goal, from the registry: each model of N loops (about.txt loops:) against
# the one-loop model whose programs it runs (its programs:)
for m in $(scripts/models.sh --with loops); do
  one=$(scripts/models.sh --about "$m" programs)
  a=$(sweep_median "$S" "$m" msgs_per_s value "$last") b=$([ -n "$one" ] && sweep_median "$S" "$one" msgs_per_s value "$last")
  [ -n "$a" ] && [ -n "$b" ] || continue
  echo "$m/$one at $last us of work per message, messages per second: $(sweep_ratio "$OUT/work.csv" "$m" "$one" msgs_per_s "$last" 1.6)"
done
echo "medians of $REPS repetitions, $SECS s each, $CONNS client connections; $((SECONDS - start)) s"
echo "results: $OUT/work.csv, $OUT/work-summary.csv, $OUT/meta.txt; charts: $OUT/work.png $OUT/work-cores.png (docs/churn-work.md)"
} | tee "$OUT/summary.txt"
exit "$rc"
