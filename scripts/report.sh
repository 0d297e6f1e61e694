#!/usr/bin/env bash
# report.sh [RUN_DIR] — write RUN_DIR/REPORT.md: for the run (or for each
# benchmark's folder inside it, as in results/reference/), its metadata, every
# chart, a summary table read from its CSV, the comparisons with their
# intervals and the disturbed runs (scripts/compare.sh), and the list of raw
# files beside it; then RUN_DIR/REPORT.html, the same as one page to explore
# (scripts/html.sh). Nothing is measured or typed here: the report only
# gathers what the benchmarks wrote. `make report` runs it on results/latest;
# `make report RUN=results/reference` on the reference run.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
source "$(dirname "$0")/lib.sh"
run=${1:-results/latest}
[ -d "$run" ] || { echo "report.sh: no run folder $run (run a benchmark first, e.g. make bench)" >&2; exit 1; }

# csv_table FILE COLUMN... — the named columns of FILE as a Markdown table
# (columns the file does not have are left out; no names: every column).
csv_table() {
  local f=$1; shift
  awk -F, -v want="$*" '
    NR == 1 {
      n = split(want, w, " ")
      if (n == 0) for (i = 1; i <= NF; i++) pick[++m] = i
      else for (j = 1; j <= n; j++) for (i = 1; i <= NF; i++) if ($i == w[j]) pick[++m] = i
      if (m == 0) exit
      line = "|"; sep = "|"
      for (k = 1; k <= m; k++) { line = line " " $pick[k] " |"; sep = sep " --- |" }
      print line; print sep; next
    }
    { line = "|"; for (k = 1; k <= m; k++) line = line " " $pick[k] " |"; print line }
  ' "$f"
}

# What each benchmark's folder is, and which table sums it up.
describe() {
  case "$1" in
    echo)     echo "Echo servers: throughput, latency, memory and CPU by model (make bench)" ;;
    units)    echo "Unit costs: creating and switching processes, threads, coroutines (make bench-units)" ;;
    c10k)     echo "C10K: idle connections, user and kernel memory per connection (make bench-c10k)" ;;
    latency)  echo "Open-loop latency spectrum by model (make bench-latency)" ;;
    fetch)    echo "Fetch: downloading many URLs at once, with curl for reference (make bench-fetch)" ;;
    overhead) echo "Overhead: a model's runtime vs a hand-written epoll server and fetcher, loadgen vs a minimal client, system calls (make bench-overhead)" ;;
    churn)    echo "Connection churn: a new connection every K messages, connections per second and CPU per connection (make bench-churn)" ;;
    work)     echo "CPU work per message: throughput and cores used against µs of work (make bench-work)" ;;
    uring)    echo "io_uring vs epoll: system calls and server CPU per message (make bench-uring)" ;;
    tasks)    echo "A million tasks: peak memory and wall time of N sleeping tasks per kind (make bench-tasks)" ;;
    *)        echo "$1" ;;
  esac
}
# compare CSV BASE METRICS — each model against BASE, with the intervals
# (scripts/compare.sh; BASE "" for its default); nothing for a CSV of a run
# without repetitions, or without bin/bench to compute them
compare() {
  [ -f "$1" ] && [ -x "$BIN/bench" ] && head -n 1 "$1" | tr ',' '\n' | grep -qx rep || return 0
  local base=$2 m metrics=""
  for m in ${3//,/ }; do   # the metrics this CSV has
    head -n 1 "$1" | tr ',' '\n' | grep -qx "$m" && metrics="$metrics${metrics:+,}$m"
  done
  [ -n "$metrics" ] || return 0
  [ -z "$base" ] || awk -F, -v b="$base" 'NR > 1 && $1 == b { f = 1; exit } END { exit !f }' "$1" || base=""
  echo; echo "Comparisons: each ratio with its interval from the interleaved repetitions; \"within noise\" when it holds 1 ([methodology.md](../../docs/methodology.md#comparisons-a-ratio-and-its-interval)):"; echo
  "$C10K_ROOT/scripts/compare.sh" --md "$1" "$base" "$metrics" 2>/dev/null || echo "(no comparison: $(basename "$1") has no rows to pair)"
}
# disturbed CSV — the runs that other processes disturbed (the disturbed column), if any
disturbed() {
  [ -f "$1" ] || return 0
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    ("disturbed" in c) { n++; if ($c["disturbed"] > 0) { d++; o = o sprintf(" %s at %s (rep %s, %.2f s of CPU)", $c["model"], $c["conns"], $c["rep"], $c["other_cpu_s"]) } }
    END { if (d) printf "\n**Disturbed:** %d of %d runs had other processes take more than a quarter of a core meanwhile:%s.\n", d, n, o }' "$1"
}
summary() { # DIR — print the summary table of a benchmark folder
  local d=$1
  if [ -f "$d/echo-summary.csv" ]; then
    echo "Medians over repetitions (min–max spread in the charts and in echo-summary.csv):"; echo
    csv_table "$d/echo-summary.csv" model conns msgs_per_s p50_us p99_us p999_us cpu_us_per_msg cores_busy pss_per_conn_kib threads_peak procs_peak reps bad_runs disturbed_runs spread_pct
    disturbed "$d/echo.csv"
    compare "$d/echo.csv" "" msgs_per_s,cpu_us_per_msg,p99_us,pss_per_conn_kib
  elif [ -f "$d/units.csv" ]; then csv_table "$d/units.csv"
  elif [ -f "$d/c10k-median.csv" ]; then
    echo "Medians over repetitions, KiB per connection:"; echo
    csv_table "$d/c10k-median.csv" model conns reps errors connect_s pss_kib_per_conn kernel_kib_per_conn cg_server_kib_per_conn meminfo_server_kib_per_conn agree_pct stop_reason
  elif [ -f "$d/latency.csv" ]; then
    csv_table "$d/latency.csv" model rep rate conns msgs p50_us p90_us p99_us p999_us p9999_us max_us p999_unc_us
  elif [ -f "$d/summary.csv" ]; then
    csv_table "$d/summary.csv"
    if [ -f "$d/check.txt" ]; then
      echo; echo "The judged comparisons (\`make bench-fetch-check\`, check.txt):"; echo
      grep -v '^$' "$d/check.txt" | sed 's/^/    /'
    fi
  elif [ -f "$d/overhead.csv" ]; then csv_table "$d/overhead.csv"
  elif [ -f "$d/churn-summary.csv" ]; then
    echo "Medians over repetitions; value = K, messages per connection:"; echo
    csv_table "$d/churn-summary.csv" model value msgs_per_s conns_per_s cpu_us_per_conn no_reply jain reps disturbed_runs
    disturbed "$d/churn.csv"
    compare "$d/churn.csv" fork conns_per_s,cpu_us_per_conn
    [ -f "$d/summary.txt" ] && { echo; echo "What the benchmark printed (summary.txt):"; echo; sed 's/^/    /' "$d/summary.txt"; }
  elif [ -f "$d/work-summary.csv" ]; then
    echo "Medians over repetitions; value = µs of CPU work per message:"; echo
    csv_table "$d/work-summary.csv" model value msgs_per_s cpu_us_per_msg cores_busy jain reps disturbed_runs
    disturbed "$d/work.csv"
    compare "$d/work.csv" loop msgs_per_s
    [ -f "$d/summary.txt" ] && { echo; echo "What the benchmark printed (summary.txt):"; echo; sed 's/^/    /' "$d/summary.txt"; }
  elif [ -f "$d/tasks.csv" ]; then csv_table "$d/tasks.csv"
  elif [ -f "$d/summary.txt" ]; then sed 's/^/    /' "$d/summary.txt"
  fi
}

section() { # DIR NAME — one benchmark's part of the report, paths relative to $run
  local d=$1 name=$2 rel=${1#"$run"}; rel=${rel#/}; [ -n "$rel" ] && rel="$rel/"
  echo "## $(describe "$name")"; echo
  local meta="$d/meta.txt"
  if [ -f "$meta" ]; then
    # the one metadata format (scripts/meta.sh); older runs named some keys differently
    local dirty; dirty=$(meta_get "$meta" dirty)
    echo "Run of $(meta_get "$meta" date) on $(meta_machine "$meta"); commit $(meta_get "$meta" commit)$([ "$dirty" = yes ] && echo " with uncommitted changes")$(
      l=$(meta_get "$meta" load_start loadavg_start); [ -n "$l" ] && echo "; load average $(cut -d' ' -f1 <<<"$l") at the start")$(
      t=$(meta_get "$meta" duration_s); [ -n "$t" ] && echo ", $t s long")."
    echo
    echo "<details><summary>How this run was made (${rel}meta.txt)</summary>"; echo
    sed 's/^/    /' "$meta"; echo; echo "</details>"; echo
  fi
  local png c
  # the echo charts in reading order, then every other chart by name
  for png in "$d"/throughput.png "$d"/p99.png "$d"/memory.png "$d"/cpu.png "$d"/fairness.png "$d"/*.png; do
    c=$(basename "$png" .png)
    [ -f "$png" ] && [[ " ${shown:-} " != *" $d/$c "* ]] || continue
    shown="${shown:-} $d/$c"
    echo "![$c](${rel}$c.png)"; echo
  done
  summary "$d"; echo
  echo "Raw files: $(cd "$d" && ls -- *.csv *.json *.hgrm *.txt 2>/dev/null | sed "s|^|\`${rel}|; s|$|\`|" | paste -sd ' ' | sed 's/ /, /g')"
  echo
}

{
  echo "# Report: $run"; echo
  echo "<!-- Generated by scripts/report.sh from the files in this folder; do not edit by hand. -->"; echo
  if [ -f "$run/peers.txt" ]; then   # a run with PEERS=1 (scripts/reference.sh): the peers' runtimes
    echo "With the peers (peers/NAME/, [docs/peers.md](../../docs/peers.md)), dashed in the charts; their runtimes:"; echo
    sed 's/^/- /' "$run/peers.txt"; echo
  fi
  found=0
  if ls "$run"/*.csv >/dev/null 2>&1; then section "$run" "$(basename "$run")"; found=1; fi
  # The main comparison first, then the others in a fixed order.
  for d in "$run"/echo "$run"/overhead "$run"/latency "$run"/c10k "$run"/units "$run"/fetch "$run"/*/; do
    d=${d%/}
    case " ${done_dirs:-} " in *" $d "*) continue ;; esac
    done_dirs="${done_dirs:-} $d"
    [ -d "$d" ] && ls "$d"/*.csv >/dev/null 2>&1 || continue
    section "$d" "$(basename "$d")"; found=1
  done
  [ $found -eq 1 ] || { echo "report.sh: no CSV results in $run" >&2; exit 1; }
} >"$run/REPORT.md.tmp"
mv "$run/REPORT.md.tmp" "$run/REPORT.md"
echo "report: wrote $run/REPORT.md"
"$C10K_ROOT/scripts/html.sh" "$run"
