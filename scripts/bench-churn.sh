#!/usr/bin/env bash
# bench-churn.sh — `make bench-churn`: connection churn. Every model of the
# registry serves clients that close their connection after K messages and
# open a new one (bin/loadgen --per-conn K; K = 1 is one connection per
# request, the client of UNP chapter 30), for K = 1, 10, 100: what a new
# connection costs each model (a fork, a thread, a hand-off to a worker...).
#
# Repetitions are interleaved (each runs every K, each K every model, in a
# rotating order). A model with a fixed pool (about.txt pool_flag: prefork,
# pool) gets one worker per client connection (bench --pool-size), so no
# client waits for a worker and the pools are measured on churn, not on
# starvation. At the defaults (7 models) about 3 minutes on 2 cores.
#
# Writes OUT/churn.csv (bin/bench's echo.csv columns, rep set, and `value` =
# K), OUT/churn-summary.csv (medians per model x K), OUT/meta.txt
# (scripts/meta.sh), OUT/commands.txt, the charts OUT/churn.png (connections
# per second) and OUT/churn-cpu.png (server CPU per connection), .svg too,
# and prints a summary: median connections per second per model and K, and
# each pooled model (about.txt pool_flag: prefork, pool) against the first
# model forking per connection (fork) at K = 1 (the goal: at least 3x).
#
# Environment: CHURN_OUT (results/churn), CHURN_SECS (2), CHURN_REPS (3),
#   CHURN_K ("1 10 100"), CHURN_CONNS (10 client connections at once),
#   CHURN_MODELS (default: every model of the registry), BIN (bin);
#   SERVER_HOST, LOAD_HOSTS (and SSH_CONFIG...): the servers on one host, the
#   clients on others (scripts/hosts.sh, docs/hosts.md).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
source scripts/sweep.sh
source scripts/hosts-lib.sh
case "${1:-}" in -h|--help) sed -n '2,26s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -eq 0 ] || { echo "bench-churn.sh: takes no arguments; see --help" >&2; exit 2; }

OUT=${CHURN_OUT:-results/churn}
SECS=${CHURN_SECS:-2}
REPS=${CHURN_REPS:-3}
KS=${CHURN_K:-1 10 100}
CONNS=${CHURN_CONNS:-10}
MODELS=${CHURN_MODELS:-$(scripts/models.sh | paste -sd ' ' -)}
MODELS=${MODELS//,/ }
for v in "$SECS" "$REPS" "$CONNS" $KS; do
  [[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "bench-churn.sh: '$v' is not a number (CHURN_SECS, CHURN_REPS, CHURN_K, CHURN_CONNS)" >&2; exit 2; }
done
for p in bench loadgen; do
  [ -x "$BIN/$p" ] || { echo "bench-churn.sh: $BIN/$p is missing (run make)" >&2; exit 1; }
done
mkdir -p "$OUT"

churn_args() { echo "--conns $CONNS --secs $SECS --per-conn $1 --pool-size $CONNS"; }

scripts/meta.sh "$OUT/meta.txt" --set workload=churn --set "models=${MODELS// /,}" \
  --set "per_conn=${KS// /,}" --set "conns=$CONNS" --set "reps=$REPS" --set "secs=$SECS" \
  --set "pool_size=$CONNS (pool_flag models: one worker per client connection)" \
  --set "closes=client (TIME_WAIT on loadgen's side)" \
  --command "CHURN_SECS=$SECS CHURN_REPS=$REPS CHURN_K='$KS' CHURN_CONNS=$CONNS scripts/bench-churn.sh" || exit 1
hosts_bench "$OUT" || exit 1   # SERVER_HOST, LOAD_HOSTS: the server and the load elsewhere
[ ${#HOST_ARGS[@]} -gt 0 ] && scripts/meta.sh "$OUT/meta.txt" --set workload=churn --set "models=${MODELS// /,}" \
  --set "pinning=hosts (the server on the server host, loadgen on the load hosts: host_* keys)" \
  --set "per_conn=${KS// /,}" --set "conns=$CONNS" --set "reps=$REPS" --set "secs=$SECS" \
  --set "pool_size=$CONNS (pool_flag models: one worker per client connection)" \
  --set "closes=client (TIME_WAIT on the load hosts' side)" \
  --command "SERVER_HOST=$SERVER_HOST LOAD_HOSTS='$LOAD_HOSTS' CHURN_SECS=$SECS CHURN_REPS=$REPS CHURN_K='$KS' CHURN_CONNS=$CONNS scripts/bench-churn.sh"
start=$SECONDS
sweep_all churn "$REPS" "$KS" churn_args churn churn-cpu
rc=$?
if [ ${#HOST_ARGS[@]} -gt 0 ]; then hosts_finish "$OUT" || rc=1; fi
[ "$rc" -eq 2 ] && exit 1

# --- the summary (also in $OUT/summary.txt) -----------------------------------
{
S=$OUT/churn-summary.csv
echo
printf '%-8s' model; for k in $KS; do printf ' %14s' "K=$k conns/s"; done
printf ' %16s\n' "CPU us/conn K=1"
for m in $(csv_models "$S"); do
  printf '%-8s' "$m"
  for k in $KS; do printf ' %14.0f' "$(sweep_median "$S" "$m" conns_per_s value "$k")"; done
  printf ' %16.1f\n' "$(sweep_median "$S" "$m" cpu_us_per_conn value 1)"
done
k1=$(awk '{ print $1 }' <<<"$KS")
# the goal, from the registry: each model with a fixed pool (pool_flag) against
# the first model that makes a process per connection (unit process, no pool)
base=$(for m in $(scripts/models.sh --with unit process); do
  [ -z "$(scripts/models.sh --about "$m" pool_flag)" ] && { echo "$m"; break; }; done)
fork=$([ -n "$base" ] && sweep_median "$S" "$base" conns_per_s value "$k1")
for m in $(scripts/models.sh --with pool_flag); do
  x=$(sweep_median "$S" "$m" conns_per_s value "$k1")
  [ -n "$x" ] && [ -n "$fork" ] || continue
  echo "$m/$base at K=$k1, connections per second: $(sweep_ratio "$OUT/churn.csv" "$m" "$base" conns_per_s "$k1" 3)"
done
echo "medians of $REPS repetitions, $SECS s each, $CONNS client connections; $((SECONDS - start)) s"
echo "results: $OUT/churn.csv, $OUT/churn-summary.csv, $OUT/meta.txt; charts: $OUT/churn.png $OUT/churn-cpu.png (docs/churn-work.md)"
} | tee "$OUT/summary.txt"
exit "$rc"
