#!/usr/bin/env bash
# scripts/demo-spawn.sh — `make demo-spawn`: what creating 10,000 processes,
# threads and coroutines costs. First one run of bin/demo-spawn that holds
# every unit alive to measure memory per unit; then hyperfine times each kind
# (create 10,000 that do nothing and finish, --no-mem) and prints a table.
#
#   scripts/demo-spawn.sh [--count N] [--runs N]     (BIN picks the programs)
set -u
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
count=10000 runs=5
while [ $# -gt 0 ]; do
  case $1 in
    --count) count=${2:?--count needs a value}; shift 2 ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    -h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "demo-spawn.sh: unknown flag '$1'" >&2; exit 2 ;;
  esac
done
case $count$runs in *[!0-9]*) echo "demo-spawn.sh: --count and --runs take whole numbers" >&2; exit 2 ;; esac
[ -x "$BIN/demo-spawn" ] || { echo "demo-spawn.sh: $BIN/demo-spawn is not built: run make" >&2; exit 1; }

echo "== memory: $count units of each kind, all alive at once =="
"$BIN/demo-spawn" --count "$count" || exit 1

if ! command -v hyperfine >/dev/null; then
  echo "demo-spawn.sh: hyperfine is not installed (apt-get install hyperfine); skipping the timing table" >&2
  exit 0
fi
echo
echo "== time: hyperfine, $runs runs each, $count units that start and finish =="
csv=$TMP/hyperfine.csv
# the kinds of unit the demo knows, from its --help ("--kind K  A, B, C or all")
kinds=$("$BIN/demo-spawn" --help | sed -n 's/.*--kind K *//p' | sed 's/ *(default.*//; s/ or all$//; s/,//g')
[ -n "$kinds" ] || { echo "demo-spawn.sh: $BIN/demo-spawn --help names no kinds" >&2; exit 1; }
cmds=()
for k in $kinds; do cmds+=(-n "$k" "$BIN/demo-spawn --kind $k --no-mem --count $count"); done
hyperfine -N --warmup 1 --runs "$runs" --style basic --export-csv "$csv" "${cmds[@]}" >/dev/null 2>&1 ||
  { echo "demo-spawn.sh: hyperfine failed" >&2; exit 1; }
echo
# hyperfine's CSV: command,mean,stddev,median,user,system,min,max (seconds)
awk -F, -v n="$count" 'NR == 1 { printf "%-8s %9s %9s %9s %12s\n", "kind", "mean_s", "stddev_s", "min_s", "per_unit_us"; next }
  { printf "%-8s %9.3f %9.3f %9.3f %12.1f\n", $1, $2, $3, $7, $2 * 1e6 / n }' "$csv"
echo
echo "(one run of bin/demo-spawn per sample, so each time includes starting the program once)"
