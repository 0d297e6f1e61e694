#!/usr/bin/env bash
# t_hosts.sh — make bench across hosts (scripts/hosts.sh, docs/hosts.md), for
# real, on hosts made of network namespaces (scripts/netns-hosts.sh): a
# runner, a server host and two load hosts joined by a bridge, an sshd in
# each with throwaway keys, the real `make bench` through SSH_CONFIG. Checks
# the merge (the merged histogram's count is the sum of the parts and the
# row's), every model's row, nothing left running on any host, a host that
# disappears mid-run (link down, sshd killed) and bad input: a host that
# cannot be reached, a key that is refused (BatchMode), a host without a
# compiler, a host whose build fails, a port the server host cannot bind. Skips when not root or
# without `ip netns`/sshd. Everything it made is removed at the end.
# About 5 minutes on 2 shared cores (three builds of the suite, one per host).
# timeout: 2400
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh
source scripts/netns-hosts.sh

plan 1
if ! why=$(nsh_available); then
  skip "hosts across network namespaces" "$why"
  finish
  exit 0
fi
NSH_SSHD_nocc="SetEnv PATH=/nonexistent"   # a host where neither cc nor make is found
NSH_SSHD_badcc="SetEnv CC=/bin/false"      # a host whose compiler fails: the build does
if nsh_up run srv l1 l2 nocc badcc; then pass "six namespace hosts, each with its sshd on its own address"
else fail "six namespace hosts, each with its sshd on its own address" "see above"; finish; exit 1; fi
plan 17
SRV=root@$(nsh_addr srv) L1=root@$(nsh_addr l1) L2=root@$(nsh_addr l2)
HOSTS_DIR=$NSH_DIR/hosts
registered=$(models_list | paste -sd ' ' -)
nmodels=$(wc -w <<<"$registered")

# bench_hosts OUT SERVER "LOADS" BENCH_ARGS [VAR=VALUE...] — the real make bench, from the runner's namespace
bench_hosts() {
  local out=$1 srv=$2 loads=$3 args=$4; shift 4
  nsh_exec run env SSH_CONFIG="$NSH_SSH_CONFIG" HOSTS_DIR="$HOSTS_DIR" "$@" \
    timeout 600 make -s bench SERVER_HOST="$srv" LOAD_HOSTS="$loads" BENCH_OUT="$out" BENCH_ARGS="$args"
}
# leftovers — "NAME: PID COMMAND" for every process on a host but its sshd listener
leftovers() {
  local n p
  for n in srv l1 l2; do
    for p in $(nsh_pids "$n"); do echo "$n: $p $(ps -o args= -p "$p" | cut -c1-60)"; done
  done
}
# no_leftovers NAME — pass if, within 8 s, no host runs anything but its sshd
no_leftovers() {
  local i
  for ((i = 0; i < 40; i++)); do [ -z "$(leftovers)" ] && break; sleep 0.2; done
  if [ -z "$(leftovers)" ]; then pass "$1"; else fail "$1" "$(leftovers | tr '\n' ';')"; fi
}
# exit_ok NAME RC ERR — pass if a run exited 0, else fail with its status and ERR's last lines
exit_ok() { if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1" "exit $2: $(tail -n 3 "$3" | tr '\n' ' ')"; fi; }
# meta_hosts FILE — how many host_N lines of a meta.txt name a host with its
# kernel, cores and this commit (three: the server and two load hosts)
meta_hosts() { grep -c "^host_[123]: root@.*; kernel Linux.*; cores [0-9]*; .*commit $(git rev-parse HEAD | cut -c1-12)" "$1" 2>/dev/null; }
# hist_total FILE — the count of the first histogram of a loadgen dump
hist_total() { awk '$1 == "hist" { print $2; exit }' "$1"; }
# one_line NAME PATTERN MAXS SECS RC ERR — the last line of ERR (make's own
# "make: *** ... Error" line left out) matches PATTERN, exit non-zero, within MAXS
one_line() {
  local name=$1 pat=$2 maxs=$3 secs=$4 rc=$5 err=$6 last
  last=$(grep -v '^make\(\[[0-9]*\]\)\{0,1\}: \*\*\*' "$err" | tail -n 1)
  if [ "$rc" -ne 0 ] && grep -qE "$pat" <<<"$last" && [ "$secs" -le "$maxs" ]; then pass "$name"
  else fail "$name" "exit $rc in $secs s; last line: $last"; fi
}

# --- a whole make bench: server host, two load hosts, every model --------------------
out=$TMP/main
bench_hosts "$out" "$SRV" "$L1 $L2" "--conns 10 --reps 1 --secs 0.5" >"$TMP/main.out" 2>"$TMP/main.err"
rc=$?
exit_ok "make bench across three namespace hosts: exit 0" "$rc" "$TMP/main.err"
got=$(csv_models "$out/echo.csv" 2>/dev/null)
if [ "$got" = "$registered" ]; then pass "every model's row is there ($nmodels)"
else fail "every model's row is there ($nmodels)" "rows for '$got', want '$registered'"; fi
bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
               $c["load_hosts"] != 2 || $c["start_spread_ms"] == "" || $c["errors"] != 0 { print $1 }' "$out/echo.csv" 2>/dev/null)
if [ -z "$bad" ] && [ -s "$out/echo.csv" ]; then pass "every row: load_hosts 2, a start spread, no errors"
else fail "every row: load_hosts 2, a start spread, no errors" "rows: $bad"; fi

# the merge: for every run, merged count = sum of the hosts' counts = the row's msgs
sums=ok n=0
for m in "$out"/loads/*-merged.dump; do
  [ -f "$m" ] || continue
  n=$((n + 1)) seq=$(basename "$m" -merged.dump)
  parts=0
  for p in "$out/loads/$seq"-load*.dump; do parts=$((parts + $(hist_total "$p"))); done
  row=$(awk -F, -v k="$n" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } NR == k + 1 { print $c["msgs"] }' "$out/echo.csv")
  nparts=$(ls "$out/loads/$seq"-load*.dump | wc -l)
  if [ "$(hist_total "$m")" != "$parts" ] || [ "$row" != "$parts" ] || [ "$nparts" -ne 2 ] || [ "$parts" -eq 0 ]; then
    sums="run $seq: merged $(hist_total "$m"), parts $parts ($nparts dumps), row $row"
  fi
done
if [ "$sums" = ok ] && [ "$n" -eq "$nmodels" ]; then pass "merged histogram count = sum of the two hosts' = the row's msgs, every run"
else fail "merged histogram count = sum of the two hosts' = the row's msgs, every run" "$sums ($n runs)"; fi

# meta.txt: every host with its kernel, cores and commit; the path
if [ "$(meta_hosts "$out/meta.txt")" -eq 3 ] &&
   [ "$(grep -c '^path_rtt_us: root@.* [0-9.]* (' "$out/meta.txt")" -eq 2 ] &&
   grep -q '^pinning: hosts' "$out/meta.txt"; then
  pass "meta.txt: every host (kernel, cores, commit), the round trip from each load host"
else
  fail "meta.txt: every host (kernel, cores, commit), the round trip from each load host" "$(grep -E '^(host_|path_|pinning)' "$out/meta.txt" 2>/dev/null | tr '\n' ';')"
fi
no_leftovers "nothing left running on any host after the run"

# --- the other runners across the same hosts: tests/hosts.d/RUNNER.sh, each
# with its own plan, sourced here so that they share the hosts and their builds
for part in tests/hosts.d/*.sh; do
  [ -f "$part" ] || continue
  # shellcheck disable=SC1090
  source "$part"
done

# --- bad input: each one line naming the host, quickly -----------------------------------
t0=$SECONDS
bench_hosts "$TMP/unreach" "root@$NSH_NET.250" "$L1" "--conns 2 --reps 1 --secs 0.3" >/dev/null 2>"$TMP/unreach.err"
rc=$?
one_line "an unreachable host: one line naming it" "cannot reach root@$NSH_NET\.250 by ssh" 30 $((SECONDS - t0)) $rc "$TMP/unreach.err"

sed "s|IdentityFile .*|IdentityFile $NSH_DIR/nokey|" "$NSH_SSH_CONFIG" >"$NSH_DIR/ssh_config.nokey"
t0=$SECONDS
nsh_exec run env SSH_CONFIG="$NSH_DIR/ssh_config.nokey" HOSTS_DIR="$HOSTS_DIR" timeout 120 make -s bench \
  SERVER_HOST="$SRV" LOAD_HOSTS="$L1" BENCH_OUT="$TMP/nokey" BENCH_ARGS="--conns 2 --reps 1 --secs 0.3" >/dev/null 2>"$TMP/nokey.err"
rc=$?
one_line "a refused key fails at once (BatchMode, no password prompt): one line naming the host" \
  "cannot reach $SRV by ssh.*(Permission denied|publickey)" 15 $((SECONDS - t0)) $rc "$TMP/nokey.err"

t0=$SECONDS
bench_hosts "$TMP/nocc" "$SRV" "root@$(nsh_addr nocc)" "--conns 2 --reps 1 --secs 0.3" >/dev/null 2>"$TMP/nocc.err"
rc=$?
one_line "a host without a compiler: one line naming it" "root@$(nsh_addr nocc) has no C compiler" 30 $((SECONDS - t0)) $rc "$TMP/nocc.err"

t0=$SECONDS
bench_hosts "$TMP/badcc" "$SRV" "root@$(nsh_addr badcc)" "--conns 2 --reps 1 --secs 0.3" >/dev/null 2>"$TMP/badcc.err"
rc=$?
one_line "a host whose build fails: one line naming it, with the build's last words" \
  "root@$(nsh_addr badcc): the build failed: .*(Error|false)" 60 $((SECONDS - t0)) $rc "$TMP/badcc.err"

t0=$SECONDS
bench_hosts "$TMP/port" "$SRV" "$L1" "--models loop --conns 2 --reps 1 --secs 0.3" SERVER_PORT=22 >/dev/null 2>"$TMP/port.err"
rc=$?
one_line "a port the server host cannot bind (its sshd's): the run stops, one line" \
  "did not start on the server host.*$SRV" 60 $((SECONDS - t0)) $rc "$TMP/port.err"
if grep -q "Address already in use\|bind" "$TMP/port.err"; then pass "... and the server's own reason comes through"
else fail "... and the server's own reason comes through" "$(tr '\n' ' ' <"$TMP/port.err" | cut -c1-300)"; fi
no_leftovers "nothing left running after the bad input"

# --- a load host that disappears mid-run: its link down, then its sshd killed -------------
# lose HOW NAME — start a long bench, wait for its first run's merge, make l2 disappear
lose() {
  local how=$1 name=$2 out=$TMP/lost-$1 pid i rc
  bench_hosts "$out" "$SRV" "$L1 $L2" "--models loop,threads --conns 10 --reps 5 --secs 1" >/dev/null 2>"$TMP/lost-$how.err" &
  pid=$!
  for ((i = 0; i < 600; i++)); do [ -f "$out/loads/001-merged.dump" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  sleep 1.5   # into the second run
  case $how in
    link) ip -n "$(nsh_ns sw)" link set "h${NSH_TAG}4b" down ;;
    sshd) nsh_kill_sshd l2 ;;
  esac
  t0=$SECONDS
  for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { kill "$pid"; fail "$name" "make bench still running 60 s after the host went"; return; }
  wait "$pid"; rc=$?
  one_line "$name" "(load host|host) $L2 lost" 30 $((SECONDS - t0)) "$rc" "$TMP/lost-$how.err"
  [ "$how" = link ] && ip -n "$(nsh_ns sw)" link set "h${NSH_TAG}4b" up
}
lose link "a load host whose link goes down mid-run: the run ends, one line naming it"
no_leftovers "... and nothing is left running on any host"
lose sshd "a load host whose sshd is killed mid-run: the run ends, one line naming it"
no_leftovers "... and nothing is left running on any host, again"
finish
