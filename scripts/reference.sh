#!/usr/bin/env bash
# reference.sh — `make reference`: the committed reference run, made again.
# Runs every benchmark with its defaults, one after the other (never two at
# once: they would disturb each other on 2 cores), each into its own folder of
# results/reference/, then regenerates docs/table.md and
# results/reference/REPORT.md from them. About 26 minutes on 2 cores.
#   echo/      make bench            (the main comparison)
#   overhead/  make bench-overhead   (runtime and loadgen vs minimal epoll code)
#   units/     make bench-units      (creating and switching units)
#   latency/   make bench-latency    (open-loop percentile spectrum)
#   c10k/      make bench-c10k       (10,000 idle connections, kernel memory)
#   fetch/     make bench-fetch      (many downloads at once, curl beside)
#   tasks/     make bench-tasks      (N sleeping tasks per kind: peak memory; ~6 min:
#                                     N up to 1M, but processes to 10k, threads and
#                                     Python asyncio to 100k)
# Environment: PARTS="echo units" to redo only some parts.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=results/reference
parts=${PARTS:-echo overhead units latency c10k fetch tasks}
mkdir -p "$ref"
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
    tasks)    OUT=$ref/tasks TASKS_CAP="process=10000 thread=100000 py-asyncio=100000" scripts/bench-tasks.sh ;;
    *) echo "reference.sh: unknown part '$p'" >&2; exit 2 ;;
  esac
done
scripts/table.sh "$ref" >docs/table.md
scripts/report.sh "$ref"
