#!/usr/bin/env bash
# compare.sh [--md] CSV [BASE] [METRICS] — every model of a run against BASE,
# each ratio with its 95% interval from the interleaved repetitions, as one
# table per metric: a row per model, a column per connection count (or per
# swept value). From bin/bench --compare (harness/lib/bench_stats.c: the ratio
# of the medians; the interval of the per-round ratios, order statistics; its
# confidence; "within noise" when it holds 1). docs/methodology.md explains.
#
#   scripts/compare.sh results/latest/echo.csv                 (plain text)
#   scripts/compare.sh --md results/reference/echo/echo.csv    (Markdown, REPORT.md)
#
# BASE: the model to divide by (default loop, or the CSV's first model when it
# has no loop); METRICS: comma-separated columns (default msgs_per_s,cpu_us_per_msg).
# A cell reads "0.75x [0.63, 0.91]": BASE's figure times 0.75. With fewer rounds
# than a 95% interval needs (6) the cell says the interval's real confidence.
# Environment: BIN (where bench is, default bin).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
md=0
[ "${1:-}" = --md ] && { md=1; shift; }
case "${1:-}" in -h|--help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;; "") echo "usage: scripts/compare.sh [--md] CSV [BASE] [METRICS]" >&2; exit 2 ;; esac
csv=$1 metrics=${3:-msgs_per_s,cpu_us_per_msg}
[ -f "$csv" ] || { echo "compare.sh: $csv not found" >&2; exit 1; }
base=${2:-}
if [ -z "$base" ]; then
  base=loop
  awk -F, 'NR > 1 && $1 == "loop" { found = 1; exit } END { exit !found }' "$csv" ||
    base=$(awk -F, 'NR == 2 { print $1 }' "$csv")
fi
"$BIN/bench" --compare "$csv" --base "$base" --metrics "$metrics" >"$TMP/cmp.csv" || exit 1

awk -F, -v md="$md" -v base="$base" '
  function what(m) { return m == "msgs_per_s" ? "messages per second" : m == "cpu_us_per_msg" ? "CPU per message" : \
                            m == "conns_per_s" ? "connections per second" : m == "p99_us" ? "p99 latency" : \
                            m == "pss_per_conn_kib" ? "memory per connection" : m }
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { # the setting that varies: a sweep has a value, else the connection count
    key = $c["value"] != "" ? $c["value"] : $c["conns"]
    m = $c["metric"]
    if (!(m in seenm)) { metric[++nm] = m; seenm[m] = 1 }
    if (!((m, key) in seenk)) { keys[m, ++nk[m]] = key; seenk[m, key] = 1 }
    if (!((m, $c["model"]) in seenr)) { rows[m, ++nr[m]] = $c["model"]; seenr[m, $c["model"]] = 1 }
    conf = $c["confidence_pct"] + 0
    cell = sprintf("%.2fx [%.2f, %.2f]", $c["ratio"], $c["lo"], $c["hi"])
    if ($c["verdict"] == "within noise") cell = cell " within noise"
    if ($c["verdict"] == "one round") cell = sprintf("%.2fx (one round)", $c["ratio"])
    else if (conf < 95) cell = cell sprintf(" (%.0f%%)", conf)
    val[m, $c["model"], key] = cell
    rounds = $c["rounds"]; lowconf = conf < 95
    setting = $c["value"] != "" ? "value" : "conns"
  }
  END {
    for (k = 1; k <= nm; k++) {
      m = metric[k]
      title = sprintf("%s, each model / %s: ratio of the medians [interval of the per-round ratios, 95%% where %d rounds allow]", what(m), base, rounds)
      if (md) { print title ":"; print ""; line = "| model |"; sep = "| --- |"
        for (j = 1; j <= nk[m]; j++) { line = line " " setting " " keys[m, j] " |"; sep = sep " --- |" }
        print line; print sep
        for (i = 1; i <= nr[m]; i++) { line = "| " rows[m, i] " |"
          for (j = 1; j <= nk[m]; j++) line = line " " ((m, rows[m, i], keys[m, j]) in val ? val[m, rows[m, i], keys[m, j]] : "–") " |"
          print line }
        print ""
      } else { print title; printf "%-13s", "model"
        for (j = 1; j <= nk[m]; j++) printf "  %-38s", setting " " keys[m, j]; print ""
        for (i = 1; i <= nr[m]; i++) { printf "%-13s", rows[m, i]
          for (j = 1; j <= nk[m]; j++) printf "  %-38s", ((m, rows[m, i], keys[m, j]) in val ? val[m, rows[m, i], keys[m, j]] : "-"); print "" }
        print ""
      }
    }
    if (lowconf) printf "(%.0f%%): with %d rounds no interval reaches 95%%: it is the whole range of the per-round ratios, which holds their true median with %.0f%% confidence (6 rounds: 96.9%%).\n", conf, rounds, conf
  }' "$TMP/cmp.csv"
