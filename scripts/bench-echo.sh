#!/usr/bin/env bash
# bench-echo.sh — `make bench`: the default echo comparison, start to finish.
#
# Runs bin/bench with its defaults (every model of the registry; 10, 100 and 1000
# connections; 6 repetitions of 2 s each, interleaved — enough for a 95%
# interval on every comparison: about 5 to 6 minutes on a 2-core machine),
# writes results/latest/ (echo.csv, echo-summary.csv, meta.txt, commands.txt),
# draws the charts (scripts/charts.sh) and prints a summary table, then each
# model against the loop with its interval (scripts/compare.sh). The previous
# results/latest/ is kept as results/previous/.
#
# Environment:
#   BENCH_ARGS  more flags for bin/bench, after the defaults (a later flag wins),
#               e.g. BENCH_ARGS="--models threads,loop,epoll --pin split"
#               or   BENCH_ARGS="--reps 5 --secs 5 --work 1000"; see bin/bench --help.
#               Use BENCH_OUT, not --out, to move the results.
#   BENCH_OUT   results folder (default results/latest)
#   BIN         folder of the programs (default bin)
#   PEERS       1: the peers too (Python, Node, Go, libuv; peers/list.sh --bench)
#   SERVER_HOST, LOAD_HOSTS  [user@]host and "[user@]a [user@]b": the server on one
#               host, loadgen on the others, through ssh (scripts/hosts.sh,
#               docs/hosts.md); SERVER_ADDR, SERVER_PORT, SSH_CONFIG, HOSTS_DIR too.
#               Neither set: everything here, as always.
# Exit status: bench's (0: every run clean), or 1 if the charts failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
OUT=${BENCH_OUT:-results/latest}
case "${1:-}" in -h|--help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -eq 0 ] || { echo "bench-echo.sh: takes no arguments; use BENCH_ARGS (try --help)" >&2; exit 2; }

if [ "$OUT" = results/latest ] && [ -f "$OUT/echo.csv" ]; then
  rm -rf results/previous && mv "$OUT" results/previous
fi
models=$(peers/list.sh --bench echo | paste -sd , -)
source scripts/hosts-lib.sh
hosts_bench "$OUT" || exit 1   # SERVER_HOST, LOAD_HOSTS: HOST_ARGS for bin/bench
# shellcheck disable=SC2086  # BENCH_ARGS is a list of flags on purpose
"$BIN/bench" --bin "$BIN" --models "$models" ${BENCH_ARGS:-} "${HOST_ARGS[@]}" --out "$OUT"
rc=$?
[ "$rc" -eq 2 ] && exit 2
if [ ${#HOST_ARGS[@]} -gt 0 ]; then
  hosts_finish "$OUT" || exit 1   # meta.txt: every host, the path; a host lost: its one line
fi
if [ "$(wc -l <"$OUT/echo.csv" 2>/dev/null || echo 0)" -lt 2 ]; then
  [ ${#HOST_ARGS[@]} -gt 0 ] && [ "$rc" -ne 0 ] && exit 1   # bench's last line said why
  echo "bench-echo.sh: no run produced a result; nothing to draw" >&2
  exit 1
fi
BIN=$BIN scripts/charts.sh "$OUT" || rc=1

# The summary table: medians over the repetitions.
echo
awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
            fair = ("jain" in c)   # older results have no fairness columns
            printf "%-8s %6s %10s %9s %10s %9s %10s %6s%s\n", "model", "conns", "msgs/s",
                   "p50 us", "p99 us", "PSS/conn", "CPU us/msg", "cores", fair ? "  no-reply   Jain" : ""
            printf "%-8s %6s %10s %9s %10s %9s %10s %6s%s\n", "", "", "", "", "", "KiB", "", "busy",
                   fair ? "     conns  index" : ""
            next }
  { flag = $c["bad_runs"] > 0 ? "  (" $c["bad_runs"] " run(s) with errors or unclean exit)" : ""
    if ("disturbed_runs" in c && $c["disturbed_runs"] > 0) flag = flag "  (" $c["disturbed_runs"] " disturbed)"
    if ("spread_pct" in c && $c["spread_pct"] > 50) flag = flag "  (spread " $c["spread_pct"] "%)"
    fcols = fair ? sprintf("  %8.0f  %5.3f", $c["no_reply"], $c["jain"]) : ""
    printf "%-8s %6d %10.0f %9.1f %10.1f %9.1f %10.2f %6.2f%s%s\n", $c["model"], $c["conns"],
           $c["msgs_per_s"], $c["p50_us"], $c["p99_us"], $c["pss_per_conn_kib"],
           $c["cpu_us_per_msg"], $c["cores_busy"], fcols, flag }
' "$OUT/echo-summary.csv"
echo
scripts/compare.sh "$OUT/echo.csv" "" msgs_per_s,cpu_us_per_msg || true
reps=$(meta_get "$OUT/meta.txt" reps)   # meta.sh's format; older runs: in the matrix line
[ -n "$reps" ] || reps=$(sed -n 's/.*reps=\([0-9]*\).*/\1/p' "$OUT/meta.txt")
echo "medians of ${reps:-?} repetitions; pinning: $(meta_get "$OUT/meta.txt" pinning)"
echo "results: $OUT/echo.csv (one row per run), $OUT/echo-summary.csv, $OUT/meta.txt, $OUT/commands.txt"
echo "charts:  $OUT/throughput.png $OUT/p99.png $OUT/memory.png $OUT/cpu.png $OUT/fairness.png (and .svg); see docs/charts.md"
exit "$rc"
