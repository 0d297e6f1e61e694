# shellcheck shell=bash
# tests/hosts.d/fetch.sh — make bench-fetch across the namespace hosts of
# tests/t_hosts.sh (sourced there: SRV, L1, L2, HOSTS_DIR, NSH_SSH_CONFIG,
# no_leftovers, one_line and nsh_* are its): fetchd on the server host, the
# fetchers on two load hosts (scripts/fetch-hosts.sh, docs/hosts.md). Small:
# 100 URLs at C 10, two models and curl, one run, no warm-up (about 30 s,
# the hosts' builds of the fetchers included); then a port the server host
# cannot bind and a load host whose link goes down mid-run.
plan 9

# fetch_hosts OUT "LOADS" [VAR=VALUE...] — the real make bench-fetch, from the runner's namespace
fetch_hosts() {
  local out=$1 loads=$2; shift 2
  nsh_exec run env SSH_CONFIG="$NSH_SSH_CONFIG" HOSTS_DIR="$HOSTS_DIR" FETCH_OUT="$out" \
    FETCH_COUNT=100 FETCH_CONC=10 FETCH_MODELS=loop,threads FETCH_RUNS=1 FETCH_WARMUP=0 "$@" \
    timeout 300 make -s bench-fetch SERVER_HOST="$SRV" LOAD_HOSTS="$loads"
}

fout=$TMP/fetch
fetch_hosts "$fout" "$L1 $L2" >"$TMP/fetch.out" 2>"$TMP/fetch.err"
rc=$?
exit_ok "fetch: make bench-fetch across three namespace hosts: exit 0" "$rc" "$TMP/fetch.err"

# the rows: loop, threads and curl, each on 2 load hosts, no failed run, a
# fetchd CPU figure, and no faster than the delays allow (the ideal)
rows=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  $c["load_hosts"] == 2 && $c["failed_runs"] == 0 && $c["runs"] == 1 && $c["fetchd_cpu_s"] > 0 &&
  $c["wall_s"] >= $c["ideal_s"] && $c["wall_s"] < 30 { print $c["model"] }' "$fout/summary.csv" 2>/dev/null | paste -sd ' ' -)
if [ "$rows" = "threads loop curl" ]; then pass "fetch: rows of loop, threads and curl: load_hosts 2, no failed run, fetchd's CPU, wall >= the ideal"
else fail "fetch: rows of loop, threads and curl: load_hosts 2, no failed run, fetchd's CPU, wall >= the ideal" "good rows: '$rows'; $(tr '\n' ' ' <"$fout/summary.csv" 2>/dev/null)"; fi

# every URL fetched: in every run the two hosts' counts add up to COUNT, none failed
sums=$(awk -F, 'NR > 1 { n[$1]++; got[$1] += $14; bad[$1] += $15; label[$1] = $2 }
  END { for (r in n) if (n[r] != 2 || got[r] != 100 || bad[r]) print label[r] ": " n[r] " hosts, " got[r] " fetched, " bad[r] " failed"; print "runs " length(n) }' \
  "$fout/load-hosts.csv" 2>/dev/null)
if [ "$sums" = "runs 3" ]; then pass "fetch: every run, the two load hosts' fetched counts add up to COUNT (100), none failed"
else fail "fetch: every run, the two load hosts' fetched counts add up to COUNT (100), none failed" "$(tr '\n' ';' <<<"$sums")"; fi

if [ "$(meta_hosts "$fout/meta.txt")" -eq 3 ] &&
   grep -q '^pinning: hosts' "$fout/meta.txt" && grep -q 'fetchers on 2 load hosts' "$fout/fetch-wall.svg" 2>/dev/null; then
  pass "fetch: meta.txt has every host; pinning hosts, and the footnote says it"
else fail "fetch: meta.txt has every host; pinning hosts, and the footnote says it" "$(grep -E '^(host_|pinning)' "$fout/meta.txt" 2>/dev/null | tr '\n' ';')"; fi
no_leftovers "fetch: nothing left running on any host after the run"

# a port the server host cannot bind (its sshd's): fetchd's own reason, one line naming the host
t0=$SECONDS
fetch_hosts "$TMP/fetch-port" "$L1" SERVER_PORT=22 >/dev/null 2>"$TMP/fetch-port.err"
rc=$?
one_line "fetch: a port the server host cannot bind: one line naming the host, with fetchd's reason" \
  "fetchd did not start on the server host $SRV .*(in use|bind)" 60 $((SECONDS - t0)) $rc "$TMP/fetch-port.err"

# a load host whose link goes down in the second of three runs (2 s each)
fetch_lost() {
  local out=$TMP/fetch-lost pid i rc
  fetch_hosts "$out" "$L1 $L2" FETCH_RUNS=3 FETCH_DELAY_MS=200 FETCH_CURL=0 FETCH_MODELS=loop \
    >/dev/null 2>"$TMP/fetch-lost.err" &
  pid=$!
  for ((i = 0; i < 900; i++)); do [ -f "$out/load-hosts.csv" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  sleep 1.5   # into the second run: started 1 s after the first ended
  ip -n "$(nsh_ns sw)" link set "h${NSH_TAG}4b" down
  t0=$SECONDS
  for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; ip -n "$(nsh_ns sw)" link set "h${NSH_TAG}4b" up
    fail "$1" "make bench-fetch still running 60 s after the host went"; fail "... and it was lost in the second run, not before"
    fail "fetch: ... and nothing is left running on any host, the lost one's link still down" "not checked"
    return
  fi
  wait "$pid"; rc=$?
  one_line "$1" "host $L2 lost" 30 $((SECONDS - t0)) "$rc" "$TMP/fetch-lost.err"
  if [ "$(grep -c ',loop@10,' "$out/load-hosts.csv" 2>/dev/null)" -eq 2 ]; then pass "... and it was lost in the second run, not before"
  else fail "... and it was lost in the second run, not before" "$(tr '\n' ';' <"$out/load-hosts.csv" 2>/dev/null)"; fi
  # with its link still down: its sshd ends the session (ClientAlive, 3 s),
  # and measure --until-eof the fetcher, which fetchd's end cannot reach
  no_leftovers "fetch: ... and nothing is left running on any host, the lost one's link still down"
  ip -n "$(nsh_ns sw)" link set "h${NSH_TAG}4b" up
}
fetch_lost "fetch: a load host whose link goes down mid-run: the run ends, one line naming it"
