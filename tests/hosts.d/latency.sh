# shellcheck shell=bash
# tests/hosts.d/latency.sh — make bench-latency across the namespace hosts of
# tests/t_hosts.sh (sourced there; tests/hosts.d/README.md): a model and the epoll baseline, a low
# open-loop rate, 1 s, one repetition, a short capacity run. Checks the rows
# (load_hosts 2), the rate shared out (the parts' rates add up to RATE), every
# run's merged histogram count = the sum of the two hosts' = the row's msgs,
# the .hgrm drawn from the merge, every host in meta.txt, the footnote's
# pinning, nothing left on any host; then a port the server host cannot bind
# and a load host whose link goes down mid-run: one line naming the host.

# lat_hosts OUT "LOADS" [VAR=VALUE...] — the real make bench-latency, from the runner's namespace
lat_hosts() {
  local out=$1 loads=$2; shift 2
  nsh_exec run env SSH_CONFIG="$NSH_SSH_CONFIG" HOSTS_DIR="$HOSTS_DIR" OUT="$out" LAT_MODELS="loop epoll" \
    RATE=1000 CONNS=6 SECS=1 WARMUP=0.2 REPS=1 CAP_SECS=0.5 "$@" \
    timeout 300 make -s bench-latency SERVER_HOST="$SRV" LOAD_HOSTS="$loads"
}
# lat_col FILE COLUMN ROW — one field of a CSV by column name (ROW 1: the first data row)
lat_col() { awk -F, -v k="$2" -v r="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i; next } NR == r + 1 && c { print $c }' "$1"; }

plan 9
lo=$TMP/latency
lat_hosts "$lo" "$L1 $L2" >"$TMP/lat.out" 2>"$TMP/lat.err"
rc=$?
exit_ok "make bench-latency across three namespace hosts: exit 0" "$rc" "$TMP/lat.err"

bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
               $c["load_hosts"] != 2 || $c["start_spread_ms"] !~ /^[0-9.]+$/ || $c["errors"] != 0 || $c["msgs"] < 1 { print $1 }' "$lo/latency.csv" 2>/dev/null)
rows=$(($(wc -l <"$lo/latency.csv" 2>/dev/null || echo 1) - 1))
if [ "$rows" -eq 2 ] && [ -z "$bad" ]; then pass "latency.csv: a row per model, load_hosts 2, a start spread, no errors"
else fail "latency.csv: a row per model, load_hosts 2, a start spread, no errors" "$rows rows; bad: $bad"; fi

caps=$(awk -F, 'NR > 1 && $4 > 0' "$lo/capacity.csv" 2>/dev/null | wc -l)
if [ "$caps" -eq 2 ] && [ "$(grep -c ' capacity ' "$lo/loads/runs.txt" 2>/dev/null)" -eq 2 ]; then
  pass "the capacity runs across the hosts too (capacity.csv, their merges in loads/)"
else fail "the capacity runs across the hosts too (capacity.csv, their merges in loads/)" "$caps capacity rows; runs.txt: $(tr '\n' ';' <"$lo/loads/runs.txt" 2>/dev/null)"; fi

# every open-loop run: its parts, its merge, its row and its .hgrm agree
sums=ok rates=ok n=0
while read -r seq m w r; do
  [ "$w" = rep ] || continue
  n=$((n + 1))
  parts=0 prate=0 k=0
  for p in "$lo/loads/$seq"-load*.dump; do
    [ -f "$p" ] || continue
    k=$((k + 1)) parts=$((parts + $(hist_total "$p")))
    prate=$(awk -v a="$prate" -v b="$(tail -n +4 "$p" | lat_col /dev/stdin rate 1)" 'BEGIN { print a + b }')
  done
  merged=$(hist_total "$lo/loads/$seq-merged.dump")
  row=$(awk -F, -v m="$m" -v r="$r" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $1 == m && $2 == r { print $c["msgs"] }' "$lo/latency.csv")
  hgrm=$(sed -n 's/.*Total count *= *\([0-9]*\).*/\1/p' "$lo/$m-rep$r.hgrm" 2>/dev/null)
  "$BIN/loadmerge" --percentiles "$TMP/lat-re.hgrm" "$lo/loads/$seq-merged.dump" >/dev/null 2>&1
  if [ "$k" -ne 2 ] || [ "$parts" -eq 0 ] || [ "$merged" != "$parts" ] || [ "$row" != "$parts" ] || [ "$hgrm" != "$parts" ] ||
     ! cmp -s "$TMP/lat-re.hgrm" "$lo/$m-rep$r.hgrm"; then
    sums="$m rep $r ($seq): $k parts summing to $parts, merged $merged, row $row, .hgrm total '$hgrm'"
  fi
  awk -v a="$prate" 'BEGIN { exit !(a > 999 && a < 1001) }' || rates="$m rep $r: the hosts' rates add up to $prate, not 1000"
done <"$lo/loads/runs.txt"
if [ "$sums" = ok ] && [ "$n" -eq 2 ]; then pass "merged count = sum of the two hosts' = the row's msgs = the .hgrm's, drawn from the merge, every run"
else fail "merged count = sum of the two hosts' = the row's msgs = the .hgrm's, drawn from the merge, every run" "$sums ($n runs)"; fi
if [ "$rates" = ok ] && [ "$n" -eq 2 ]; then pass "RATE shared out: the load hosts' rates add up to it"
else fail "RATE shared out: the load hosts' rates add up to it" "$rates ($n runs)"; fi

if [ "$(meta_hosts "$lo/meta.txt")" -eq 3 ] &&
   [ "$(grep -c '^path_rtt_us: root@.* [0-9.]* (' "$lo/meta.txt")" -eq 2 ] &&
   grep -q "^pinning: hosts (server on $SRV, loadgen on $L1 $L2)" "$lo/meta.txt"; then
  pass "latency meta.txt: every host (kernel, cores, commit), the round trips, pinning: hosts"
else
  fail "latency meta.txt: every host (kernel, cores, commit), the round trips, pinning: hosts" "$(grep -E '^(host_|path_|pinning)' "$lo/meta.txt" 2>/dev/null | tr '\n' ';')"
fi
if grep -q "pinning: hosts (server on $SRV, loadgen on 2 load hosts)" "$lo/latency.svg" 2>/dev/null; then pass "the chart's footnote says the pinning (hosts)"
else fail "the chart's footnote says the pinning (hosts)" "$(grep -o 'pinning:[^<]*' "$lo/latency.svg" 2>/dev/null | head -n 1)"; fi
no_leftovers "nothing left running on any host after bench-latency"

# --- bad input: a port the server host cannot bind; a load host lost mid-run ----------
t0=$SECONDS
lat_hosts "$TMP/lat-port" "$L1" LAT_MODELS=loop CAP_SECS=0 SERVER_PORT=22 >/dev/null 2>"$TMP/lat-port.err"
rc=$?
one_line "bench-latency, a port the server host cannot bind: the run stops, one line naming it" \
  "did not start on the server host $SRV" 60 $((SECONDS - t0)) $rc "$TMP/lat-port.err"

plan 2
lat_lost=$TMP/lat-lost
lat_hosts "$lat_lost" "$L1 $L2" LAT_MODELS=loop CAP_SECS=0 REPS=6 >/dev/null 2>"$TMP/lat-lost.err" &
pid=$!
for ((i = 0; i < 600; i++)); do [ -f "$lat_lost/loads/001-merged.dump" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
sleep 1.5   # into the second run
ip -n "$(nsh_ns sw)" link set "h${NSH_TAG}4b" down
t0=$SECONDS
for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  fail "bench-latency, a load host whose link goes down mid-run: one line naming it" "still running 60 s after the host went"
else
  wait "$pid"; rc=$?
  one_line "bench-latency, a load host whose link goes down mid-run: one line naming it" \
    "(load host|host) $L2 lost" 30 $((SECONDS - t0)) "$rc" "$TMP/lat-lost.err"
fi
ip -n "$(nsh_ns sw)" link set "h${NSH_TAG}4b" up
no_leftovers "nothing left running on any host after the bad input and the lost host"
