# shellcheck shell=bash
# tests/hosts.d/churn.sh (sourced by tests/t_hosts.sh) — make bench-hosts-churn on
# the namespace hosts, briefly: the load from here, from one load host, from two;
# the side-by-side table has every setting, and its ratios are its own figures'.
plan 3
hc=$TMP/hosts-churn
nsh_exec run env SSH_CONFIG="$NSH_SSH_CONFIG" HOSTS_DIR="$HOSTS_DIR" OUT="$hc" ROUNDS=1 CHURN_REPS=1 CHURN_SECS=0.3 \
  timeout 300 make -s bench-hosts-churn SERVER_HOST="$SRV" LOAD_HOSTS="$L1 $L2" >"$TMP/hc.out" 2>"$TMP/hc.err"
rc=$?
rows=$(grep -c '^| 1 | \(this machine\|one load host\|two load hosts\)' "$hc/summary.md" 2>/dev/null)
if [ "$rc" -eq 0 ] && [ "$rows" = 3 ]; then pass "bench-hosts-churn: here, one load host, two: a row each"
else fail "bench-hosts-churn: here, one load host, two: a row each" "exit $rc, $rows rows: $(tail -n 2 "$TMP/hc.err" | tr '\n' ' ')"; fi
# every row's prefork/fork is its own prefork / fork (the table's columns: fork, prefork, pool, prefork/fork)
bad=$(awk -F'|' '/^\| 1 \|/ { r = $5 / $4; x = $7; sub(/×.*/, "", x); if ((r - x) ^ 2 > 0.0001 || $4 + 0 <= 0) print $4 }' "$hc/summary.md" 2>/dev/null)
if [ -z "$bad" ] && [ "$rows" = 3 ]; then pass "... each row's prefork/fork is its own figures' ratio"
else fail "... each row's prefork/fork is its own figures' ratio" "rows with fork $bad"; fi
if [ "$(grep -c '^load_hosts: ' "$hc/round1-two/meta.txt" "$hc/round1-one/meta.txt" 2>/dev/null | awk -F: '{ s += $2 } END { print s }')" = 2 ] &&
   grep -q "^load_hosts: $L1 $L2\$" "$hc/round1-two/meta.txt" && ! grep -q '^load_hosts' "$hc/round1-here/meta.txt"; then
  pass "... each setting's meta.txt names its load hosts (none for here)"
else fail "... each setting's meta.txt names its load hosts (none for here)" "$(grep -h '^load_hosts' "$hc"/round1-*/meta.txt | tr '\n' ';')"; fi
