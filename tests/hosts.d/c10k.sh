# shellcheck shell=bash
# tests/hosts.d/c10k.sh — make bench-c10k across the namespace hosts of
# tests/t_hosts.sh (sourced there): 200 idle connections shared out over two
# load hosts for two models, the server measured on the server host; then
# a load host whose link goes down mid-sweep. About a minute.
plan 8
c10k_models="threads loop"   # registry order, as csv_models gives them
# c10k_hosts OUT REPS — the real make bench-c10k from the runner's namespace
c10k_hosts() {
  nsh_exec run env SSH_CONFIG="$NSH_SSH_CONFIG" HOSTS_DIR="$HOSTS_DIR" OUT="$1" CONNS=200 REPS="$2" \
    timeout 600 make -s bench-c10k MODELS="$c10k_models" SERVER_HOST="$SRV" LOAD_HOSTS="$L1 $L2"
}
# c10k_bad CSV AWK-CONDITION — the models of the rows where the condition holds
c10k_bad() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } '"$2"' { print $c["model"] }' "$1" 2>/dev/null |
    paste -sd ' ' -
}

out=$TMP/c10k
c10k_hosts "$out" 1 >"$TMP/c10k.out" 2>"$TMP/c10k.err"
rc=$?
exit_ok "make bench-c10k across three namespace hosts: exit 0" "$rc" "$TMP/c10k.err"
got=$(csv_models "$out/c10k.csv" 2>/dev/null | paste -sd ' ' -)
bad=$(c10k_bad "$out/c10k.csv" '$c["load_hosts"] != 2 || $c["conns"] != 200 || $c["reached"] != 200 || $c["errors"] != 0 || $c["server_exit"] != 0')
if [ "$got" = "$c10k_models" ] && [ -z "$bad" ]; then pass "a row per model: load_hosts 2, 200 of 200 reached, no errors, the server exits 0"
else fail "a row per model: load_hosts 2, 200 of 200 reached, no errors, the server exits 0" "models '$got', bad rows: $bad"; fi
# each host's share ("HOST CONNS KIB;HOST CONNS KIB"): two hosts, their counts summing to conns
bad=$(c10k_bad "$out/c10k.csv" '{ n = split($c["client_kib_per_conn_by_host"], h, ";"); s = 0
        for (i = 1; i <= n; i++) { split(h[i], f, " "); s += f[2]; if (f[3] + 0 <= 0) s = -1e9 } }
      n != 2 || s != $c["conns"]')
if [ -z "$bad" ] && [ -s "$out/c10k.csv" ]; then pass "two load hosts' shares sum to conns, each with its client side"
else fail "two load hosts' shares sum to conns, each with its client side" "rows: $bad; $(cut -d, -f26 "$out/c10k.csv" | tr '\n' ' ')"; fi
# the server side, measured on the server host: its cgroup, PSS and meminfo's kernel figures
bad=$(c10k_bad "$out/c10k.csv" '!($c["cg_server_kib_per_conn"] + 0 > 0) || $c["pss_kib_per_conn"] == "NaN" ||
        $c["kernel_kib_per_conn"] == "NaN" || !($c["client_kernel_kib_per_conn"] + 0 > 0) || $c["meminfo_both_ends"] != 1')
if [ -z "$bad" ] && [ -s "$out/c10k.csv" ]; then pass "server-side memory from the server host's cgroup and meminfo (one kernel: both ends)"
else fail "server-side memory from the server host's cgroup and meminfo (one kernel: both ends)" "rows: $bad"; fi
if [ "$(meta_hosts "$out/meta.txt")" -eq 3 ] &&
   grep -q '^pinning: hosts' "$out/meta.txt"; then pass "c10k meta.txt: every host, pinning: hosts"
else fail "c10k meta.txt: every host, pinning: hosts" "$(grep -E '^(host_|pinning)' "$out/meta.txt" 2>/dev/null | tr '\n' ';')"; fi
no_leftovers "nothing left running on any host after bench-c10k"

# --- a load host lost mid-sweep: its link set down (then up again: the checks
# after this part use the same host) ---------------------------------------------
c10k_hosts "$TMP/c10k-lost" 20 >/dev/null 2>"$TMP/c10k-lost.err" &
pid=$!
for ((i = 0; i < 600; i++)); do
  [ "$(wc -l <"$TMP/c10k-lost/c10k.csv.tmp" 2>/dev/null || echo 0)" -ge 2 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
ip -n "$(nsh_ns sw)" link set "h${NSH_TAG}4b" down   # l2 (the 4th host)
t0=$SECONDS
for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"; fail "bench-c10k: a load host lost mid-sweep ends it, one line naming it" "still running 60 s after"
else
  wait "$pid"; rc=$?
  one_line "bench-c10k: a load host lost mid-sweep ends it, one line naming it" "(load host|host) $L2.*(lost|ended)" \
    30 $((SECONDS - t0)) "$rc" "$TMP/c10k-lost.err"
fi
ip -n "$(nsh_ns sw)" link set "h${NSH_TAG}4b" up
no_leftovers "... and nothing is left running on any host"
