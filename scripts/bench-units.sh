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
BIN=${BIN:-bin} OUT=${OUT:-results/units}
COUNT=${COUNT:-2000} SWITCHES=${SWITCHES:-20000} REPS=${REPS:-5} LIVE=${LIVE:-1000}
prog=$BIN/micro-unitcost
[ -x "$prog" ] || { echo "bench-units.sh: $prog is missing (run make)" >&2; exit 1; }
mkdir -p "$OUT"

cmd=("$prog" --count "$COUNT" --switches "$SWITCHES" --reps "$REPS" --live "$LIVE" --csv)
echo "bench-units: ${cmd[*]}" >&2
start=$SECONDS load=$(cut -d' ' -f1-3 /proc/loadavg)
"${cmd[@]}" >"$OUT/units.csv.tmp"
mv "$OUT/units.csv.tmp" "$OUT/units.csv"

commit=$(scripts/commit.sh)
cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
cat >"$OUT/meta.txt" <<EOF
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
commit: $commit
kernel: $(uname -sr)
cpu: ${cpu:-unknown}
cores: $(nproc)
compiler: $(${CC:-cc} --version | head -n 1)
command: ${cmd[*]}
pinning: every row says: pinned=no lets the kernel place the units on any CPU; pinned=yes puts all of them on one CPU (sched_setaffinity)
load: load average $load at the start; took $((SECONDS - start)) s
EOF

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
meta() { sed -n "s/^$1: //p" "$OUT/meta.txt" | head -n 1; }
foot="$(meta cpu), $(meta cores) cores, $(meta kernel) | $(meta date | cut -c1-10) | commit $(meta commit)"
foot="$foot | $COUNT creations, $SWITCHES round trips, median of $REPS reps, whiskers = min..max"
gp_str() { printf '"%s"' "$(sed 's/[\\"]/\\&/g' <<<"$1")"; }
terms=$(gnuplot -e 'set terminal' 2>&1 || true)
if grep -qw pngcairo <<<"$terms"; then
  png='set terminal pngcairo size 1400,650 font "DejaVu Sans,11" enhanced'
else
  png='set terminal png size 1400,650 font "DejaVuSans,11" enhanced'
fi
svg='set terminal svg size 1400,650 dynamic font "DejaVu Sans,12" enhanced background "#ffffff"'
for t in png svg; do
  if [ "$t" = png ]; then term=$png; else term=$svg; fi
  gnuplot -e "$term" -e "csv=$(gp_str "$OUT/units.csv"); out=$(gp_str "$OUT/units.$t"); foot=$(gp_str "$foot")" \
          -e 'set output out' scripts/units.gp
done
echo "bench-units: wrote $OUT/units.csv, $OUT/meta.txt, $OUT/units.png, $OUT/units.svg" >&2
