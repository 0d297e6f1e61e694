#!/usr/bin/env bash
# reference.sh — `make reference`: the committed reference run, made again.
# Runs every benchmark with its defaults, one after the other (never two at
# once: they would disturb each other on 2 cores), each into its own folder of
# results/reference/, then regenerates docs/table.md and
# results/reference/REPORT.md from them. About 35 minutes on 2 cores.
#   echo/      make bench            (the main comparison)
#   overhead/  make bench-overhead   (runtime and loadgen vs minimal epoll code)
#   units/     make bench-units      (creating and switching units)
#   latency/   make bench-latency    (open-loop percentile spectrum)
#   c10k/      make bench-c10k       (10,000 idle connections, kernel memory)
#   fetch/     make bench-fetch      (many downloads at once, curl beside)
#   churn/     make bench-churn      (a new connection every K messages; ~3 min)
#   work/      make bench-work       (CPU work per message, calibrated; ~3.5 min)
#   uring/     make bench-uring      (io_uring vs epoll: system calls and CPU per message; ~2 min)
#   tasks/     make bench-tasks      (N sleeping tasks per kind: peak memory; ~6 min:
#                                     N up to 1M, but processes to 10k, threads and
#                                     Python asyncio to 100k)
#   intervals/ make bench at 100 and 1000 connections only (6 repetitions: the
#              intervals of the comparisons, bin/bench --compare; ~4 min, ~8 with
#              the peers; not in the default PARTS)
#   hosts-churn/  make bench-hosts-churn (churn at K = 1 for fork, prefork, pool with
#              the load from here, from one and from two namespace hosts; needs
#              root; ~6 min; not in the default PARTS; docs/hosts.md)
# Environment: PARTS="echo units" to redo only some parts.
# PEERS=1 (`make reference PEERS=1`): the peers (peers/, docs/peers.md) too, in
# echo (10, 100, 1000 connections), latency, c10k (1 ... 1000 connections,
# PEER_CONNS) and fetch (at 100 and 1000 in flight, 3 runs: FETCH_PEER_CONC,
# FETCH_PEER_RUNS); their runtimes' versions go to peers.txt. About 16 minutes
# more on 2 cores (docs/peers.md); a peer whose toolchain is missing is skipped
# with one line.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=results/reference
parts=${PARTS:-echo overhead units latency c10k fetch churn work uring tasks}
mkdir -p "$ref"
if [ -n "${PEERS:-}" ] && [ "${PEERS:-}" != 0 ]; then
  # the peers' fetch at 100 and 1000 in flight, 3 runs (c=10 is 5 s of waiting
  # a run, the same for every fetcher; docs/peers.md has the timings)
  export FETCH_PEER_CONC=${FETCH_PEER_CONC:-100,1000} FETCH_PEER_RUNS=${FETCH_PEER_RUNS:-3}
  peers/list.sh --versions $(peers/list.sh --bench echo 2>/dev/null) | tr ';' '\n' | sed 's/^ *//' >"$ref/peers.txt"
  echo "=== reference: with the peers ($(cut -d: -f1 "$ref/peers.txt" | paste -sd ' ' -))" >&2
elif [ -z "${PARTS:-}" ]; then
  rm -f "$ref/peers.txt"   # a whole run without the peers; a few parts keep the others' list
fi
for p in $parts; do
  echo "=== reference: $p ($(date -u +%H:%M:%S))" >&2
  rm -rf "${ref:?}/$p"
  case "$p" in
    echo)     BENCH_OUT=$ref/echo scripts/bench-echo.sh ;;
    overhead) OUT=$ref/overhead scripts/bench-overhead.sh ;;
    units)    OUT=$ref/units scripts/bench-units.sh ;;
    latency)  OUT=$ref/latency scripts/bench-latency.sh ;;
    c10k)     OUT=$ref/c10k scripts/bench-c10k.sh ;;
    fetch)    FETCH_OUT=$ref/fetch scripts/bench-fetch.sh && FETCH_OUT=$ref/fetch scripts/bench-fetch.sh check ;;
    churn)    CHURN_OUT=$ref/churn scripts/bench-churn.sh ;;
    work)     WORK_OUT=$ref/work scripts/bench-work.sh ;;
    uring)    OUT=$ref/uring scripts/bench-uring.sh ;;
    intervals) BENCH_OUT=$ref/intervals BENCH_ARGS="--conns 100,1000" scripts/bench-echo.sh ;;
    hosts-churn) OUT=$ref/hosts-churn scripts/hosts-churn.sh ;;
    tasks)    OUT=$ref/tasks TASKS_CAP="process=10000 thread=100000 py-asyncio=100000" scripts/bench-tasks.sh ;;
    *) echo "reference.sh: unknown part '$p'" >&2; exit 2 ;;
  esac
done
scripts/table.sh "$ref" >docs/table.md
scripts/report.sh "$ref"
