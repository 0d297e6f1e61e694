#!/usr/bin/env bash
# bench-fetch.sh — the fetch benchmark: the three fetchers (and curl --parallel
# as the reference) download COUNT URLs of /bytes/1024?delay_ms=DELAY from
# bin/fetchd at several concurrencies. hyperfine repeats each run; every run is
# wrapped in bin/measure, which records CPU seconds and peak memory (the PSS of
# the whole process tree) into a CSV. Results, metadata and charts go to
# $FETCH_OUT (results/fetch).
#
#   scripts/bench-fetch.sh sweep    the sweep over models x concurrency (make bench-fetch)
#   scripts/bench-fetch.sh check    the judged comparisons (make bench-fetch-check)
#   scripts/bench-fetch.sh charts   redraw the charts from $FETCH_OUT/summary.csv
#
# Environment (defaults in brackets):
#   FETCH_COUNT [1000]  FETCH_DELAY_MS [50]  FETCH_BYTES [1024]
#   FETCH_CONC [1,10,100,1000]  FETCH_MODELS [every model of the registry,
#   comma-separated: scripts/models.sh; with PEERS=1 the peers' fetchers too:
#   peers/list.sh --bench fetch]  FETCH_CURL [1]
#   FETCH_RUNS [5] and FETCH_WARMUP [1] per command; a concurrency whose one run
#   would take longer than FETCH_LONG_S [10] seconds gets FETCH_LONG_RUNS [1]
#   run and no warm-up (c=1 at the defaults: 1000 x 50 ms = 50 s a run).
#   FETCH_PEER_CONC [FETCH_CONC without the long ones]: the concurrencies at
#   which the peers run (PEERS=1): c=1 at the defaults is 1000 downloads one by
#   one, about a minute per peer and nothing about concurrency.
#   FETCH_PEER_RUNS [FETCH_RUNS]: runs per peer command (a Python process pool
#   of 1000 takes some 25 s a run).
#   FETCH_OUT [results/fetch]  BIN [bin]
#   FETCH_CHECK_MODEL [loop]: the model the judged comparisons are about
#   FETCH_PIN [auto]: auto puts fetchd and the load (hyperfine, measure, the
#   fetcher, curl) on disjoint halves of the CPUs when there are 4 or more
#   (scripts/lib.sh pin_halves, taskset -c), and pins nothing on fewer; none
#   pins nothing. FETCH_CPUS [this process's CPUs]: the list that is halved.
#   SERVER_HOST, LOAD_HOSTS ("user@a user@b"): the sweep across hosts, fetchd
#   on the server host (bound to SERVER_ADDR [SERVER_HOST's host part], port
#   SERVER_PORT [a free one]) and the fetchers on the load hosts, each a share
#   of COUNT and of C, started together FETCH_LEAD_MS [1000] after they are
#   told; SSH_CONFIG, HOSTS_DIR as for make bench (docs/hosts.md). Only the
#   registry's fetchers and curl (if every load host has it) run there.
set -eu
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/hosts-lib.sh
source scripts/fetch-hosts.sh
COUNT=${FETCH_COUNT:-1000}
DELAY=${FETCH_DELAY_MS:-50}
BYTES=${FETCH_BYTES:-1024}
CONC=${FETCH_CONC:-1,10,100,1000}
MODELS=${FETCH_MODELS-$(peers/list.sh --bench fetch | paste -sd , -)}
CHECK_MODEL=${FETCH_CHECK_MODEL:-loop}
CURL=${FETCH_CURL:-1}
RUNS=${FETCH_RUNS:-5}
WARMUP=${FETCH_WARMUP:-1}
LONG_S=${FETCH_LONG_S:-10}
LONG_RUNS=${FETCH_LONG_RUNS:-1}
OUT=${FETCH_OUT:-results/fetch}
MODE=${1:-sweep}
case $MODE in -h|--help) sed -n '2,39s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
HOSTS=0
[ -z "${SERVER_HOST:-}${LOAD_HOSTS:-}" ] || HOSTS=1

die() { echo "bench-fetch: $*" >&2; exit 1; }
for v in COUNT DELAY BYTES RUNS WARMUP LONG_S LONG_RUNS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "FETCH_$v must be a whole number, not '${!v}'"
done
[[ $CONC =~ ^[0-9]+(,[0-9]+)*$ ]] || die "FETCH_CONC must look like 1,10,100 (got '$CONC')"
[ "$RUNS" -ge 1 ] && [ "$LONG_RUNS" -ge 1 ] && [ "$COUNT" -ge 1 ] || die "runs and count must be at least 1"
for p in fetchd measure; do [ -x "$BIN/$p" ] || die "$BIN/$p is missing: run make first"; done
[ "$HOSTS" = 0 ] || [ "$MODE" != check ] || die "check runs on this machine only (SERVER_HOST and LOAD_HOSTS are for the sweep)"

# The local run's CPU sets (item 5 of docs/hosts.md): fetchd on one half,
# the load on the other, on 4 or more CPUs; nothing pinned on fewer.
SRV_PIN=() LOAD_PIN=()
PINNING="none (fetchd, the fetcher and bin/measure share all cores)"
case ${FETCH_PIN:-auto} in
  auto) halves=$(pin_halves ${FETCH_CPUS:+"$FETCH_CPUS"})
        if [ -n "$halves" ] && [ "$HOSTS" = 0 ]; then
          SRV_PIN=(taskset -c "${halves% *}") LOAD_PIN=(taskset -c "${halves#* }")
          PINNING="halves (fetchd on CPUs ${halves% *}; hyperfine, bin/measure, the fetcher and curl on CPUs ${halves#* }: taskset -c)"
        fi ;;
  none) ;;
  *) die "FETCH_PIN must be auto or none, not '$FETCH_PIN'" ;;
esac
if [ "$HOSTS" = 1 ]; then
  PINNING="hosts (fetchd on the server host, the fetchers on the load hosts, each under bin/measure: host_* keys)"
fi

mkdir -p "$OUT"
FPID=
stop_fetchd() { [ -z "$FPID" ] || stop_server "$FPID"; FPID=; }
lib_on_exit stop_fetchd

# Start fetchd on a free port; sets PORT.
start_fetchd() {
  start_server fetchd "${SRV_PIN[@]}" "$BIN/fetchd" --port 0 || die "$SERR"
  FPID=$SPID PORT=$SPORT
}

# ideal_s C DELAY_MS — the wall time if every wave of C requests took exactly the delay.
ideal_s() { awk -v n="$COUNT" -v c="$1" -v d="$2" 'BEGIN { w = int((n + c - 1) / c); printf "%.3f", w * d / 1000 }'; }

# curl's config file: COUNT (or N) times the same URL, each written to /dev/null.
curl_config() { # FILE URL [N]
  for _ in $(seq "${3:-$COUNT}"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$2"; done >"$1"
}

# write_meta FILE — meta.txt (scripts/meta.sh) with this benchmark's settings
write_meta() {
  local pv; pv=$(peers/list.sh --versions ${MODELS//,/ })   # the peers' runtimes, if any
  local hf curlv
  hf=$(hyperfine --version) curlv=$(curl --version | head -n 1 | cut -d' ' -f1-2)
  if [ "$HOSTS" = 1 ]; then
    hf="none across hosts: each load host times its share with bin/measure --start-at"
    curlv="${FH_CURL_VERSION:-not run} (on the load hosts)"
  fi
  scripts/meta.sh "$1" --set pinning="$PINNING" \
    --set hyperfine="$hf" --set curl="$curlv" \
    --set workload="$COUNT x GET /bytes/$BYTES?delay_ms=$DELAY; concurrency $CONC; models $MODELS${pmodels:+ (the peers at concurrency ${pconc:-none}, ${pruns:-$RUNS} runs)}; curl $CURL" \
    --set runs="$RUNS after $WARMUP warm-up; $LONG_RUNS and none when a run takes over $LONG_S s" \
    ${pv:+--set} ${pv:+"peers=$pv"} \
    "${@:2}"
}

# aggregate RAW_CSV SKIP — medians per label (model@c) after the first SKIP
# rows of each label (hyperfine's warm-up runs), as summary rows. A run
# across hosts (scripts/fetch-hosts.sh) has load_hosts and fetchd_cpu_s
# columns too; a local one is 1 load host and no fetchd figure.
aggregate() {
  awk -F, -v skip="$2" -v count="$COUNT" -v delay="$DELAY" '
    function median(s,   a, n, i, j, t) {
      n = split(s, a, " ")
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { seen[$1]++; if (seen[$1] <= skip) next
      if (!($1 in order)) { order[$1] = ++nl; names[nl] = $1 }
      runs[$1]++; if ($2 != 0) bad[$1]++
      wall[$1] = wall[$1] " " $3; cpu[$1] = cpu[$1] " " ($4 + $5)
      pss[$1] = pss[$1] " " $7; rss[$1] = rss[$1] " " $6
      hosts[$1] = ("load_hosts" in col) ? $col["load_hosts"] : 1
      if ("fetchd_cpu_s" in col) fcpu[$1] = fcpu[$1] " " $col["fetchd_cpu_s"] }
    END {
      for (i = 1; i <= nl; i++) { l = names[i]; split(l, mc, "@")
        w = int((count + mc[2] - 1) / mc[2])
        printf "%s,%s,%d,%d,%.4f,%.4f,%.0f,%.0f,%.4f,%d,%s\n", mc[1], mc[2], runs[l], bad[l] + 0,
          median(wall[l]), median(cpu[l]), median(pss[l]), median(rss[l]), w * delay / 1000,
          hosts[l], (l in fcpu) ? sprintf("%.4f", median(fcpu[l])) : "" }
    }' "$1"
}
SUMMARY_HEADER="model,concurrency,runs,failed_runs,wall_s,cpu_s,peak_pss_kib,maxrss_kib,ideal_s,load_hosts,fetchd_cpu_s"

# run_group NAME RUNS WARMUP CONCLIST DELAY RAW [MODELS [CURL]] — hyperfine over
# models x concurrency, then curl (MODELS and CURL default to the settings').
run_group() {
  local name=$1 runs=$2 warm=$3 cl=$4 delay=$5 raw=$6 MODELS=${7-$MODELS} CURL=${8-$CURL}
  local url="http://127.0.0.1:$PORT/bytes/$BYTES?delay_ms=$delay"
  local measure="$BIN/measure --out $raw --label"
  if [ -n "$MODELS" ]; then
    echo "== $name: models $MODELS x concurrency $cl, $runs runs after $warm warm-up"
    "${LOAD_PIN[@]}" hyperfine --style basic -i --warmup "$warm" --runs "$runs" --export-json "$OUT/hyperfine-$name.json" \
      -L model "$MODELS" -L c "$cl" \
      "$measure {model}@{c} -- $BIN/fetch-{model} -q -c {c} -n $COUNT --timeout 60000 '$url'"
  fi
  if [ "$CURL" = 1 ]; then
    curl_config "$OUT/curl-$name.cfg" "$url"
    echo "== $name: curl --parallel (at most 300 in flight: curl's limit) x concurrency $cl"
    "${LOAD_PIN[@]}" hyperfine --style basic -i --warmup "$warm" --runs "$runs" --export-json "$OUT/hyperfine-$name-curl.json" \
      -L c "$cl" \
      "$measure curl@{c} -- curl -sS --fail --parallel --parallel-max \$(( {c} > 300 ? 300 : {c} )) -K $OUT/curl-$name.cfg"
  fi
}

# in_list C LIST — is C in the comma-separated LIST?
in_list() { [[ ",$2," == *",$1,"* ]]; }
# keep LIST FILTER — LIST's members that are in FILTER, comma-separated
keep() { local c out=""; for c in ${1//,/ }; do in_list "$c" "$2" && out="$out${out:+,}$c"; done; echo "$out"; }

sweep() {
  local short="" long="" est total=0 c m cmodels="" pmodels=""
  for m in ${MODELS//,/ }; do
    if [ -f "peers/$m/about.txt" ]; then pmodels="$pmodels${pmodels:+,}$m"; else cmodels="$cmodels${cmodels:+,}$m"; fi
  done
  if [ "$HOSTS" = 1 ] && [ -n "$pmodels" ]; then
    echo "bench-fetch: the peers' fetchers ($pmodels) run only on this machine: left out across hosts"
    pmodels=""
  fi
  for c in ${CONC//,/ }; do
    [ "$c" -ge 1 ] || die "a concurrency must be at least 1"
    est=$(ideal_s "$c" "$DELAY")
    if awk -v e="$est" -v l="$LONG_S" 'BEGIN { exit !(e > l) }'; then long="$long${long:+,}$c"
    else short="$short${short:+,}$c"; fi
  done
  local nmodels ncmd pconc=${FETCH_PEER_CONC:-$short} pruns=${FETCH_PEER_RUNS:-$RUNS}
  [[ $pruns =~ ^[1-9][0-9]*$ ]] || die "FETCH_PEER_RUNS must be a whole number >= 1, not '$pruns'"
  nmodels=$(echo "$cmodels" | tr ',' '\n' | grep -c .) || true
  ncmd=$((nmodels + CURL))
  total=$(awk -v s="$short" -v l="$long" -v n="$COUNT" -v d="$DELAY" -v k="$ncmd" \
    -v r="$RUNS" -v w="$WARMUP" -v lr="$LONG_RUNS" '
    function est(list, reps,   a, i, m, t) { m = split(list, a, ","); t = 0
      for (i = 1; i <= m; i++) t += int((n + a[i] - 1) / a[i]) * d / 1000 * reps * k; return t }
    BEGIN { printf "%.0f", est(s, r + w) + est(l, lr) }')
  if [ -n "$pmodels" ]; then
    total=$((total + $(awk -v s="$(keep "$short" "$pconc")" -v l="$(keep "$long" "$pconc")" -v n="$COUNT" -v d="$DELAY" \
      -v k="$(echo "$pmodels" | tr ',' '\n' | grep -c .)" -v r="$pruns" -v w="$WARMUP" -v lr="$LONG_RUNS" '
      function est(list, reps,   a, i, m, t) { m = split(list, a, ","); t = 0
        for (i = 1; i <= m; i++) t += int((n + a[i] - 1) / a[i]) * d / 1000 * reps * k; return t }
      BEGIN { printf "%.0f", est(s, r + w) + est(l, lr) }')))
    echo "bench-fetch: the peers ($pmodels) at concurrency ${pconc:-none}, $pruns runs"
  fi
  echo "bench-fetch: $COUNT x /bytes/$BYTES?delay_ms=$DELAY, concurrency $CONC, $ncmd commands"
  echo "bench-fetch: estimated at least ${total} s (the delays alone; setup and slow models add more)"
  if [ "$HOSTS" = 1 ]; then
    local nruns
    nruns=$(( ncmd * ( $(wc -w <<<"${short//,/ }") * (RUNS + WARMUP) + $(wc -w <<<"${long//,/ }") * LONG_RUNS ) ))
    echo "bench-fetch: across hosts each run starts ${FH_LEAD_MS} ms after it is sent: $nruns runs, $(( nruns * FH_LEAD_MS / 1000 )) s more"
  fi
  rm -f "$OUT"/raw-*.csv "$OUT"/hyperfine-*.json "$OUT"/curl-*.cfg "$OUT/load-hosts.csv"
  if [ "$HOSTS" = 1 ]; then
    sweep_hosts "$short" "$long" "$cmodels"
    return
  fi
  write_meta "$OUT/meta.txt" \
    --command "$BIN/measure --out RAW --label MODEL@C -- $BIN/fetch-MODEL -q -c C -n $COUNT --timeout 60000 URL (under hyperfine; see hyperfine-*.json)" \
    --command "$BIN/measure --out RAW --label curl@C -- curl -sS --fail --parallel --parallel-max min(C,300) -K CONFIG"
  start_fetchd
  echo "bench-fetch: fetchd pid $FPID on port $PORT; pinning: $PINNING"
  [ -z "$short" ] || run_group short "$RUNS" "$WARMUP" "$short" "$DELAY" "$OUT/raw-short.csv" "$cmodels"
  [ -z "$long" ] || run_group long "$LONG_RUNS" 0 "$long" "$DELAY" "$OUT/raw-long.csv" "$cmodels"
  # the peers: the same commands, at their own concurrencies, into the same raw files
  if [ -n "$pmodels" ]; then
    c=$(keep "$short" "$pconc"); [ -z "$c" ] || run_group short-peers "${FETCH_PEER_RUNS:-$RUNS}" "$WARMUP" "$c" "$DELAY" "$OUT/raw-short.csv" "$pmodels" 0
    c=$(keep "$long" "$pconc"); [ -z "$c" ] || run_group long-peers "$LONG_RUNS" 0 "$c" "$DELAY" "$OUT/raw-long.csv" "$pmodels" 0
  fi
  stop_fetchd
  summarize
}

# sweep_hosts SHORT LONG CMODELS — the sweep with fetchd on the server host and
# the fetchers on the load hosts (scripts/fetch-hosts.sh); a host lost ends it
# with the line naming it
sweep_hosts() {
  local short=$1 long=$2 cmodels=$3
  fh_up "$cmodels"
  [ "$CURL" = 0 ] || fh_curl_check
  write_meta "$OUT/meta.txt" \
    --command "on each load host, its share of C and COUNT: bin/measure --start-at T --until-eof --out - --label MODEL@C -- bin/fetch-MODEL -c C_i -n COUNT_i --timeout 60000 URL" \
    --command "on each load host: bin/measure --start-at T --until-eof --out - --label curl@C -- curl -sS --fail --parallel --parallel-max min(C_i,300) -K CONFIG_i" \
    --command "on the server host: bin/fetchd --bind $SERVER_ADDR --port ${SERVER_PORT:-0} --control" \
    --command "SERVER_HOST=$SERVER_HOST LOAD_HOSTS='$LOAD_HOSTS' FETCH_COUNT=$COUNT FETCH_CONC=$CONC FETCH_RUNS=$RUNS FETCH_WARMUP=$WARMUP scripts/bench-fetch.sh"
  if ! fh_fetchd_start; then
    hosts_finish "$OUT" || true
    exit 1
  fi
  URL="http://$SERVER_ADDR:$PORT/bytes/$BYTES?delay_ms=$DELAY"
  echo "bench-fetch: fetchd on $SERVER_HOST at $SERVER_ADDR:$PORT; the fetchers on $LOAD_HOSTS"
  local ok=1
  if [ -n "$short" ]; then fh_group short "$RUNS" "$WARMUP" "$short" "$OUT/raw-short.csv" "$cmodels" "$CURL" || ok=0; fi
  if [ "$ok" = 1 ] && [ -n "$long" ]; then fh_group long "$LONG_RUNS" 0 "$long" "$OUT/raw-long.csv" "$cmodels" "$CURL" || ok=0; fi
  fh_fetchd_stop
  # meta.txt gets every host; a host lost: its one line, last, and status 1
  hosts_finish "$OUT" || exit 1
  [ "$ok" = 1 ] || die "fetchd on the server host $SERVER_HOST stopped answering"
  summarize
}

# summarize — summary.csv from the raw files, meta.txt finished, the charts
summarize() {
  {
    echo "$SUMMARY_HEADER"
    [ ! -f "$OUT/raw-long.csv" ] || aggregate "$OUT/raw-long.csv" 0
    [ ! -f "$OUT/raw-short.csv" ] || aggregate "$OUT/raw-short.csv" "$WARMUP"
  } >"$OUT/summary.csv.tmp"
  # rows by model in registry order (curl last), then by concurrency
  local order; order=$(csv_models "$OUT/summary.csv.tmp")
  awk -F, -v order="$order" 'BEGIN { n = split(order, o, " "); for (i = 1; i <= n; i++) rank[o[i]] = i }
    NR == 1 { print; next } { printf "%04d,%s\n", rank[$1], $0 }' "$OUT/summary.csv.tmp" |
    { read -r h; echo "$h"; sort -t, -k1,1n -k3,3n | cut -d, -f2-; } >"$OUT/summary.csv"
  rm -f "$OUT/summary.csv.tmp"
  scripts/meta.sh --finish "$OUT/meta.txt"
  rm -f "$OUT"/curl-*.cfg # regenerated each run; the commands are in the JSON files
  echo
  column -s, -t <"$OUT/summary.csv"
  charts
}

# foot_pinning META — the pinning of a run, short, for the chart's footnote
foot_pinning() {
  local p; p=$(meta_get "$1" pinning)
  case $p in
    halves*) echo "$p" | sed 's/^halves (fetchd on CPUs \([^;]*\); .* on CPUs \([^:]*\):.*/fetchd on CPUs \1, the fetchers on CPUs \2/' ;;
    hosts*) echo "fetchd on the server host, the fetchers on $(meta_get "$1" load_hosts | wc -w) load hosts" ;;
    *) echo "nothing pinned" ;;
  esac
}

charts() {
  [ -f "$OUT/summary.csv" ] || die "$OUT/summary.csv is missing: run the sweep first"
  command -v gnuplot >/dev/null || die "gnuplot is missing (apt-get install gnuplot-nox): no charts drawn"
  local foot m="$OUT/meta.txt" models
  foot="$(meta_machine "$m") | $(meta_get "$m" date | cut -c1-10) | commit $(meta_get "$m" commit)"
  foot="$foot | $(meta_get "$m" workload | cut -d';' -f1) | medians; $(foot_pinning "$m"); curl: at most 300 in flight; ideal: ceil(count/C) waves x the delay"
  models=$(csv_models "$OUT/summary.csv")
  local t
  for t in png svg; do
    # shellcheck disable=SC2086
    gnuplot -e "$(gp_term "$t" $models)" -e "$(gp_palette $models)" -e "$(gp_panels $models)" \
      -e "summary=$(gp_str "$OUT/summary.csv"); outdir=$(gp_str "$OUT"); ext=\"$t\"; foot=$(gp_str "$foot"); models=$(gp_str "$models")" \
      scripts/fetch.gp 2> >(grep -v "no valid points" >&2) || die "gnuplot failed on scripts/fetch.gp"
  done
  echo "charts: $OUT/fetch-wall.png $OUT/fetch-memory.png $OUT/fetch-cpu.png (and .svg)"
}

# check_ci BASE MODEL CONC COLUMN — MODEL / BASE in COLUMN from check-pairs.csv
# with its interval: "0.61x [0.55, 0.66] (93.8%)", "within noise" when it holds 1
check_ci() {
  "$BIN/bench" --compare "$OUT/check-pairs.csv" --base "$1" --metrics "$4" 2>/dev/null | awk -F, -v m="$2" -v n="$3" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["model"] == m && $c["conns"] + 0 == n + 0 { f = 1
      printf "%.2fx [%.2f, %.2f]%s%s", $c["ratio"], $c["lo"], $c["hi"],
             ($c["confidence_pct"] < 95 ? sprintf(" (%.1f%%)", $c["confidence_pct"]) : ""), ($c["verdict"] == "within noise" ? " within noise" : "") }
    END { if (!f) printf "(no interval)" }'
}

# check: the judged comparisons, as medians and ratios.
check() {
  local runs=${FETCH_CHECK_RUNS:-5} raw="$OUT/check-raw.csv" url
  rm -f "$raw"
  local cm=$CHECK_MODEL
  [ -x "$BIN/fetch-$cm" ] || die "$BIN/fetch-$cm is missing (FETCH_CHECK_MODEL=$cm): run make first"
  write_meta "$OUT/check-meta.txt" --set check_model="$cm" \
    --command "hyperfine --warmup 1 --runs $runs: $BIN/fetch-$cm -q -c 1000 -n 1000 URL?delay_ms=100 vs $BIN/fetch-epoll -c 1000 -n 1000 URL?delay_ms=100 (each under $BIN/measure)" \
    --command "hyperfine --warmup 1 --runs $runs: $BIN/fetch-$cm -q -c 300 -n 1000 URL?delay_ms=50 vs curl -sS --fail --parallel --parallel-max 300 -K CONFIG (each under $BIN/measure)"
  start_fetchd
  echo "== 1. fetch-$cm, 1000 x /bytes/1024?delay_ms=100 at c=1000, vs the ideal 1 x 100 ms ($runs runs)"
  echo "   beside it fetch-epoll, the floor: one thread, no coroutines, no parser"
  url="http://127.0.0.1:$PORT/bytes/1024?delay_ms=100"
  "${LOAD_PIN[@]}" hyperfine --style basic -i --warmup 1 --runs "$runs" --export-json "$OUT/check-1.json" \
    "$BIN/measure --out $raw --label $cm@1000 -- $BIN/fetch-$cm -q -c 1000 -n 1000 '$url'" \
    "$BIN/measure --out $raw --label epoll@1000 -- $BIN/fetch-epoll -c 1000 -n 1000 '$url'"
  echo "== 2. fetch-$cm vs curl --parallel, 1000 x /bytes/1024?delay_ms=50 at c=300 ($runs runs each)"
  url="http://127.0.0.1:$PORT/bytes/1024?delay_ms=50"
  COUNT=1000 curl_config "$OUT/check-curl.cfg" "$url"
  "${LOAD_PIN[@]}" hyperfine --style basic -i --warmup 1 --runs "$runs" --export-json "$OUT/check-2.json" \
    "$BIN/measure --out $raw --label $cm@300 -- $BIN/fetch-$cm -q -c 300 -n 1000 '$url'" \
    "$BIN/measure --out $raw --label curl@300 -- curl -sS --fail --parallel --parallel-max 300 -K $OUT/check-curl.cfg"
  stop_fetchd
  # skip the warm-up row of each label; the ideal column differs per check
  { echo "$SUMMARY_HEADER"; COUNT=1000 DELAY=100 aggregate "$raw" 1 | grep -E "^($cm|epoll),1000,"
    COUNT=1000 DELAY=50 aggregate "$raw" 1 | grep ',300,'; } >"$OUT/check-summary.csv"
  awk -F, -v model="$cm" '
    NR == 1 { next }
    $1 == model && $2 == 1000 { w1 = $5; i1 = $9; f1 = $4 }
    $1 == "epoll" && $2 == 1000 { we = $5; fe = $4 }
    $1 == model && $2 == 300 { lw = $5; lm = $7; lc = $6; f2 = $4 }
    $1 == "curl" && $2 == 300 { cw = $5; cm = $7; cc = $6; f3 = $4 }
    END {
      print ""
      printf "1. fetch-%s c=1000, 100 ms: median wall %.3f s, ideal %.3f s, ratio %.2fx (goal <= 1.5x): %s\n",
        model, w1, i1, w1 / i1, (w1 / i1 <= 1.5 && !f1) ? "OK" : "NOT MET"
      if (we) printf "   floor: fetch-epoll (one thread, no coroutines, no parser) median wall %.3f s, ratio %.2fx%s\n",
        we, we / i1, fe ? " (failed runs!)" : ""
      printf "2. c=300, 50 ms (ideal %.3f s):\n", 0.2
      printf "   %-16s median wall %.3f s, cpu %.3f s, peak PSS %d KiB\n", "fetch-" model, lw, lc, lm
      printf "   curl --parallel  median wall %.3f s, cpu %.3f s, peak PSS %d KiB\n", cw, cc, cm
      printf "   %s / curl: wall %.2fx, cpu %.2fx, memory %.2fx\n", model, lw / cw, (cc ? lc / cc : 0), (cm ? lm / cm : 0)
      if (f1 + f2 + f3 + fe) printf "   (%d runs had failed fetches: see %s)\n", f1 + f2 + f3 + fe, FILENAME
    }' "$OUT/check-summary.csv" | tee "$OUT/check.txt"
  # the ratios with their intervals (bin/bench --compare): runs paired by their
  # number after the warm-up — hyperfine runs one command's runs, then the
  # other's, so the pairs are not interleaved rounds (docs/methodology.md)
  awk -F, 'NR == 1 { print "model,conns,rep,wall_s,cpu_s,peak_pss_kib"; next }
    { split($1, mc, "@"); if (++n[$1] > 1) print mc[1] "," mc[2] "," n[$1] - 1 "," $3 "," $4 + $5 "," $7 }' "$raw" >"$OUT/check-pairs.csv"
  {
    echo "   with intervals, runs paired by number (not interleaved):"
    echo "   fetch-$cm / fetch-epoll at c=1000, wall: $(check_ci epoll "$cm" 1000 wall_s)"
    echo "   $cm / curl at c=300: wall $(check_ci curl "$cm" 300 wall_s), cpu $(check_ci curl "$cm" 300 cpu_s), memory $(check_ci curl "$cm" 300 peak_pss_kib)"
  } | tee -a "$OUT/check.txt"
  rm -f "$OUT/check-curl.cfg"
  scripts/meta.sh --finish "$OUT/check-meta.txt"
}

case "$MODE" in
  sweep) sweep ;;
  check) check ;;
  charts) charts ;;
  *) die "usage: $0 sweep|check|charts" ;;
esac
