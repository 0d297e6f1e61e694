#!/usr/bin/env bash
# tests/t_c10k.sh — bin/c10k at small N for every model: one CSV row per N,
# every connection reached and echoed, the server exits 0, the memory figures
# are there; a missing model and an N beyond the open-files limit fail clearly.
# Nothing here times anything: the figures are only checked for being present
# and positive where they cannot be anything else.
source "$(dirname "$0")/lib.sh"
mine="" # PIDs of the bin/c10k runs that made cgroups

prog=$BIN/c10k
if [ ! -x "$prog" ]; then fail c10k_built "$prog missing (run make)"; exit 0; fi

# col CSV ROW NAME — the value of column NAME in data row ROW (1 = first)
col() { awk -F, -v row="$2" -v name="$3" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
                                          NR - 1 == row { print $c[name] }' "$1"; }
# positive NAME VALUE — pass if VALUE is a number > 0
# within NAME VALUE LO HI — a number strictly between LO and HI (a figure that
# may be a little below zero, being a difference of noisy readings, is still
# not any number: a wrong unit or a missing division lands far outside)
within() { if [[ "$2" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v > lo && v < hi) }'
           then pass "$1"; else fail "$1" "got '$2', want a number in ($3, $4)"; fi; }
positive() { if awk -v v="$2" 'BEGIN { exit !(v != "NaN" && v + 0 > 0) }'; then pass "$1"; else fail "$1" "got '$2', want > 0"; fi; }

plan 6
# flags
check_help c10k_help "$prog"
"$prog" --no-such-flag >/dev/null 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--no-such-flag' "$TMP/e" && pass c10k_bad_flag || fail c10k_bad_flag "rc=$rc"
"$prog" --conns 10,x >/dev/null 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--conns' "$TMP/e" && pass c10k_bad_conns || fail c10k_bad_conns "rc=$rc"

# a name that is not a registered model: one line naming --model, exit 2
timeout 20 "$prog" --model nosuch --conns 10 >"$TMP/o" 2>"$TMP/e"; rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ] && grep -q -- "--model: 'nosuch'" "$TMP/e" && [ ! -s "$TMP/o" ]; then
  pass c10k_unregistered_model
else fail c10k_unregistered_model "rc=$rc stderr=$(head -c 200 "$TMP/e")"; fi
"$prog" --help >"$TMP/h" 2>&1
grep -q "bin/echo-M ($(scripts/models.sh | paste -sd, - | sed 's/,/, /g'))" "$TMP/h" && pass c10k_help_lists_models \
  || fail c10k_help_lists_models "$(grep -- --model "$TMP/h")"

# a registered model whose program does not exist (a source tree of our own,
# C10K_ROOT, registers 'ghost'): a clear error naming it, no CSV, exit 1
mkdir -p "$TMP/root/models/ghost" && touch "$TMP/root/Makefile" "$TMP/root/models/ghost/"{echo.c,fetch.c}
ln -s "$(pwd)/scripts" "$TMP/root/scripts" # the registry's reader (registry.c runs scripts/models.sh)
printf 'connection: a test\nswitches: nobody\norder: 5\n' >"$TMP/root/models/ghost/about.txt"
C10K_ROOT=$TMP/root timeout 20 "$prog" --model ghost --conns 10 >"$TMP/o" 2>"$TMP/e"; rc=$?
if [ "$rc" -eq 1 ] && grep -q 'echo-ghost' "$TMP/e" && [ ! -s "$TMP/o" ]; then pass c10k_missing_model
else fail c10k_missing_model "rc=$rc stderr=$(head -c 200 "$TMP/e")"; fi

for m in $MODELS; do
  out="$TMP/$m.csv"
  plan 20 # runs, rows, and 9 per row
  # run it as our own child (not under timeout(1)), so that $! is the PID in its cgroups' names
  "$prog" --model "$m" --conns 50,200 --reps 1 --settle-ms 300 --out "$out" 2>"$TMP/$m.err" &
  cpid=$!; mine="$mine $cpid"
  ( sleep 120; kill -TERM "$cpid" 2>/dev/null ) & wd=$!
  wait "$cpid"; rc=$?; kill "$wd" 2>/dev/null; wait "$wd" 2>/dev/null
  [ "$rc" -eq 0 ] && pass "c10k_${m}_runs" || fail "c10k_${m}_runs" "exit $rc: $(tail -n 2 "$TMP/$m.err" | tr '\n' ' ')"
  rows=$(($(wc -l <"$out" 2>/dev/null || echo 1) - 1))
  [ "$rows" -eq 2 ] && pass "c10k_${m}_rows" || fail "c10k_${m}_rows" "$rows data rows, want 2"
  for r in 1 2; do
    n=$(col "$out" $r conns) t="c10k_${m}_$(col "$out" $r conns)"
    want=$([ "$r" = 1 ] && echo 50 || echo 200)
    [ "$n" = "$want" ] && [ "$(col "$out" $r reached)" = "$want" ] && pass "${t}_reached" \
      || fail "${t}_reached" "conns=$n reached=$(col "$out" $r reached), want $want"
    [ "$(col "$out" $r errors)" = 0 ] && pass "${t}_no_errors" || fail "${t}_no_errors" "errors=$(col "$out" $r errors)"
    [ "$(col "$out" $r server_exit)" = 0 ] && pass "${t}_server_exit_0" || fail "${t}_server_exit_0" "server_exit=$(col "$out" $r server_exit)"
    [ -z "$(col "$out" $r stop_reason)" ] && pass "${t}_no_stop" || fail "${t}_no_stop" "$(col "$out" $r stop_reason)"
    positive "${t}_connect_s" "$(col "$out" $r connect_s)"
    # a connection costs the server user memory (PSS) where it has a unit of its own (a process,
    # thread or coroutine stack); a stackless task's few hundred bytes can drown in the noise, and
    # so can a pooled worker's (about.txt's pool_flag): made before the count, its 2 KiB buffer
    # (SERVER_BUF) lies in stack pages it had touched already
    pooled=$(scripts/models.sh --about "$m" pool_flag 2>/dev/null)
    if [ -n "$(scripts/models.sh --about "$m" unit 2>/dev/null)" ] && [ -z "$pooled" ]; then
      positive "${t}_pss" "$(col "$out" $r pss_kib_per_conn)"
    else
      # a few hundred bytes, or a buffer in pages already touched: near zero
      within "${t}_pss_present" "$(col "$out" $r pss_kib_per_conn)" -64 64
    fi
    # the meminfo figures are machine-wide: other programs' churn can outweigh 50 connections,
    # so they need not be positive, only within 1 MiB a connection either way (a connection's
    # kernel memory is tens of KiB: bytes for KiB, or no division by N, lands outside). Under a
    # sanitizer the bound is 16 MiB: the page tables of its shadow memory are kernel memory too
    # (TSan: echo-uring showed 1.5 MiB a connection). The server's own cgroup counters must be
    # positive.
    kmax=$([ -n "${SANITIZER:-}" ] && echo 16384 || echo 1024)
    within "${t}_kernel_present" "$(col "$out" $r kernel_kib_per_conn)" "-$kmax" "$kmax"
    if [ "$(col "$out" $r cg_total_kib_per_conn)" != NaN ]; then
      # its total too, for the same units: a stackless task's few hundred bytes beside the
      # cgroup's own churn can come out below zero (proto at 50 under ASan: -0.08 KiB)
      if [ -z "$pooled" ] && [ -n "$(scripts/models.sh --about "$m" unit 2>/dev/null)" ]; then
        positive "${t}_cgroup_total" "$(col "$out" $r cg_total_kib_per_conn)"
      else within "${t}_cgroup_total_present" "$(col "$out" $r cg_total_kib_per_conn)" -64 1024; fi
      positive "${t}_cgroup_kmem" "$(col "$out" $r cg_kmem_kib_per_conn)"
    else
      skip "${t}_cgroup_total" "no writable memory cgroup here"
      skip "${t}_cgroup_kmem" "no writable memory cgroup here"
    fi
  done
  # a thread or a process per connection; the loop serves all on one thread
  procs=$(col "$out" 2 procs) threads=$(col "$out" 2 threads)
  case $m in
    fork)    plan 1; [ "$procs" -ge 201 ] && pass c10k_fork_procs || fail c10k_fork_procs "procs=$procs, want >= 201" ;;
    threads) plan 1; [ "$procs" = 1 ] && [ "$threads" -ge 201 ] && pass c10k_threads_threads || fail c10k_threads_threads "procs=$procs threads=$threads" ;;
    loop)    plan 1; [ "$procs" = 1 ] && [ "$threads" = 1 ] && pass c10k_loop_one_thread || fail c10k_loop_one_thread "procs=$procs threads=$threads" ;;
  esac
  # a model with a fixed pool (about.txt's pool_flag) is given a worker per connection
  if [ -n "$("$C10K_ROOT/scripts/models.sh" --about "$m" pool_flag)" ]; then
    case $("$C10K_ROOT/scripts/models.sh" --about "$m" unit) in
      process) plan 1; [ "$procs" -ge 201 ] && pass "c10k_${m}_pool_sized" || fail "c10k_${m}_pool_sized" "procs=$procs, want >= 201" ;;
      thread)  plan 1; [ "$threads" -ge 201 ] && pass "c10k_${m}_pool_sized" || fail "c10k_${m}_pool_sized" "threads=$threads, want >= 201" ;;
    esac
  fi
done

plan 2
# the cgroups our runs made (named c10k-PID-... by bin/c10k) are gone; other
# runs on the machine may hold theirs at this moment
left=$(for p in $mine; do find /sys/fs/cgroup -maxdepth 6 -type d -name "c10k-$p-*" 2>/dev/null; done | head -n 3)
[ -z "$left" ] && pass c10k_cgroups_removed || fail c10k_cgroups_removed "left: $left"

# N beyond the open-files limit: a clear stop reason, exit 1, quickly
m=${MODELS%% *}
plan 6
# here, no hosts: the row says so (one load "host", meminfo holds both ends)
first="$TMP/$m.csv"
[ "$(col "$first" 1 load_hosts)" = 1 ] && [ "$(col "$first" 1 meminfo_both_ends)" = 1 ] &&
  [ -z "$(col "$first" 1 client_kib_per_conn_by_host)" ] && pass c10k_local_row_one_host ||
  fail c10k_local_row_one_host "load_hosts=$(col "$first" 1 load_hosts) both=$(col "$first" 1 meminfo_both_ends)"
# the two halves of a run across hosts, here through a command that drops the
# host's name (what scripts/hosts.sh run does over ssh): --serve and two --hold.
# The halves are asked for as "bin/c10k", a host's copy's path: here the
# commands run this build's program instead (under a sanitizer BIN is not bin)
abs=$(realpath "$prog")
printf '#!/bin/sh\nshift\nexec "%s" "$@"\n' "$abs" >"$TMP/srv.sh" && chmod +x "$TMP/srv.sh"
printf '#!/bin/sh\nshift 2\nexec "%s" "$@"\n' "$abs" >"$TMP/here.sh" && chmod +x "$TMP/here.sh"
(cd "$C10K_ROOT" && timeout 120 "$prog" --model "$m" --conns 201 --reps 1 --settle-ms 200 --server-cmd "$TMP/srv.sh" \
   --load-cmd "$TMP/here.sh" --load-hosts "a b" --out "$TMP/halves.csv") 2>"$TMP/halves.err"; rc=$?
by=$(col "$TMP/halves.csv" 1 client_kib_per_conn_by_host)
if [ "$rc" -eq 0 ] && [ "$(col "$TMP/halves.csv" 1 load_hosts)" = 2 ] && [ "$(col "$TMP/halves.csv" 1 reached)" = 201 ] &&
   [ "$by" = "$(grep -o 'a 101 [0-9.]*;b 100 [0-9.]*' <<<"$by")" ] && [ "$(col "$TMP/halves.csv" 1 errors)" = 0 ] &&
   [ "$(col "$TMP/halves.csv" 1 pss_kib_per_conn)" != NaN ]; then pass c10k_two_halves
else fail c10k_two_halves "rc=$rc by_host='$by' row: $(tail -n 1 "$TMP/halves.csv" 2>/dev/null | cut -c1-200) $(tail -n 2 "$TMP/halves.err" | tr '\n' ' ')"; fi
# the half that goes away before its line: the run stops (exit 3), one line naming the host
printf '#!/bin/sh\n[ "$1" = b ] && exit 255\nshift 2\nexec "%s" "$@"\n' "$abs" >"$TMP/lose.sh" && chmod +x "$TMP/lose.sh"
(cd "$C10K_ROOT" && timeout 120 "$prog" --model "$m" --conns 20,20 --reps 2 --settle-ms 100 --server-cmd "$TMP/srv.sh" \
   --load-cmd "$TMP/lose.sh" --load-hosts "a b" --out "$TMP/lost.csv") 2>"$TMP/lost.err"; rc=$?
if [ "$rc" -eq 3 ] && tail -n 1 "$TMP/lost.err" | grep -q "load host b: its half ended (exit status 255)" &&
   [ "$(wc -l <"$TMP/lost.csv")" -eq 1 ]; then pass c10k_half_lost
else fail c10k_half_lost "rc=$rc last: $(tail -n 1 "$TMP/lost.err")"; fi
"$prog" --server-cpus 0-x >/dev/null 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--server-cpus' "$TMP/e" && pass c10k_bad_cpu_list || fail c10k_bad_cpu_list "rc=$rc"
# the charts' footnote says the run's pinning, from meta.txt
mkdir -p "$TMP/fn"
printf 'commit: abc\nreps: 3\npinning: halves (server on CPUs 0,1; clients (bin/c10k) on CPUs 2,3)\n' >"$TMP/fn/meta.txt"
foot=$(OUT=$TMP/fn scripts/bench-c10k.sh footnote)
printf 'commit: abc\nreps: 3\npinning: none; server and client share the 2 cores\n' >"$TMP/fn/meta.txt"
foot2=$(OUT=$TMP/fn scripts/bench-c10k.sh footnote)
printf 'commit: abc\nreps: 3\npinning: hosts (...)\nserver_host: root@s (address s)\nload_hosts: root@a root@b\n' >"$TMP/fn/meta.txt"
foot3=$(OUT=$TMP/fn scripts/bench-c10k.sh footnote)
if [[ $foot == *"reps, server on CPUs 0,1; clients (bin/c10k) on CPUs 2,3" ]] && [[ $foot2 == *"reps, nothing pinned" ]] &&
   [[ $foot3 == *"reps, server on root@s, clients on 2 load hosts" ]]; then pass c10k_footnote_pinning
else fail c10k_footnote_pinning "'$foot' / '$foot2' / '$foot3'"; fi
# pin_halves: the sweep's pinning on 4 or more CPUs (none on this machine's 2)
[ "$(pin_halves 0-3)" = "0,1 2,3" ] && [ -z "$(pin_halves 0-1)" ] && pass c10k_pin_halves || fail c10k_pin_halves "'$(pin_halves 0-3)'"
( ulimit -n 256; timeout 60 "$prog" --model "$m" --conns 1000 --reps 1 --settle-ms 100 --out "$TMP/limit.csv" ) 2>"$TMP/limit.err"; rc=$?
reason=$(col "$TMP/limit.csv" 1 stop_reason)
if [ "$rc" -eq 1 ] && grep -q 'RLIMIT_NOFILE' <<<"$reason" && grep -q 'RLIMIT_NOFILE' "$TMP/limit.err"; then
  pass c10k_fd_limit_stop_reason
else
  fail c10k_fd_limit_stop_reason "rc=$rc reason='$reason' stderr=$(head -c 200 "$TMP/limit.err")"
fi
finish
