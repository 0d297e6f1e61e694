#!/usr/bin/env bash
# bench-c10k.sh — the C10K sweep: every model's echo server at 1 ... 10,000 idle
# connections, memory per connection split into user and kernel parts.
#
#   make bench-c10k                      (what it runs: sweep; about 3-4 minutes)
#   REPS=1 CONNS=100,1000 scripts/bench-c10k.sh      a short one
#   scripts/bench-c10k.sh charts         redraw the charts from OUT/c10k.csv
#   scripts/bench-c10k.sh extrapolate    100,000 and 1,000,000 connections, from OUT/c10k.csv
#   scripts/bench-c10k.sh footnote       the charts' footnote (machine, commit, pinning) from OUT/meta.txt
#
# sweep runs bin/c10k once per (N, repetition, model) — the models interleaved
# within each N, so that a noisy minute hurts all three alike — appending to
# OUT/c10k.csv; writes OUT/meta.txt, OUT/c10k-median.csv (medians over the
# repetitions), the charts OUT/c10k-memory.png and OUT/c10k-connect.png
# (scripts/c10k.gp), OUT/extrapolation.md, and prints a summary table.
# It raises the open-files limit to the hard limit and changes no sysctl.
#
# Environment: BIN (bin), OUT (results/c10k), MODELS (every model of the
# registry, scripts/models.sh; with PEERS=1 the peers too, peers/list.sh),
# CONNS (1,10,100,1000,5000,10000), REPS (3), RATE (5000 connections/s),
# PEER_CONNS (1,10,100,1000): the counts at which the peers run, if in CONNS
# (Python's process per connection is about 1 MiB: 10,000 of them are 10 GiB).
# CPUS: the CPU list pin_halves splits (default: this process's; on 4 or more
# the server gets the first half, bin/c10k's clients the rest; fewer: no pinning).
# SERVER_HOST, LOAD_HOSTS ("[user@]host", "[user@]a [user@]b"): the server and its
# measuring on the server host, the idle connections shared out over the load
# hosts, through ssh (scripts/hosts.sh, docs/hosts.md); SERVER_ADDR, SERVER_PORT,
# SSH_CONFIG, HOSTS_DIR too. Neither set: everything here, as always.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
OUT=${OUT:-results/c10k} MODELS=${MODELS:-$(peers/list.sh --bench echo | paste -sd ' ' -)}
CONNS=${CONNS:-1,10,100,1000,5000,10000} REPS=${REPS:-3} RATE=${RATE:-5000} PEER_CONNS=${PEER_CONNS:-1,10,100,1000}
# at_n N — the models measured at N: all of them, the peers only at PEER_CONNS (if set)
at_n() {
  local m
  for m in $MODELS; do
    [ -z "$PEER_CONNS" ] || [ ! -f "peers/$m/about.txt" ] || [[ ",$PEER_CONNS," == *",$1,"* ]] && echo "$m"
  done | paste -sd ' ' -
}
csv=$OUT/c10k.csv med=$OUT/c10k-median.csv

die() { echo "bench-c10k.sh: $*" >&2; exit 1; }
sysctl_val() { tr -s '\t ' ' ' <"/proc/sys/$(tr . / <<<"$1")" 2>/dev/null || echo unknown; }

# --- medians over the repetitions: one row per (model, N) ----------------------
# mawk has no sort: each cell's values are sorted by insertion, n <= REPS.
medians() {
  awk -F, '
    function med(key, col,   n, i, j, v, t, a) {
      n = split(vals[key, col], a, " ")
      for (i = 2; i <= n; i++) { v = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
      if (n == 0) return "NaN"
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
      key = $col["model"] "," $col["conns"]
      if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
      reps[key]++; errors[key] += $col["errors"]
      if ($col["server_exit"] != 0) bad_exit[key]++
      if ($col["stop_reason"] != "") { stops[key]++; why[key] = $col["stop_reason"]; next }
      for (c in want) if ($col[c] != "NaN") vals[key, c] = vals[key, c] " " $col[c]
    }
    BEGIN {
      split("connect_s pss_kib_per_conn kstack_kib_per_conn pagetables_kib_per_conn slab_kib_per_conn " \
            "sock_kib_per_conn kernel_kib_per_conn client_kernel_kib_per_conn meminfo_server_kib_per_conn " \
            "cg_server_kib_per_conn cg_kmem_kib_per_conn agree_pct proc_slab_kib_per_conn procs threads", w, " ")
      for (i in w) want[w[i]] = 1
      hdr = "model,conns,reps,stopped,errors,bad_exits"
      for (i = 1; i in w; i++) hdr = hdr "," w[i]
      print hdr ",stop_reason"
      nw = 0; for (i = 1; i in w; i++) nw = i
    }
    END {
      for (k = 1; k <= nk; k++) {
        key = order[k]; line = key "," reps[key] "," stops[key] + 0 "," errors[key] "," bad_exit[key] + 0
        for (i = 1; i <= nw; i++) line = line "," med(key, w[i])
        print line "," why[key]
      }
    }' "$csv"
}

# --- the summary table -----------------------------------------------------------
summary() {
  echo
  echo "C10K sweep: medians over the repetitions, KiB per connection (see docs/c10k.md)"
  echo "  user = PSS of the server tree; kernel = stacks + page tables + slab + socket buffers (meminfo: both ends);"
  echo "  client = client side (its cgroup); server(meminfo) = user + kernel - client; server(cgroup) = the server's cgroup"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
             printf "%-8s %6s %5s %9s %7s %7s %7s %7s %7s %7s %7s %8s %8s %6s %6s %s\n", "model", "N", "reps",
               "connect_s", "user", "kstack", "ptable", "slab", "sock", "kernel", "client", "srv_mi", "srv_cg", "diff%", "errors", "stop"
             next }
           function f(n, x) { x = $c[n]; return x == "NaN" ? "-" : sprintf("%.1f", x) }
           { printf "%-8s %6s %5s %9s %7s %7s %7s %7s %7s %7s %7s %8s %8s %6s %6s %s\n", $c["model"], $c["conns"], $c["reps"],
               ($c["connect_s"] == "NaN" ? "-" : sprintf("%.3f", $c["connect_s"])), f("pss_kib_per_conn"), f("kstack_kib_per_conn"),
               f("pagetables_kib_per_conn"), f("slab_kib_per_conn"), f("sock_kib_per_conn"), f("kernel_kib_per_conn"),
               f("client_kernel_kib_per_conn"), f("meminfo_server_kib_per_conn"), f("cg_server_kib_per_conn"),
               ($c["agree_pct"] == "NaN" ? "-" : sprintf("%+.0f", $c["agree_pct"])), $c["errors"],
               ($c["stopped"] > 0 ? $c["stopped"] " of " $c["reps"] ": " $c["stop_reason"] : "") }' "$med"
}

# pin_note META — the run's pinning, from meta.txt, for the footnote
pin_note() {
  local p; p=$(meta_get "$1" pinning)
  case $p in
    hosts*) echo "server on $(meta_get "$1" server_host | cut -d' ' -f1), clients on $(meta_get "$1" load_hosts | wc -w) load hosts" ;;
    halves*) sed 's/^halves (\(.*\))$/\1/' <<<"$p" ;;
    none*|"") echo "nothing pinned" ;;
    *) echo "pinning: $p" ;;
  esac
}

# footnote — the charts' footnote, from OUT/meta.txt
footnote() {
  local m="$OUT/meta.txt"
  echo "$(meta_machine "$m") | $(meta_get "$m" date | cut -c1-10) | commit $(meta_get "$m" commit) | median of $(meta_get "$m" reps) reps, $(pin_note "$m")"
}

# --- charts ----------------------------------------------------------------------------
charts() {
  [ -s "$csv" ] || die "$csv is missing: run the sweep first"
  medians >"$med"
  command -v gnuplot >/dev/null || die "gnuplot is missing (apt-get install gnuplot-nox): no charts drawn"
  local m="$OUT/meta.txt" foot top models xtics="" name conn
  foot=$(footnote)
  top=$(awk -F, 'NR > 1 && $4 < $3 && $2 + 0 > m { m = $2 + 0 } END { print m + 0 }' "$med")
  # one bar per model in the data, registry order; its tic says what a connection is (about.txt)
  models=$(csv_models "$med")
  local i=0 width
  width=$(( 108 / $(wc -w <<<"$models") )); [ "$width" -ge 14 ] || width=14   # the chart is ~110 characters wide
  for name in $models; do
    conn=$(scripts/models.sh --about "$name" connection 2>/dev/null | fold -s -w "$width" | sed 's/ *$//' | paste -sd '|' -)
    # more bars than the words fit under (PEERS=1): the name only, a peer marked as one
    [ "$(wc -w <<<"$models")" -le 8 ] || conn=""
    [ ! -f "peers/$name/about.txt" ] || conn="peer"
    xtics="$xtics${xtics:+, }$(gp_str "$name${conn:+|($conn)}" | sed 's/|/\\n/g') $i"
    i=$((i + 1))
  done
  for what in memory connect; do
    # shellcheck disable=SC2086
    gnuplot -e "$(gp_png_term 1100 700 enhanced)" -e "$(gp_palette $models)" \
            -e "csv=$(gp_str "$med"); out=$(gp_str "$OUT/c10k-$what.png"); foot=$(gp_str "$foot")" \
            -e "models=$(gp_str "$models"); model_tics=$(gp_str "set xtics ($xtics) noenhanced")" \
            -e "chart=$(gp_str "$what"); ntop=$top; rate=$(meta_get "$m" rate | grep -o '^[0-9]*' || echo 0)" \
            scripts/c10k.gp || die "gnuplot failed on scripts/c10k.gp ($what)"
  done
  echo "bench-c10k: drew $OUT/c10k-memory.png (N=$top) and $OUT/c10k-connect.png" >&2
}

# --- extrapolation ------------------------------------------------------------------
# From the medians at the largest N every model reached: memory for 100,000 and
# 1,000,000 connections, and which of this machine's limits each model meets first.
extrapolate() {
  [ -s "$csv" ] || die "$csv is missing: run the sweep first"
  medians >"$med"
  local nofile_hard nr_open file_max threads_max pid_max map_max ports mem_avail mem_total
  nofile_hard=$(ulimit -Hn) nr_open=$(sysctl_val fs.nr_open) file_max=$(sysctl_val fs.file-max)
  threads_max=$(sysctl_val kernel.threads-max) pid_max=$(sysctl_val kernel.pid_max)
  map_max=$(sysctl_val vm.max_map_count)
  ports=$(awk '{ print $2 - $1 + 1 }' /proc/sys/net/ipv4/ip_local_port_range)
  mem_total=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) mem_avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
  awk -F, -v nofile="$nofile_hard" -v nr_open="$nr_open" -v file_max="$file_max" -v threads_max="$threads_max" \
      -v pid_max="$pid_max" -v map_max="$map_max" -v ports="$ports" -v mem_total="$mem_total" -v mem_avail="$mem_avail" '
    function gib(kib) { return sprintf("%.1f GiB", kib / 1048576) }
    function num(x) { return x >= 1e6 ? sprintf("%.2fM", x / 1e6) : x >= 1e3 ? sprintf("%.1fk", x / 1e3) : sprintf("%d", x) }
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["stopped"] < $c["reps"] && $c["conns"] + 0 >= top[$c["model"]] + 0 {
      m = $c["model"]; if (!(m in seen)) { seen[m] = 1; order[++nm] = m }
      top[m] = $c["conns"]
      srv[m] = $c["cg_server_kib_per_conn"] != "NaN" ? $c["cg_server_kib_per_conn"] : $c["meminfo_server_kib_per_conn"]
      src[m] = $c["cg_server_kib_per_conn"] != "NaN" ? "cgroup" : "meminfo"
      if (srv[m] == "NaN") { srv[m] = $c["pss_kib_per_conn"] + $c["kernel_kib_per_conn"]; src[m] = "meminfo, both ends" }
      cli[m] = $c["client_kernel_kib_per_conn"] == "NaN" ? 0 : $c["client_kernel_kib_per_conn"]
      # what one connection costs in tasks, from what was measured at N
      kind[m] = $c["procs"] + 0 >= $c["conns"] / 2 ? "process" : $c["threads"] + 0 >= $c["conns"] / 2 ? "thread" : "one"
    }
    # limit(name, capacity): remember one limit of model m; the smallest comes first
    function limit(name, cap) { nl++; lname[nl] = name; lcap[nl] = cap }
    END {
      printf "Machine: MemTotal %s (MemAvailable %s now); RLIMIT_NOFILE hard %s, fs.nr_open %s, fs.file-max %s,\n", \
             gib(mem_total), gib(mem_avail), nofile, nr_open, file_max
      printf "kernel.threads-max %s, kernel.pid_max %s, vm.max_map_count %s, ephemeral ports %s (one client IP, one server port).\n\n", \
             threads_max, pid_max, map_max, ports
      print "| model | measured at N | server KiB/conn (source) | + client KiB/conn | 100,000 conns | 1,000,000 conns | the server runs out first of | every limit, smallest first |"
      print "|---|---|---|---|---|---|---|---|"
      for (k = 1; k <= nm; k++) {
        m = order[k]; per = srv[m] + cli[m]; nl = 0
        limit("memory (MemAvailable / (server + client per conn))", int(mem_avail / per))
        if (kind[m] == "process") {
          limit("kernel.pid_max (a PID per child)", pid_max - 300)
          limit("kernel.threads-max (a task per child)", threads_max)
        } else if (kind[m] == "thread") {
          limit("kernel.pid_max (a PID per thread)", pid_max - 300)
          limit("kernel.threads-max", threads_max)
          limit("vm.max_map_count (2 mappings per thread stack: stack + guard)", int(map_max / 2))
          limit("RLIMIT_NOFILE hard (one process holds every socket)", nofile)
        } else {
          # one process, a few threads: coroutine stacks come from large arenas (docs/runtime.md),
          # tasks and callbacks from the heap, so no mapping per connection
          limit("RLIMIT_NOFILE hard (one process holds every socket)", nofile)
        }
        limit("ephemeral ports (client side, one IP)", ports)
        limit("fs.file-max (2 files per loopback connection)", int(file_max / 2))
        for (i = 2; i <= nl; i++) for (j = i; j > 1 && lcap[j] < lcap[j - 1]; j--) {
          t = lcap[j]; lcap[j] = lcap[j - 1]; lcap[j - 1] = t; t = lname[j]; lname[j] = lname[j - 1]; lname[j - 1] = t }
        lims = ""; first = ""
        for (i = 1; i <= nl; i++) {
          lims = lims (i > 1 ? "; " : "") lname[i] " " num(lcap[i])
          if (first == "" && lname[i] !~ /client side/) first = lname[i] " at " num(lcap[i])
        }
        printf "| %s | %s | %.1f (%s) | %.1f | %s | %s | %s | %s |\n", m, top[m], srv[m], src[m], cli[m], \
               gib(per * 1e5), gib(per * 1e6), first, lims
      }
      print ""
      print "Memory = (server + client side per connection) x N, both on this machine, linear in N as measured."
      print "Limits: how many connections each allows as configured now; RLIMIT_NOFILE can be raised up to fs.nr_open,"
      print "the sysctls by root, ports by adding client IPs (127.0.0.2, ...) or server ports."
    }' "$med"
}

sweep() {
  [ -x "$BIN/c10k" ] || die "$BIN/c10k is missing (run make)"
  for m in $MODELS; do [ -x "$BIN/echo-$m" ] || die "$BIN/echo-$m is missing (run make)"; done
  mkdir -p "$OUT"
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  rm -f "$csv.tmp"
  local start=$SECONDS failed=0 n rep m pinning cpus=() hargs=() rc lost=0 s_cpus l_cpus
  pinning="none; server and client share the $(nproc) cores"
  if [ -n "${SERVER_HOST:-}${LOAD_HOSTS:-}" ]; then
    source scripts/hosts-lib.sh
    # shellcheck disable=SC2046
    hosts_up "$OUT" bin/c10k $(printf 'bin/echo-%s ' $MODELS) || exit 1
    hargs=(--server-cmd "scripts/hosts.sh run $SERVER_HOST" --load-cmd "scripts/hosts.sh run"
           --load-hosts "$LOAD_HOSTS" --bind "$SERVER_ADDR" --port "${SERVER_PORT:-0}")
    pinning="hosts (the server and its measuring on $SERVER_HOST, the connections from $(wc -w <<<"$LOAD_HOSTS") load hosts: host_* keys)"
  elif read -r s_cpus l_cpus <<<"$(pin_halves ${CPUS:-})" && [ -n "$s_cpus" ]; then
    cpus=(--server-cpus "$s_cpus" --client-cpus "$l_cpus")
    pinning="halves (server on CPUs $s_cpus; clients (bin/c10k) on CPUs $l_cpus)"
  fi
  # the commands (rep 1's; later reps add --first-rep R) and the settings, in
  # meta.txt's format (scripts/meta.sh), written now: date and load are the start's
  local cargs=() limits s extra=""
  [ $((${#cpus[@]} + ${#hargs[@]})) -eq 0 ] || extra=" $(printf '%q ' "${cpus[@]}" "${hargs[@]}")"
  for n in ${CONNS//,/ }; do
    for m in $(at_n "$n"); do
      cargs+=(--command "$BIN/c10k --model $m --conns $n --reps 1 --first-rep 1 --rate $RATE --out $csv.tmp$extra")
    done
  done
  limits="RLIMIT_NOFILE soft $(ulimit -Sn) hard $(ulimit -Hn) (soft raised to hard); sysctls read, none changed:"
  for s in net.core.somaxconn fs.nr_open fs.file-max kernel.threads-max vm.max_map_count kernel.pid_max net.ipv4.ip_local_port_range; do
    limits="$limits $s = $(sysctl_val "$s");"
  done
  local pv; pv=$(peers/list.sh --versions $MODELS)   # the peers' runtimes, if any
  scripts/meta.sh "$OUT/meta.txt.run" --set pinning="$pinning" \
    --set models="$MODELS" --set conns="$CONNS${pv:+ (the peers at $PEER_CONNS only)}" --set reps="$REPS" \
    --set rate="$RATE connections/s (paced), at most 256 connects in flight" \
    --set order="for each N, for each repetition, every model in turn (interleaved)" \
    --set limits="${limits%;}" \
    --set cgroups="$(grep -m1 memory /proc/self/cgroup || echo none) (bin/c10k makes groups inside it)" \
    --set commands="rep 1's below; later reps add --first-rep R" \
    ${pv:+--set} ${pv:+"peers=$pv"} \
    "${cargs[@]}" || die "cannot write $OUT/meta.txt.run"
  for n in ${CONNS//,/ }; do
    for rep in $(seq 1 "$REPS"); do
      for m in $(at_n "$n"); do
        "$BIN/c10k" --model "$m" --conns "$n" --reps 1 --first-rep "$rep" --rate "$RATE" --out "$csv.tmp" \
          "${cpus[@]}" "${hargs[@]}"
        rc=$?
        [ "$rc" -eq 0 ] || failed=$((failed + 1))
        [ "$rc" -eq 3 ] && { lost=1; break 3; }   # a host lost: the other runs would fail the same way
      done
    done
  done
  [ -f "$csv.tmp" ] && mv "$csv.tmp" "$csv"
  scripts/meta.sh --finish "$OUT/meta.txt.run" && mv "$OUT/meta.txt.run" "$OUT/meta.txt"
  if [ ${#hargs[@]} -gt 0 ]; then
    hosts_finish "$OUT" || exit 1   # meta.txt: every host; a host lost: its one line, last
    [ "$lost" -eq 0 ] || exit 1     # bin/c10k's last line named the host
  fi
  [ "$failed" -eq 0 ] || echo "bench-c10k: $failed of the runs did not reach N cleanly (see stop_reason in $csv)" >&2
  charts
  extrapolate >"$OUT/extrapolation.md"
  summary
  echo
  cat "$OUT/extrapolation.md"
  echo "bench-c10k: wrote $csv, $med, $OUT/meta.txt, $OUT/extrapolation.md and the charts ($((SECONDS - start)) s)" >&2
}

case "${1:-sweep}" in
  -h|--help) sed -n '2,30s/^# \{0,1\}//p' "$0" ;;
  sweep) sweep ;;
  charts) charts ;;
  extrapolate) extrapolate ;;
  footnote) footnote ;;
  summary) medians >"$med" && summary ;;
  *) echo "bench-c10k.sh: unknown command '$1' (sweep, charts, extrapolate, summary, footnote; settings come from the environment)" >&2; exit 2 ;;
esac
