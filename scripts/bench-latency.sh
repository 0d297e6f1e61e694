#!/usr/bin/env bash
# bench-latency.sh — `make bench-latency`: the open-loop latency spectrum of
# every echo server, the classic HdrHistogram chart (docs/latency.md).
#
# For each model of the registry and the epoll baseline, interleaved
# (the order rotates every repetition) and repeated, start the echo server,
# drive it with loadgen in OPEN loop at a fixed rate well under capacity,
# keep its percentile file (.hgrm), stop the server. Before that, a short
# closed-loop run per model measures its capacity, so the chosen rate can be
# judged (a warning if it is above half of any model's capacity).
#
# Across hosts (SERVER_HOST=user@host LOAD_HOSTS="user@a user@b", docs/hosts.md):
# the server on the server host (bin/bench --serve through scripts/hosts.sh
# run), loadgen on the load hosts with the connections and the rate shared
# out and one start time (scripts/hosts.sh load); the percentiles and the
# .hgrm come from the SUM of the hosts' histogram counters (bin/loadmerge).
#
# Writes OUT (default results/latency/):
#   latency.csv   one row per run: corrected (from the due time) and
#                 uncorrected (from the actual send) percentiles, in µs, then
#                 load_hosts and start_spread_ms (1 and 0 on one machine)
#   capacity.csv  the closed-loop capacity of each model
#   MODEL-repN.hgrm  loadgen's --percentiles file (from the due time); across
#                 hosts drawn from the merged counters
#   meta.txt      the run's metadata (scripts/meta.sh): machine, commit, settings,
#                 commands, pinning; across hosts every host (host_N, path_rtt_us)
#   loads/        across hosts: every load host's dump of every run, the merge
#                 (NNN-loadK.dump, NNN-merged.dump) and runs.txt (NNN: which run)
#   latency.png/.svg  the percentile spectrum, one line per model
#
#   scripts/bench-latency.sh            measure, summarise, draw
#   scripts/bench-latency.sh --chart    only summarise and redraw OUT's results
#   scripts/bench-latency.sh --pinning  only say how a run would pin, and exit
#
# Environment (defaults): RATE (20000 msgs/s in total), CONNS (100),
# SECS (10, measured), WARMUP (1), REPS (3), MSG_BYTES (64), CAP_SECS (2;
# 0 skips the capacity runs), LAT_MODELS (every model of the registry, with
# PEERS=1 the peers (peers/list.sh --bench echo), then epoll),
# PIN (auto: on 4 or more CPUs the server on the first half, loadgen on the
# other (taskset), on fewer none; 0 none; 1 the server on CPU 1 and loadgen
# on CPU 0), LAT_CPUS (the CPU list PIN=auto halves, e.g. 0-7; default the
# CPUs this process may use), OUT (results/latency), BIN (bin),
# SERVER_HOST, LOAD_HOSTS, SERVER_ADDR, SERVER_PORT, SSH_CONFIG, HOSTS_DIR
# (scripts/hosts.sh; neither host set: everything here, as always).
set -u
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
source scripts/hosts-lib.sh
chart_only=0 pin_only=0
case ${1:-} in -h|--help) sed -n '2,47s/^# \{0,1\}//p' "$0"; exit 0 ;; "") ;; --chart) chart_only=1 ;;
  --pinning) pin_only=1 ;;
  *) echo "bench-latency.sh: unknown argument '$1' (settings come from the environment; see --help)" >&2; exit 2 ;; esac

OUT=${OUT:-results/latency}
RATE=${RATE:-20000} CONNS=${CONNS:-100} SECS=${SECS:-10} WARMUP=${WARMUP:-1} REPS=${REPS:-3}
MSG_BYTES=${MSG_BYTES:-64} CAP_SECS=${CAP_SECS:-2} PIN=${PIN:-auto} LAT_CPUS=${LAT_CPUS:-}
LAT_MODELS=${LAT_MODELS:-$(peers/list.sh --bench echo | paste -sd ' ' -) epoll}
hosts=0   # 1: the server on SERVER_HOST, the load on LOAD_HOSTS
[ -n "${SERVER_HOST:-}${LOAD_HOSTS:-}" ] && hosts=1

# --- checks: every setting a number, every program built -----------------------
lat_die() { echo "bench-latency.sh: $*" >&2; exit 2; }
for v in RATE CONNS SECS WARMUP REPS MSG_BYTES CAP_SECS; do
  [[ ${!v} =~ ^[0-9]+(\.[0-9]+)?$ ]] || lat_die "$v='${!v}' is not a number"
done
[[ $REPS =~ ^[1-9][0-9]*$ ]] || lat_die "REPS='$REPS' must be a whole number >= 1"
awk -v r="$RATE" -v s="$SECS" 'BEGIN { exit !(r > 0 && s > 0) }' || lat_die "RATE and SECS must be > 0"
[[ $PIN =~ ^(auto|0|1)$ ]] || lat_die "PIN='$PIN' must be auto, 0 or 1"
[[ -z $LAT_CPUS || $LAT_CPUS =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] || lat_die "LAT_CPUS='$LAT_CPUS' is not a CPU list (like 0-3 or 0,2,4,6)"
[ "$hosts" = 1 ] && [ "$PIN" = 1 ] &&
  lat_die "PIN=1 pins on this machine; with SERVER_HOST/LOAD_HOSTS the server and the load run on their hosts (leave PIN out)"

# --- pinning: srv_pin and lg_pin (taskset prefixes) and what meta.txt says ---------
lat_pinning() {
  srv_pin=() lg_pin=()
  if [ "$hosts" = 1 ]; then
    pinning="hosts (server on ${SERVER_HOST:-?}, loadgen on ${LOAD_HOSTS:-?})"
    return 0
  fi
  if [ "$PIN" = 1 ]; then
    srv_pin=(taskset -c 1) lg_pin=(taskset -c 0) pinning="split (server on CPU 1, loadgen on CPU 0; taskset)"
    return 0
  fi
  local halves="" n
  [ "$PIN" = auto ] && halves=$(pin_halves ${LAT_CPUS:+"$LAT_CPUS"})
  if [ -n "$halves" ]; then
    srv_pin=(taskset -c "${halves% *}") lg_pin=(taskset -c "${halves#* }")
    pinning="halves (server on CPUs ${halves% *}, loadgen on CPUs ${halves#* }; taskset)"
    return 0
  fi
  n=$(if [ -n "$LAT_CPUS" ]; then cpu_expand "$LAT_CPUS"; else cpu_list; fi | wc -l)
  pinning="none (server and loadgen share the $n CPUs as the scheduler decides$([ "$PIN" = auto ] && echo "; PIN=auto splits 4 or more"))"
}
lat_pinning
if [ "$pin_only" = 1 ]; then echo "pinning: $pinning"; exit 0; fi
[ -x "$BIN/loadgen" ] || { echo "bench-latency.sh: $BIN/loadgen is not built: run make" >&2; exit 1; }
models=""
for m in $LAT_MODELS; do
  if [ -x "$BIN/echo-$m" ]; then models="$models $m"
  else echo "bench-latency.sh: $BIN/echo-$m is not built; skipping $m" >&2; fi
done
[ -n "$models" ] || { echo "bench-latency.sh: no echo server to measure" >&2; exit 1; }
[ ${#srv_pin[@]} -eq 0 ] || command -v taskset >/dev/null || lat_die "pinning needs taskset (util-linux); PIN=0 runs without"
[ "$hosts" = 0 ] || [ -x "$BIN/loadmerge" ] || { echo "bench-latency.sh: $BIN/loadmerge is not built: run make" >&2; exit 1; }

mkdir -p "$OUT"
tmp=$TMP
spid=""
trap 'exit 130' INT TERM

# --- the server: here, started on a free port and stopped by the PID we started;
# or on the server host: bin/bench --serve through scripts/hosts.sh run (its
# own code starts, samples and stops the server there), stopped by closing
# its stdin, after which it prints one "served" line -------------------------------
# lat_start MODEL — sets spid and sport; 1 if it did not get ready (scripts/lib.sh says why)
lat_start() {
  [ "$hosts" = 1 ] && { lat_start_remote "$1"; return; }
  start_server "echo-$1" "${srv_pin[@]}" "$BIN/echo-$1" --port 0 || return 1
  spid=$SPID sport=$SPORT
}
lat_stop() {
  [ -n "$spid" ] || return 0
  [ "$hosts" = 1 ] && { lat_stop_remote; return; }
  stop_server "$spid"; spid=""
}
# the server host failing stops the whole run: every later run would fail the same way.
# Its stdin and stdout are two fifos of ours (not a coproc, whose descriptors
# bash closes by itself when it ends), so closing its stdin is always ours to do.
lat_start_remote() {
  local line=""
  rm -f "$tmp/srv.in" "$tmp/srv.out"
  mkfifo "$tmp/srv.in" "$tmp/srv.out" || lat_fatal "cannot make fifos in $tmp"
  scripts/hosts.sh run "$SERVER_HOST" bin/bench --serve "$1" --bind "$SERVER_ADDR" --port "${SERVER_PORT:-0}" \
    <"$tmp/srv.in" >"$tmp/srv.out" &
  spid=$!
  exec {srv_in}>"$tmp/srv.in" {srv_out}<"$tmp/srv.out"
  read -r -t 30 line <&"$srv_out"
  sport=${line##*:}
  [[ $line == "listening on "* && $sport =~ ^[0-9]+$ ]] && return 0
  lat_stop_remote quiet
  lat_fatal "echo-$1 did not start on the server host $SERVER_HOST (bin/bench --serve $1 --bind $SERVER_ADDR --port ${SERVER_PORT:-0}; its reason above)"
}
# lat_stop_remote [quiet] — close its stdin, read its "served" line, reap the ssh
lat_stop_remote() {
  local line served="" i
  exec {srv_in}>&-
  while read -r -t 20 line <&"$srv_out"; do [[ $line == served* ]] && served=$line; done
  exec {srv_out}<&-
  for ((i = 0; i < 100; i++)); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  kill "$spid" 2>/dev/null   # ours: the local ssh, if it hangs on
  wait "$spid" 2>/dev/null
  spid=""
  [ -n "${1:-}" ] && return 0
  [ -n "$served" ] || lat_fatal "server host $SERVER_HOST lost: bin/bench --serve ended without its served line"
  [[ $served == *" exit=0" ]] || echo "bench-latency.sh: the server on $SERVER_HOST did not end cleanly: ${served##* }" >&2
}
# lat_fatal LINE — a host failed: stop, keep what was measured, one line naming the host last
lat_fatal() {
  [ -n "$spid" ] && lat_stop_remote quiet
  scripts/meta.sh --finish "$OUT/meta.txt" 2>/dev/null
  hosts_finish "$OUT" && echo "bench-latency.sh: $*" >&2   # hosts_finish prints a lost host's line itself
  exit 1
}

# lat_load ARGS... — loadgen ARGS against the running server: here (pinned as
# set), or on the load hosts, -c and --rate shared out, one start time, their
# dumps merged into one loadgen CSV row (scripts/hosts.sh load: status 3 when
# a load host failed)
lat_load() {
  if [ "$hosts" = 0 ]; then
    "${lg_pin[@]}" "$BIN/loadgen" --port "$sport" "$@"
    return
  fi
  scripts/hosts.sh load --host "$SERVER_ADDR" --port "$sport" "$@"
}
# lat_load_ok STATUS ERRFILE — across hosts, a load host that failed stops the run
lat_load_ok() {
  [ "$hosts" = 1 ] && [ "$1" -gt 1 ] || return 0
  tail -n 3 "$2" >&2
  lat_fatal "the load hosts failed (scripts/hosts.sh load: exit $1)"
}
# lat_merged WHAT — the merged dump the last lat_load made; runs.txt says whose it is
lat_merged() {
  local all=("$HOSTS_KEEP"/*-merged.dump) m   # NNN-merged.dump: the last in glob order is the newest
  m=${all[-1]}
  [ -f "$m" ] || m=""
  [ -n "$m" ] && echo "$(basename "$m" -merged.dump) $1" >>"$HOSTS_KEEP/runs.txt"
  echo "$m"
}

# lg_field FILE COLUMN — one field of loadgen's --csv output
lg_field() { awk -F, -v k="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } NR == 2 && c { print $c }' "$1"; }
# hgrm_at FILE P — the value (µs) of the first row at or above percentile P (0..1)
hgrm_at() { awk -v p="$2" '$1 ~ /^[0-9.]+$/ && $2 + 0 >= p { printf "%.1f\n", $1; exit }' "$1"; }

# --- 1. capacity: closed loop, a few seconds per model ------------------------
cap_csv=$OUT/capacity.csv
lat_capacity() {
  local m=$1
  lat_start "$m" || return 0
  lat_load -c "$CONNS" --msg-bytes "$MSG_BYTES" --secs "$CAP_SECS" --csv >"$tmp/cap.csv" 2>"$tmp/cap.err"
  local rc=$?
  lat_stop
  lat_load_ok "$rc" "$tmp/cap.err"
  [ "$hosts" = 1 ] && lat_merged "capacity $m" >/dev/null
  local r; r=$(lg_field "$tmp/cap.csv" msgs_per_s)
  [ -n "$r" ] || { echo "bench-latency.sh: capacity run of $m failed: $(head -c 200 "$tmp/cap.err")" >&2; return 0; }
  echo "$m,$CONNS,$CAP_SECS,$r,$(lg_field "$tmp/cap.csv" p99_us)" >>"$cap_csv"
  printf '  capacity %-8s %9.0f msgs/s (closed loop, %s connections)\n' "$m" "$r" "$CONNS"
}

# --- 2. the open-loop runs --------------------------------------------------------
csv=$OUT/latency.csv
cols="p50_us,p90_us,p99_us,p999_us,p9999_us,max_us,p50_unc_us,p99_unc_us,p999_unc_us,max_unc_us,load_hosts,start_spread_ms"
lat_args="-c $CONNS --msg-bytes $MSG_BYTES --rate $RATE --secs $SECS --warmup $WARMUP --csv"
lat_cmd="$BIN/loadgen --port PORT $lat_args --percentiles OUT/MODEL-repN.hgrm"

lat_run() {
  local m=$1 rep=$2 h="$OUT/$1-rep$2.hgrm" pct=()
  [ "$hosts" = 0 ] && pct=(--percentiles "$h")
  lat_start "$m" || return 0
  # shellcheck disable=SC2086  # lat_args is a list of flags
  lat_load $lat_args "${pct[@]}" >"$tmp/run.csv" 2>"$tmp/run.err"
  local rc=$?
  lat_stop
  lat_load_ok "$rc" "$tmp/run.err"
  # across hosts the spectrum is drawn from the merged counters, never from a host's own
  [ "$hosts" = 1 ] && "$BIN/loadmerge" --percentiles "$h" "$(lat_merged "$m rep $rep")" >/dev/null 2>>"$tmp/run.err"
  local msgs; msgs=$(lg_field "$tmp/run.csv" msgs)
  if [ -z "$msgs" ] || [ ! -s "$h" ]; then
    echo "bench-latency.sh: $m rep $rep: loadgen failed (exit $rc): $(head -c 200 "$tmp/run.err")" >&2
    rm -f "$h"
    return 0
  fi
  [ "$rc" -eq 0 ] || echo "bench-latency.sh: $m rep $rep: $(lg_field "$tmp/run.csv" errors) connection errors (kept, see the errors column)" >&2
  local f=() c
  for c in rate conns secs msgs msgs_per_s errors p50_us p90_us p99_us p999_us; do f+=("$(lg_field "$tmp/run.csv" $c)"); done
  f+=("$(hgrm_at "$h" 0.9999)")
  for c in max_us p50_unc_us p99_unc_us p999_unc_us max_unc_us; do f+=("$(lg_field "$tmp/run.csv" $c)"); done
  if [ "$hosts" = 1 ]; then f+=("$(lg_field "$tmp/run.csv" load_hosts)" "$(lg_field "$tmp/run.csv" start_spread_ms)")
  else f+=(1 0); fi
  (IFS=,; echo "$m,$rep,${f[*]}") >>"$csv"
  printf '  rep %d %-8s p50 %8.1f  p99 %9.1f  p99.9 %9.1f  max %9.1f us   (uncorrected p99.9 %9.1f)%s\n' \
    "$rep" "$m" "${f[6]}" "${f[8]}" "${f[9]}" "${f[11]}" "${f[14]}" \
    "$([ "$hosts" = 1 ] && echo "  ${f[16]} load hosts, start spread ${f[17]} ms")"
}

# --- the measuring, start to end ---------------------------------------------------
lat_measure() {
# --- meta.txt ------------------------------------------------------------------------
pv=$(peers/list.sh --versions $models)   # the peers' runtimes, if any
local how=(--set latency="from the due time (corrected for coordinated omission); *_unc_us from the actual send; p9999_us read from the .hgrm file"
           --command "${srv_pin[*]}${srv_pin[*]:+ }$BIN/echo-MODEL --port 0"
           --command "${lg_pin[*]}${lg_pin[*]:+ }$BIN/loadgen --port PORT -c $CONNS --msg-bytes $MSG_BYTES --secs $CAP_SECS --csv   (capacity, closed loop)"
           --command "${lg_pin[*]}${lg_pin[*]:+ }$lat_cmd")
[ "$hosts" = 1 ] && how=(
  --set latency="from the due time (corrected for coordinated omission), from the SUM of the load hosts' histogram counters (bin/loadmerge, never an average of percentiles); *_unc_us from the actual send, summed the same way; p9999_us read from the .hgrm file, drawn from the merged counters"
  --command "SERVER_HOST=$SERVER_HOST LOAD_HOSTS='$LOAD_HOSTS' RATE=$RATE CONNS=$CONNS SECS=$SECS WARMUP=$WARMUP REPS=$REPS CAP_SECS=$CAP_SECS scripts/bench-latency.sh"
  --command "scripts/hosts.sh run $SERVER_HOST bin/bench --serve MODEL --bind $SERVER_ADDR --port ${SERVER_PORT:-0}   (the server on the server host)"
  --command "scripts/hosts.sh load --host $SERVER_ADDR --port PORT -c $CONNS --msg-bytes $MSG_BYTES --secs $CAP_SECS --csv   (capacity, closed loop, on the load hosts)"
  --command "scripts/hosts.sh load --host $SERVER_ADDR --port PORT $lat_args   (each load host: its share of -c and --rate, one --start-at; merged by bin/loadmerge into OUT/loads/NNN-merged.dump)"
  --command "$BIN/loadmerge --percentiles OUT/MODEL-repN.hgrm OUT/loads/NNN-merged.dump   (loads/runs.txt: which NNN)")
scripts/meta.sh "$OUT/meta.txt" --set pinning="$pinning" \
  --set settings="reps=$REPS rate=$RATE conns=$CONNS secs=$SECS warmup=$WARMUP msg_bytes=$MSG_BYTES cap_secs=$CAP_SECS models=$(echo $models)" \
  --set order="interleaved; the model order rotates by one every repetition" \
  ${pv:+--set} ${pv:+"peers=$pv"} "${how[@]}" || exit 1

echo "bench-latency: models$models; $REPS reps; open loop $RATE msgs/s over $CONNS connections, ${SECS} s (+${WARMUP} s warm-up); pinning: $pinning"
rm -f "$OUT"/*.hgrm
echo "model,conns,secs,msgs_per_s,p99_us" >"$cap_csv"
echo "model,rep,rate,conns,secs,msgs,msgs_per_s,errors,$cols" >"$csv"
if [ "$CAP_SECS" != 0 ]; then
  for m in $models; do lat_capacity "$m"; done
  awk -F, -v r="$RATE" 'NR > 1 && $4 > 0 && r > $4 / 2 { printf "bench-latency.sh: warning: RATE %s is above half of %s'"'"'s capacity (%.0f msgs/s): this measures queueing, not the server at ease\n", r, $1, $4 }' "$cap_csv" >&2
fi
set -- $models
n=$#
for rep in $(seq 1 "$REPS"); do
  for i in $(seq 0 $((n - 1))); do
    k=$(( (i + rep - 1) % n + 1 ))
    lat_run "${!k}" "$rep"
  done
done
scripts/meta.sh --finish "$OUT/meta.txt"
[ "$hosts" = 0 ] || hosts_finish "$OUT" || exit 1   # meta.txt: every host and the path
}

# --- 3. medians and the chart ---------------------------------------------------------
# lat_median_rep MODEL — the repetition whose p99.9 is the median of the model's runs
lat_median_rep() {
  awk -F, -v m="$1" 'NR > 1 && $1 == m { print $12, $2 }' "$csv" | sort -g |
    awk '{ r[NR] = $2 } END { if (NR) print r[int((NR + 1) / 2)] }'
}
lat_summary() {
echo
echo "medians over the repetitions (µs; corrected = from the due time, unc = from the send):"
printf '  %-8s %9s %9s %9s %9s %9s %9s %12s\n' model p50 p90 p99 p99.9 p99.99 max "p99.9 unc"
for m in $models; do
  awk -F, -v m="$m" 'NR > 1 && $1 == m { for (c = 9; c <= 18; c++) v[c, ++n[c]] = $c }
    function med(c,   i, j, t, k) { k = n[c]; for (i = 1; i <= k; i++) a[i] = v[c, i] + 0
      for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
    END { if (n[9]) printf "  %-8s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %12.1f\n", m, med(9), med(10), med(11), med(12), med(13), med(14), med(17) }' "$csv"
done
}

# lat_pin_foot — the pinning for the chart's footnote: meta.txt's, shorter
# (older results: up to their colon)
lat_pin_foot() {
  local p=${pinning%%:*}
  p=${p/ as the scheduler decides/}; p=${p/; PIN=auto splits 4 or more/}; p=${p/; taskset/}
  if [[ $p == "hosts (server on "*", loadgen on "*")" ]]; then   # the load hosts counted, named in meta.txt
    local l=${p#*, loadgen on }
    # shellcheck disable=SC2086  # the load hosts, one word each
    set -- ${l%)}
    p="${p%%, loadgen on *}, loadgen on $# load host$([ $# -gt 1 ] && echo s))"
  fi
  echo "$p"
}
lat_chart() {
if ! command -v gnuplot >/dev/null; then
  echo "bench-latency.sh: gnuplot is missing (apt-get install gnuplot-nox): no chart" >&2
  return 0
fi
files="" fmodels="" medfiles="" medmodels=""
for m in $models; do
  for h in "$OUT/$m"-rep*.hgrm; do [ -f "$h" ] && files="$files $h" fmodels="$fmodels $m"; done
  r=$(lat_median_rep "$m")
  [ -n "$r" ] && [ -f "$OUT/$m-rep$r.hgrm" ] && medfiles="$medfiles $OUT/$m-rep$r.hgrm" medmodels="$medmodels $m"
done
m="$OUT/meta.txt"
foot="$(meta_machine "$m") | $(meta_get "$m" date | cut -c1-10) | commit $(meta_get "$m" commit | cut -d' ' -f1) | pinning: $(lat_pin_foot)"
foot2="open loop, $RATE msgs/s over $CONNS connections, $MSG_BYTES-byte messages, $SECS s per run after ${WARMUP} s warm-up"
foot2="$foot2 | bold: the median of $REPS reps (by p99.9), faint: every rep"
for t in png svg; do
  # shellcheck disable=SC2086
  term=$(gp_term "$t" $models)
  # shellcheck disable=SC2086
  gnuplot -e "$term" -e "$(gp_palette $models)" -e "$(gp_panels $medmodels)" -e "set output $(gp_str "$OUT/latency.$t")" \
          -e "files=$(gp_str "${files# }"); fmodels=$(gp_str "${fmodels# }")" \
          -e "medfiles=$(gp_str "${medfiles# }"); medmodels=$(gp_str "${medmodels# }")" \
          -e "foot=$(gp_str "$foot"); foot2=$(gp_str "$foot2"); rate=$(gp_str "$RATE"); conns=$(gp_str "$CONNS")" \
          scripts/latency.gp 2> >(grep -v "no valid points" >&2) || { echo "bench-latency.sh: gnuplot failed" >&2; return 1; }
done
}

# --- main ----------------------------------------------------------------------------
if [ "$chart_only" = 1 ]; then
  # the settings of the run that wrote OUT, from its meta.txt
  settings=$(sed -n 's/^settings: //p' "$OUT/meta.txt" 2>/dev/null)
  [ -n "$settings" ] && [ -f "$csv" ] || { echo "bench-latency.sh: no results in $OUT (run make bench-latency)" >&2; exit 1; }
  setting() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"${settings%% models=*}"; }
  RATE=$(setting rate) CONNS=$(setting conns) SECS=$(setting secs) WARMUP=$(setting warmup)
  REPS=$(setting reps) MSG_BYTES=$(setting msg_bytes)
  models=$(csv_models "$csv")
  pinning=$(sed -n 's/^pinning: //p' "$OUT/meta.txt")
else
  if [ "$hosts" = 1 ]; then   # every host reached, this commit built there, the path measured
    progs="bin/bench bin/loadgen"
    for m in $models; do progs="$progs bin/echo-$m"; done
    # shellcheck disable=SC2086
    hosts_up "$OUT" $progs || exit 1
    lat_pinning   # now with the hosts' names
  fi
  lat_measure
fi
[ "$(wc -l <"$csv")" -ge 2 ] || { echo "bench-latency.sh: no run succeeded" >&2; exit 1; }
lat_summary
lat_chart || exit 1
echo
echo "bench-latency: wrote $csv, $cap_csv, $OUT/*.hgrm, $OUT/meta.txt, $OUT/latency.png, $OUT/latency.svg"
