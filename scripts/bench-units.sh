#!/usr/bin/env bash
# bench-units.sh — what one unit of concurrency costs: create a process, a
# thread, a coroutine; keep one alive; switch between two of them.
#
#   make bench-units                  (what it runs; about 20-40 s)
#   COUNT=500 REPS=3 scripts/bench-units.sh
#
# Runs bin/micro-unitcost once (the kinds interleaved inside every
# repetition), writes OUT/units.csv and OUT/meta.txt, prints the figures as a
# table, and draws OUT/units.png and OUT/units.svg with scripts/units.gp.
# docs/unit-costs.md says how to read them.
#
# Environment: BIN (bin), OUT (results/units), COUNT (units created per
# repetition, 2000), SWITCHES (round trips per repetition, 20000), REPS (5),
# LIVE (units alive at once for memory, 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench-units.sh: unexpected argument '$1' (settings come from the environment; try --help)" >&2; exit 2 ;;
esac
source scripts/lib.sh
OUT=${OUT:-results/units}
COUNT=${COUNT:-2000} SWITCHES=${SWITCHES:-20000} REPS=${REPS:-5} LIVE=${LIVE:-1000}
prog=$BIN/micro-unitcost
[ -x "$prog" ] || { echo "bench-units.sh: $prog is missing (run make)" >&2; exit 1; }
mkdir -p "$OUT"

cmd=("$prog" --count "$COUNT" --switches "$SWITCHES" --reps "$REPS" --live "$LIVE" --csv)
echo "bench-units: ${cmd[*]}" >&2
scripts/meta.sh "$OUT/meta.txt.run" \
  --set pinning="every row says: pinned=no lets the kernel place the units on any CPU; pinned=yes puts all of them on one CPU (sched_setaffinity)" \
  --set settings="count=$COUNT switches=$SWITCHES reps=$REPS live=$LIVE" \
  --command "${cmd[*]}"
"${cmd[@]}" >"$OUT/units.csv.tmp"
mv "$OUT/units.csv.tmp" "$OUT/units.csv"
scripts/meta.sh --finish "$OUT/meta.txt.run" && mv "$OUT/meta.txt.run" "$OUT/meta.txt"

# the table, from the CSV
printf '%-10s %-12s %-5s %12s %12s %12s %14s %16s\n' kind what CPUs ns_median ns_min ns_max "PSS_KiB/unit" "kernel_KiB/unit"
awk -F, 'NR > 1 { printf "%-10s %-12s %-5s %12.0f %12.0f %12.0f %14s %16s\n",
                  $1, $2, ($3 == "yes" ? "one" : "any"), $5, $6, $7, $8, $9 }' "$OUT/units.csv"
echo "(ns per unit created, ns per switch; median of $REPS reps; memory: $LIVE units alive at once)"

# the chart
if ! command -v gnuplot >/dev/null; then
  echo "bench-units.sh: gnuplot is missing (apt-get install gnuplot-nox): no chart drawn" >&2
  exit 1
fi
m="$OUT/meta.txt"
foot="$(meta_machine "$m") | $(meta_get "$m" date | cut -c1-10) | commit $(meta_get "$m" commit)"
foot="$foot | $COUNT creations, $SWITCHES round trips, median of $REPS reps, whiskers = min..max"
# each kind of unit in the colour of the first model whose unit it is (about.txt "unit:")
kind_models="" seen=" "
for name in $(models_list); do
  u=$(scripts/models.sh --about "$name" unit)
  [ -n "$u" ] && [[ $seen != *" $u "* ]] && { kind_models="$kind_models${kind_models:+ }$u=$name"; seen="$seen$u "; }
done
for t in png svg; do
  if [ "$t" = png ]; then term=$(gp_png_term 1400 650 enhanced); else term=$(gp_svg_term 1400 650 enhanced); fi
  gnuplot -e "$term" -e "csv=$(gp_str "$OUT/units.csv"); out=$(gp_str "$OUT/units.$t"); foot=$(gp_str "$foot")" \
          -e "kind_models=$(gp_str "$kind_models")" -e 'set output out' scripts/units.gp
done
echo "bench-units: wrote $OUT/units.csv, $OUT/meta.txt, $OUT/units.png, $OUT/units.svg" >&2
