# sweep.sh — what bench-churn.sh and bench-work.sh share (sourced, after
# scripts/lib.sh): run bin/bench over every model for each value of one
# setting, interleaved and repeated, gather the rows in one CSV, summarise it.
#
#   sweep_run OUT CSV REPS "VALUES" ARGS_FN   (ARGS_FN VALUE prints bench flags)
#
# Repetition r runs every value in turn, each with every model (one bin/bench
# call, --reps 1); the order of the models rotates with r and the value, so
# no model always goes first. Each call writes its own folder OUT/runs/...;
# its rows are appended to OUT/CSV with `rep` set to r and a last column
# `value` holding VALUE, and its commands to OUT/commands.txt. Progress (one
# line per run, bench's) goes to stderr. Returns 1 if a run failed or was
# marked, 0 otherwise. Needs BIN, MODELS (space-separated) in the caller, and
# HOST_ARGS (scripts/hosts-lib.sh: empty, or the flags of a run across hosts).

# sweep_rotate N WORDS... — the words rotated left by N
sweep_rotate() {
  local n=$1; shift
  local w=("$@") k=${#w[@]} i out=()
  for ((i = 0; i < k; i++)); do out+=("${w[(i + n) % k]}"); done
  echo "${out[*]}"
}

sweep_run() {
  local out=$1 csv=$2 reps=$3 values=$4 args_fn=$5 rc=0 r v i=0 dir order
  local nv; nv=$(wc -w <<<"$values")
  rm -rf "$out/runs" && mkdir -p "$out/runs"
  : >"$out/commands.txt"
  rm -f "$out/$csv"
  for ((r = 1; r <= reps; r++)); do
    for v in $values; do
      i=$((i + 1))
      # shellcheck disable=SC2086  # MODELS is a list
      order=$(sweep_rotate $(( (r - 1) + i )) $MODELS | tr ' ' ,)
      dir="$out/runs/r$r-$v"
      echo "--- rep $r/$reps, value $v ($i/$((reps * nv)))" >&2
      # shellcheck disable=SC2046  # the flags are words on purpose
      "$BIN/bench" --bin "$BIN" --models "$order" --reps 1 --out "$dir" $("$args_fn" "$v") ${HOST_ARGS[@]+"${HOST_ARGS[@]}"} \
        2> >(grep -v '^bench: [0-9]* runs in' >&2) || rc=1
      [ -f "$dir/echo.csv" ] || { echo "sweep: $dir/echo.csv missing" >&2; rc=1; continue; }
      [ -f "$out/$csv" ] || sed -n '1s/$/,value/p' "$dir/echo.csv" >"$out/$csv"
      awk -F, -v OFS=, -v r="$r" -v v="$v" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "rep") k = i; next }
                                            { $k = r; print $0, v }' "$dir/echo.csv" >>"$out/$csv"
      sed "s/^run \([0-9]*\): rep 1,/run \1: rep $r, value $v,/" "$dir/commands.txt" >>"$out/commands.txt"
    done
  done
  return "$rc"
}

# sweep_summary OUT CSV SUMMARY — medians per model x value (bench --summarize)
sweep_summary() {
  "$BIN/bench" --summarize "$1/$2" >"$1/$3.tmp" && mv "$1/$3.tmp" "$1/$3"
}

# sweep_median SUMMARY MODEL COLUMN VALUECOL VALUE — one median from a summary
sweep_median() {
  awk -F, -v m="$2" -v col="$3" -v vc="$4" -v v="$5" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["model"] == m && $c[vc] + 0 == v + 0 { print $c[col]; exit }' "$1"
}

# sweep_ratio CSV MODEL BASE COLUMN VALUE GOAL — MODEL / BASE in COLUMN at
# VALUE, with its interval from the rounds (bin/bench --compare), judged
# against GOAL: "2.68x [2.63, 3.06] (75%): goal >= 3x not reached" — reached
# when the whole interval is at or above it, not reached when it is below,
# else "within noise of the goal"
sweep_ratio() {
  "$BIN/bench" --compare "$1" --base "$3" --metrics "$4" | awk -F, -v m="$2" -v v="$5" -v g="$6" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["model"] == m && $c["value"] + 0 == v + 0 {
      conf = $c["confidence_pct"] + 0
      if ($c["rounds"] < 2) { printf "%.2fx (one round: no interval): goal >= %sx %s", $c["ratio"], g,
                                     ($c["ratio"] >= g ? "reached" : "not reached"); found = 1; exit }
      printf "%.2fx [%.2f, %.2f]%s: goal >= %sx %s", $c["ratio"], $c["lo"], $c["hi"],
             conf < 95 ? sprintf(" (%.0f%% interval: %d rounds)", conf, $c["rounds"]) : "", g,
             ($c["lo"] >= g ? "reached" : ($c["hi"] < g ? "not reached" : "within noise of the goal"))
      found = 1; exit }
    END { if (!found) printf "no rows to compare" }'
}

# sweep_draw GP OUT SUMMARY CHARTS... — draw GP into OUT as png and svg and
# check that every CHART.png/.svg is there
sweep_draw() {
  local gp=$1 out=$2 summary=$3 t term c foot; shift 3
  command -v gnuplot >/dev/null || { echo "sweep: gnuplot is missing (apt-get install gnuplot-nox)" >&2; return 1; }
  local m="$out/meta.txt" raw=${summary%-summary.csv}.csv
  foot="$(meta_machine "$m") | $(meta_get "$m" date | cut -c1-10) | commit $(meta_get "$m" commit) | $(meta_get "$m" reps) reps x $(meta_get "$m" secs) s, $(meta_get "$m" conns) connections | pinning $(meta_get "$m" pinning | cut -d' ' -f1) | median, bars = min..max"
  local warn=""
  [ ! -f "$raw" ] || warn=$(chart_flags "$raw" "$summary")
  local models; models=$(csv_models "$summary")
  local has_dist=0 has_spread=0
  head -n 1 "$summary" | tr ',' '\n' | grep -qx disturbed_runs && has_dist=1
  head -n 1 "$summary" | tr ',' '\n' | grep -qx spread_pct && has_spread=1
  for t in png svg; do
    # shellcheck disable=SC2086
    term=$(gp_term "$t" $models)
    # shellcheck disable=SC2086
    gnuplot -e "$term" -e "$(gp_palette $models)" -e "$(gp_panels $models)" \
            -e "summary=$(gp_str "$summary"); outdir=$(gp_str "$out"); ext=\"$t\"" \
            -e "models=$(gp_str "$models"); foot=$(gp_str "$foot"); warn=$(gp_str "$warn"); has_dist=$has_dist; has_spread=$has_spread" \
            "$gp" 2>&1 | { grep -v 'no valid points' || true; } >&2
  done
  for c in "$@"; do
    for t in png svg; do
      [ -s "$out/$c.$t" ] || { echo "sweep: $out/$c.$t was not drawn" >&2; return 1; }
    done
  done
}

# sweep_all NAME REPS "VALUES" ARGS_FN CHARTS... — the whole sweep of a
# benchmark NAME (churn, work) into $OUT: the runs (sweep_run), meta.txt
# finished, NAME-summary.csv, the runs' folders removed (every row and
# command is in NAME.csv and commands.txt), scripts/NAME.gp drawn. Returns 1
# if a run failed or a chart was not drawn, 2 if nothing was measured.
# sweep_pinning OUT — meta.txt's pinning as bin/bench chose it (--pin auto:
# halves on 4 or more CPUs, else none; hosts), read from its first run
sweep_pinning() {
  local p d
  d=$(find "$1/runs" -name meta.txt 2>/dev/null | sort | head -n 1)
  p=$(meta_get "$d" pinning)
  [ -n "$p" ] && sed -i "s|^pinning: .*|pinning: $p|" "$1/meta.txt"
  return 0
}

sweep_all() {
  local name=$1 reps=$2 values=$3 args_fn=$4 rc=0; shift 4
  sweep_run "$OUT" "$name.csv" "$reps" "$values" "$args_fn" || rc=1
  sweep_pinning "$OUT"
  scripts/meta.sh --finish "$OUT/meta.txt"
  [ -s "$OUT/$name.csv" ] || { echo "bench-$name.sh: no run produced a row" >&2; return 2; }
  sweep_summary "$OUT" "$name.csv" "$name-summary.csv" || return 2
  rm -rf "$OUT/runs"
  sweep_draw "scripts/$name.gp" "$OUT" "$OUT/$name-summary.csv" "$@" || rc=1
  return "$rc"
}
