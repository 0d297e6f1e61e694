#!/usr/bin/env bash
# tests/t_demos.sh — every classroom demo runs and its output tells the story
# it is meant to tell: the right order, and timings inside generous windows
# (a shared 2-core machine is noisy; these are lessons, not benchmarks).
source "$(dirname "$0")/lib.sh"

DEMOS="schedule cancel timeout blocking cpu spawn c10k"

# in_range NAME VALUE LO HI — pass if LO <= VALUE <= HI (decimals allowed)
in_range() {
  if [ -n "$2" ] && awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
    pass "$1"
  else
    fail "$1" "got '${2}', want [$3, $4]"
  fi
}

# first_with_unit UNIT... — for each UNIT, the model a demo's "--model all"
# runs as: the first of the registry whose about.txt unit is UNIT
first_with_unit() {
  local u m
  for u in "$@"; do
    for m in $(models_list); do [ "$(scripts/models.sh --about "$m" unit)" = "$u" ] && { echo "$m"; break; }; done
  done | paste -sd ' ' -
}

# demo_kinds DEMO FLAG — the values a demo's --model/--kind flag lists in its
# --help ("-m, --model M   A, B, C or all"), "all" left out: the
# demos implement their own kinds, and say which
demo_kinds() {
  "$BIN/demo-$1" --help 2>/dev/null | sed -n "s/.*--$2 [A-Z] *//p" | head -n 1 |
    sed 's/^[^:]*: //; s/ *(default.*//; s/ or all$//; s/ or /, /; s/,/ /g' | tr -s ' ' | sed 's/^ //; s/ $//'
}

# every demo: --help, an unknown flag, a malformed value
for d in $DEMOS; do
  p="$BIN/demo-$d"
  plan 2
  if [ ! -x "$p" ]; then fail "demo_$d built" "$p missing"; continue; fi
  check_help "demo_${d}_help" "$p"
  "$p" --no-such-flag >"$TMP/o" 2>"$TMP/e"; rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ] && grep -q -- '--no-such-flag' "$TMP/e"; then
    pass "demo_${d}_bad_flag"
  else
    fail "demo_${d}_bad_flag" "rc=$rc stderr=$(head -c 200 "$TMP/e")"
  fi
done
for d in schedule cancel cpu c10k; do
  plan 1
  "$BIN/demo-$d" --model nosuch >/dev/null 2>"$TMP/e"; rc=$?
  if [ "$rc" -eq 2 ] && grep -q -- '--model' "$TMP/e"; then pass "demo_${d}_bad_model"; else fail "demo_${d}_bad_model" "rc=$rc"; fi
done

plan 2
# the list
scripts/demo.sh >"$TMP/list" 2>&1
missing=""
for d in $DEMOS; do grep -q "make demo-$d " "$TMP/list" || missing="$missing $d"; done
if [ -z "$missing" ]; then pass demo_list; else fail demo_list "not listed:$missing"; fi
BIN=$BIN scripts/demo.sh nosuch >/dev/null 2>&1
[ $? -eq 2 ] && pass demo_list_unknown || fail demo_list_unknown "want exit 2 for an unknown demo"

# total TAG — the seconds on the "total X s  [TAG]" line
total() { sed -n "s/.* total \([0-9.]*\) s  \[$1\]$/\1/p" "$TMP/sched"; }

# schedule: 3 s one after the other, 2 s concurrently, Hello before Hi
plan 4 # runs, sequential, Hello before Hi, timestamps
if timeout 30 "$BIN/demo-schedule" >"$TMP/sched" 2>&1; then pass demo_schedule_runs; else fail demo_schedule_runs "exit $?"; fi
in_range demo_schedule_sequential "$(total 'sequential loop')" 2.8 4.5
for m in $(first_with_unit coroutine thread process); do
  plan 1
  in_range "demo_schedule_concurrent_$m" "$(total "concurrent $m")" 1.8 3.2
done
order=$(awk '/^== /{s++} / Hello!$/{print s":H"} / Hi!$/{print s":h"}' "$TMP/sched" | tr '\n' ' ')
if [ "$order" = "1:H 1:h 2:H 2:h 3:H 3:h 4:H 4:h " ]; then pass demo_schedule_hello_before_hi
else fail demo_schedule_hello_before_hi "order: $order"; fi
lines=$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} ' "$TMP/sched")
[ "$lines" -ge 16 ] && pass demo_schedule_timestamps || fail demo_schedule_timestamps "$lines stamped lines"

# cancel: no "working" after the cancel; the loop worker saw ECANCELED
for m in $(first_with_unit coroutine thread); do
  plan 2
  if timeout 20 "$BIN/demo-cancel" --model "$m" --every-ms 250 --after-ms 900 >"$TMP/cancel" 2>&1; then
    pass "demo_cancel_${m}_runs"; else fail "demo_cancel_${m}_runs" "exit $?"; fi
  verdict=$(awk '/cancel/ && /main:/ {c=1} /working/ {if (c) bad=1; else w++}
                 /cleaning up/ {if (c) clean=1}
                 END { if (bad) print "working after cancel"; else if (w < 2) print "only " w+0 " working lines";
                       else if (!clean) print "no cleanup after cancel"; else print "ok" }' "$TMP/cancel")
  [ "$verdict" = ok ] && pass "demo_cancel_${m}_stops" || fail "demo_cancel_${m}_stops" "$verdict"
done
plan 1
timeout 20 "$BIN/demo-cancel" --model loop --every-ms 250 --after-ms 900 >"$TMP/cancel" 2>&1
grep -q 'co_sleep failed with ECANCELED' "$TMP/cancel" && pass demo_cancel_ecanceled || fail demo_cancel_ecanceled "no ECANCELED line"

# timeout: the 1 s deadline fires at about 1 s; the fast request succeeds
targets=local
[ -x "$BIN/fetchd" ] && targets="fetchd local"
for t in $targets; do
  plan 3
  if timeout 20 "$BIN/demo-timeout" --target "$t" >"$TMP/tmo" 2>&1; then pass "demo_timeout_${t}_runs"; else fail "demo_timeout_${t}_runs" "exit $?"; fi
  in_range "demo_timeout_${t}_deadline" "$(sed -n 's/.*timed out after \([0-9.]*\) s (ETIMEDOUT).*/\1/p' "$TMP/tmo")" 0.9 2.0
  grep -q 'got 100 bytes after' "$TMP/tmo" && pass "demo_timeout_${t}_fits" || fail "demo_timeout_${t}_fits" "$(tail -n 1 "$TMP/tmo")"
done

# blocking: lateness large while blocked, small after the fix
worst() { sed -n "s/.*worst lateness \([0-9.]*\) ms  \[$1\]$/\1/p" "$TMP/blk"; }
plan 5
if timeout 40 "$BIN/demo-blocking" --phase-ms 1600 --block-ms 800 >"$TMP/blk" 2>&1; then pass demo_blocking_runs; else fail demo_blocking_runs "exit $?"; fi
in_range demo_blocking_sleep_late "$(worst 'sleep blocking')" 400 5000
in_range demo_blocking_sleep_fixed "$(worst 'sleep fixed')" 0 200
in_range demo_blocking_cpu_late "$(worst 'cpu blocking')" 300 5000
in_range demo_blocking_cpu_fixed "$(worst 'cpu fixed')" 0 200

# cpu: coroutines finish one after another and never use more than one core
plan 4
if timeout 40 "$BIN/demo-cpu" --job-ms 300 >"$TMP/cpu" 2>&1; then pass demo_cpu_runs; else fail demo_cpu_runs "exit $?"; fi
kinds=$(first_with_unit coroutine thread process)
rows=$(grep -cE "^(${kinds// /|}) +[0-9.]+ +[0-9.]+ +[0-9.]+\$" "$TMP/cpu")
[ "$rows" -eq "$(wc -w <<<"$kinds")" ] && pass demo_cpu_table || fail demo_cpu_table "$rows rows for kinds '$kinds'"
in_range demo_cpu_loop_one_core "$(awk '$1 == "loop" {print $4}' "$TMP/cpu")" 0 1.2
order=$(awk '/^== loop/{s=1; next} /^== /{s=0} s && /worker [0-9]+ done/ {for (i=1;i<=NF;i++) if ($i=="worker") printf "%s ", $(i+1)}' "$TMP/cpu")
[ "$order" = "0 1 2 3 " ] && pass demo_cpu_loop_in_turn || fail demo_cpu_loop_in_turn "finish order: $order"

# spawn: each kind creates its units; memory per unit is reported
plan 3 # runs, --no-mem, hyperfine
if timeout 60 "$BIN/demo-spawn" --count 300 >"$TMP/spawn" 2>&1; then pass demo_spawn_runs; else fail demo_spawn_runs "exit $?"; fi
kinds=$(demo_kinds spawn kind)
for k in $kinds; do
  plan 1
  grep -qE "^[0-9:.]+ $k: 300 [a-z]+ created and finished in" "$TMP/spawn" &&
    grep -qE "^[0-9:.]+ $k: all alive: PSS \+[0-9.]+ KiB each" "$TMP/spawn" &&
    pass "demo_spawn_$k" || fail "demo_spawn_$k" "$(grep " $k:" "$TMP/spawn" | tail -n 1)"
done
check demo_spawn_no_mem timeout 60 "$BIN/demo-spawn" --count 300 --no-mem
if command -v hyperfine >/dev/null; then
  if BIN=$BIN timeout 120 scripts/demo-spawn.sh --count 200 --runs 2 >"$TMP/hf" 2>&1 &&
     [ "$(grep -cE "^(${kinds// /|}) +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+\$" "$TMP/hf")" -eq "$(wc -w <<<"$kinds")" ]; then pass demo_spawn_hyperfine
  else fail demo_spawn_hyperfine "$(tail -n 2 "$TMP/hf" | tr '\n' ' ')"; fi
else skip demo_spawn_hyperfine "hyperfine is not installed (make deps)"
fi

# c10k at a small N, no chart: every connection made, server stopped cleanly
for m in $MODELS; do
  plan 4
  if [ ! -x "$BIN/echo-$m" ]; then fail "demo_c10k_$m" "$BIN/echo-$m missing"; continue; fi
  if timeout 60 "$BIN/demo-c10k" --model "$m" --conns 200 --rate 2000 --hold-ms 300 --no-chart >"$TMP/c10k" 2>&1; then
    pass "demo_c10k_${m}_runs"; else fail "demo_c10k_${m}_runs" "exit $?: $(tail -n 1 "$TMP/c10k")"; fi
  grep -q 'result: 200 of 200 connections established' "$TMP/c10k" && pass "demo_c10k_${m}_conns" ||
    fail "demo_c10k_${m}_conns" "$(grep result: "$TMP/c10k")"
  grep -q 'server stopped with SIGTERM: exit status 0' "$TMP/c10k" && pass "demo_c10k_${m}_stops" ||
    fail "demo_c10k_${m}_stops" "$(tail -n 1 "$TMP/c10k")"
  pss=$(sed -n 's/.*result: .* server PSS \([0-9.]*\) MiB.*/\1/p' "$TMP/c10k")
  in_range "demo_c10k_${m}_pss" "$pss" 0.01 100000
done
finish
