# shellcheck shell=bash
# scripts/fetch-hosts.sh — the fetch sweep across hosts, sourced by
# scripts/bench-fetch.sh when SERVER_HOST and LOAD_HOSTS are set
# (docs/hosts.md, "The fetch benchmark across hosts"):
#
#   fh_up                 every host reached, shipped and built (scripts/hosts-lib.sh)
#   fh_fetchd_start       bin/fetchd --control on the server host, bound to SERVER_ADDR;
#                         sets PORT. It stops when its stdin (our ssh) ends.
#   fh_fetchd_stop        close its stdin and wait for it
#   fh_curl_check         curl on every load host, or one line and FH_CURL=0
#   fh_group NAME RUNS WARMUP CONCLIST RAW MODELS CURL
#                         the runs, model by model, like run_group's hyperfine
#
# One run: each load host gets its share of COUNT and of C (as even as can
# be; a C below the number of hosts uses C hosts) and one start time,
# FETCH_LEAD_MS ahead. On each host bin/measure --start-at waits for it,
# starts the fetcher and times it from that instant, by the host's own clock
# (a late start is counted, and said in late_ms); --until-eof ends the
# fetcher if the ssh session goes. The run's wall time is the longest of the
# hosts' (the common start to the last finish); CPU, maxrss and peak PSS are
# the hosts' sums; fetchd's CPU is what it used between the run's start and
# end, asked of fetchd itself on the server host (--control). Every host's
# line goes to OUT/load-hosts.csv, the merged one to RAW (measure's columns,
# then load_hosts, fetchd_cpu_s, fetched, late_ms). A run whose fetched
# count is not COUNT, or with a failure, counts as failed.
# A host lost (ssh status 255) ends the sweep: FH_LOST=1, and hosts.sh has
# written its one line (hosts_finish prints it).

FH_LEAD_MS=${FETCH_LEAD_MS:-1000}
FH_LOST=0
FH_SEQ=0
FH_CURL=1
FH_RAW_HEADER="label,exit,wall_s,user_s,sys_s,maxrss_kib,peak_pss_kib,pss_samples,load_hosts,fetchd_cpu_s,fetched,late_ms"
FH_HOST_HEADER="run,label,host,c,count,exit,wall_s,user_s,sys_s,maxrss_kib,peak_pss_kib,pss_samples,late_ms,fetched,failed"

# fh_up CMODELS — hosts_up with fetchd, measure, the fetchers, and what
# hosts.sh measures the path with (bench, loadgen, echo-loop)
fh_up() {
  local progs=(bin/fetchd bin/measure bin/bench bin/loadgen bin/echo-loop) m
  for m in ${1//,/ }; do progs+=("bin/fetch-$m"); done
  [[ ${FH_LEAD_MS} =~ ^[0-9]+$ ]] || die "FETCH_LEAD_MS must be a whole number of ms, not '$FH_LEAD_MS'"
  hosts_up "$OUT" "${progs[@]}" || exit 1
  mkfifo "$TMP/hold"
  # the load hosts' ssh sessions read this, and it never ends while we run:
  # their stdin ends (and measure --until-eof stops the fetcher) only when
  # the session does
  exec {FH_HOLD}<>"$TMP/hold"
}

fh_fetchd_start() {
  local line=""
  coproc FH_FETCHD { exec scripts/hosts.sh run "$SERVER_HOST" bin/fetchd --bind "$SERVER_ADDR" \
                       --port "${SERVER_PORT:-0}" --control 2>"$TMP/fetchd.err"; }
  FH_FETCHD_IN=${FH_FETCHD[1]} FH_FETCHD_OUT=${FH_FETCHD[0]}
  read -r -t 30 line <&"$FH_FETCHD_OUT" || true
  if [[ $line != "listening on "* ]]; then
    fh_fetchd_stop
    [ -s "$HOSTS_CTL/error" ] && return 1   # the host was lost: hosts_finish says so
    echo "bench-fetch: fetchd did not start on the server host $SERVER_HOST ($SERVER_ADDR:${SERVER_PORT:-0}): $(grep -v '^hosts:' "$TMP/fetchd.err" | tail -n 1)" >&2
    return 1
  fi
  PORT=${line##*:}
}

fh_fetchd_stop() {
  [ -n "${FH_FETCHD_PID:-}" ] || return 0
  { exec {FH_FETCHD_IN}>&-; } 2>/dev/null
  wait "$FH_FETCHD_PID" 2>/dev/null || true
  FH_FETCHD_PID=
}

# fh_fetchd_cpu — fetchd's CPU seconds so far (user + system), from the server host
fh_fetchd_cpu() {
  local w u s
  echo 1>&"$FH_FETCHD_IN" 2>/dev/null || return 1
  read -r -t 10 w u s <&"$FH_FETCHD_OUT" && [ "$w" = cpu ] || return 1
  awk -v u="$u" -v s="$s" 'BEGIN { printf "%.4f", u + s }'
}

# fh_curl_check — is curl on every load host? If not: one line, and no curl
fh_curl_check() {
  local h v
  for h in $LOAD_HOSTS; do
    v=$(scripts/hosts.sh run "$h" curl --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2)
    if [ -z "$v" ]; then
      echo "bench-fetch: curl is not installed on load host $h: curl --parallel skipped across hosts"
      FH_CURL=0 FH_CURL_VERSION="not installed on load host $h: skipped"
      return 0
    fi
    FH_CURL_VERSION=$v
  done
}

# fh_curl_config N — tmp/curl-N.cfg on every load host: the URL N times
fh_curl_config() {
  local h
  curl_config "$TMP/curl-$1.cfg" "$URL" "$1"
  for h in $LOAD_HOSTS; do
    scripts/hosts.sh run "$h" tee "tmp/curl-$1.cfg" <"$TMP/curl-$1.cfg" >/dev/null || return 1
  done
}

# fh_share TOTAL K I — host I's share of TOTAL over K hosts
fh_share() { echo $(( $1 / $2 + ($3 < $1 % $2 ? 1 : 0) )); }

# fh_host_line I LABEL HOST C N — host I's result: its CSV line for
# load-hosts.csv (without the run number), or nothing if measure wrote none
fh_host_line() {
  local out=$TMP/run-$1.out label=$2 m fetched failed
  m=$(grep "^$label," "$out" | tail -n 1)
  [ -n "$m" ] || return 0
  if [[ $label == curl@* ]]; then
    fetched=$(grep -cx 200 "$out" || true)
  else
    fetched=$(sed -n 's/.*: fetched \([0-9]*\), failed .*/\1/p' "$out" | tail -n 1)
  fi
  fetched=${fetched:-0}
  failed=$(( $5 - fetched ))
  # label,exit,wall,user,sys,maxrss,pss,samples,late -> label,host,c,n,exit,...,late,fetched,failed
  echo "$m" | awk -F, -v h="$3" -v c="$4" -v n="$5" -v f="$fetched" -v x="$failed" \
    'BEGIN { OFS = "," } { print $1, h, c, n, $2, $3, $4, $5, $6, $7, $8, $9, f, x }'
}

# fh_run LABEL C RAW — one run across the load hosts (see the top)
fh_run() {
  local label=$1 c=$2 raw=$3 model=${1%@*} hosts=($LOAD_HOSTS) k i h n ci start cpu0 cpu1 rc
  local pids=() lines="" cmd
  k=${#hosts[@]}
  [ "$c" -lt "$k" ] && k=$c
  [ "$COUNT" -lt "$k" ] && k=$COUNT
  cpu0=$(fh_fetchd_cpu) || { FH_LOST=1; return 1; }
  start=$(( $(date +%s%N) + FH_LEAD_MS * 1000000 ))
  for ((i = 0; i < k; i++)); do
    h=${hosts[$i]} n=$(fh_share "$COUNT" "$k" "$i") ci=$(fh_share "$c" "$k" "$i")
    if [ "$model" = curl ]; then
      # -w: the status of each answer, counted as a fetcher's "fetched"
      cmd=(curl -sS --fail --parallel --parallel-max $((ci > 300 ? 300 : ci)) -w '%{http_code}\n' -K "tmp/curl-$n.cfg")
    else
      cmd=("bin/fetch-$model" -c "$ci" -n "$n" --timeout 60000 "$URL")
    fi
    scripts/hosts.sh run "$h" bin/measure --start-at "$start" --until-eof --out - --label "$label" -- "${cmd[@]}" \
      <"$TMP/hold" >"$TMP/run-$i.out" 2>"$TMP/run-$i.err" &
    pids+=($!)
  done
  FH_SEQ=$((FH_SEQ + 1))
  for ((i = 0; i < k; i++)); do
    rc=0; wait "${pids[$i]}" || rc=$?
    h=${hosts[$i]} n=$(fh_share "$COUNT" "$k" "$i") ci=$(fh_share "$c" "$k" "$i")
    # its stderr, but for the lost-host line (hosts_finish says it last) and
    # curl's progress meter (--parallel draws it despite -s)
    tr '\r' '\n' <"$TMP/run-$i.err" | grep -Ev '^hosts: host .* lost|^DL% UL%|^(--|[0-9]+) +--|^ *$' | sed "s|^|$h: |" >&2
    if [ "$rc" -eq 255 ]; then FH_LOST=1; continue; fi
    lines+=$(fh_host_line "$i" "$label" "$h" "$ci" "$n")$'\n'
  done
  [ "$FH_LOST" = 0 ] || return 1
  cpu1=$(fh_fetchd_cpu) || { FH_LOST=1; return 1; }
  [ -s "$OUT/load-hosts.csv" ] || echo "$FH_HOST_HEADER" >"$OUT/load-hosts.csv"
  grep . <<<"$lines" | sed "s|^|$FH_SEQ,|" >>"$OUT/load-hosts.csv"
  [ -s "$raw" ] || echo "$FH_RAW_HEADER" >"$raw"
  # the merge: wall from the common start to the last finish, costs summed;
  # a host without a line, a short count or any failure fails the run
  grep . <<<"$lines" | awk -F, -v label="$label" -v k="$k" -v count="$COUNT" -v cpu="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.4f", b - a }')" '
    { n++; if ($5 > ex) ex = $5; if ($6 > wall) wall = $6; u += $7; s += $8; rss += $9; pss += $10
      smp += $11; if ($12 > late) late = $12; got += $13; bad += $14 }
    END { if (n < k || got != count || bad) ex = ex ? ex : 1
          printf "%s,%d,%.4f,%.4f,%.4f,%d,%d,%d,%d,%s,%d,%.1f\n", label, ex, wall, u, s, rss, pss, smp, k, cpu, got, late }' |
    tee -a "$raw" | awk -F, '{ printf "  %-14s wall %.3f s, cpu %.3f s, fetched %d on %d load hosts (latest start %.1f ms late), fetchd cpu %.3f s%s\n",
                              $1, $3, $4 + $5, $11, $9, $12, $10, ($2 != 0 ? ", FAILED (exit " $2 ")" : "") }'
}

# fh_group NAME RUNS WARMUP CONCLIST RAW MODELS CURL — every model (curl
# last) x concurrency, its warm-up runs then its runs, like hyperfine
fh_group() {
  local name=$1 runs=$2 warm=$3 cl=$4 raw=$5 models=$6 curl=$7 m c r labels=()
  for m in ${models//,/ }; do for c in ${cl//,/ }; do labels+=("$m@$c"); done; done
  if [ "$curl" = 1 ] && [ "$FH_CURL" = 1 ]; then
    for c in ${cl//,/ }; do labels+=("curl@$c"); done
  fi
  echo "== $name across hosts: ${labels[*]}; $runs runs after $warm warm-up each"
  for m in "${labels[@]}"; do
    if [[ $m == curl@* ]]; then
      fh_curl_configs "${m#curl@}" || { FH_LOST=1; return 1; }
    fi
    for ((r = 0; r < warm + runs; r++)); do
      fh_run "$m" "${m#*@}" "$raw" || return 1
    done
  done
}

# fh_curl_configs C — the config files the hosts' curl needs at concurrency C
fh_curl_configs() {
  local hosts=($LOAD_HOSTS) k i n
  k=${#hosts[@]}
  [ "$1" -lt "$k" ] && k=$1
  [ "$COUNT" -lt "$k" ] && k=$COUNT
  for ((i = 0; i < k; i++)); do
    n=$(fh_share "$COUNT" "$k" "$i")
    [ -f "$TMP/curl-$n.cfg" ] || fh_curl_config "$n" || return 1
  done
}
