#!/usr/bin/env bash
# tests/t_scripts.sh — the shell side's shared pieces: scripts/lib.sh (start a
# program under test, wait for its ready line, stop it; one message format for
# one that does not get ready or does not stop) and scripts/meta.sh (every
# benchmark's meta.txt: the same keys in the same order).
source "$(dirname "$0")/lib.sh"
root=$(pwd)
plan 13

# --- lib.sh: start_server / stop_server -------------------------------------------
if start_server echo "$BIN/echo-epoll" --port 0 && [ -n "$SPORT" ]; then
  pid=$SPID
  stop_server "$pid"
  [ "$SRC" = 0 ] && ! kill -0 "$pid" 2>/dev/null && pass "lib: a server started, its port read, stopped with exit 0" \
    || fail "lib: a server started, its port read, stopped with exit 0" "SRC=$SRC"
else fail "lib: a server started, its port read" "${SERR:-}"; fi

# exits before its ready line: at once, not after the deadline, with its status and stderr
start=$SECONDS
start_server early bash -c 'echo "no config here" >&2; exit 3' 2>"$TMP/early.msg"; rc=$?
if [ "$rc" = 1 ] && [ $((SECONDS - start)) -lt 3 ] &&
   grep -qE '^early \(pid [0-9]+\) did not get ready: exited with status 3 before its ready line \(stderr ends: no config here\)$' "$TMP/early.msg"; then
  pass "lib: a program that exits early is reported at once, in the one format"
else fail "lib: a program that exits early is reported at once, in the one format" "rc=$rc $(cat "$TMP/early.msg")"; fi

# never prints its ready line: killed after READY_S, reported
READY_S=1 start_server silent sleep 30 2>"$TMP/silent.msg"; rc=$?; spid=$SPID
if [ "$rc" = 1 ] && ! kill -0 "$spid" 2>/dev/null &&
   grep -qE '^silent \(pid [0-9]+\) did not get ready: printed no ready line within 1 s$' "$TMP/silent.msg"; then
  pass "lib: a program with no ready line is killed after READY_S and reported"
else fail "lib: a program with no ready line is killed after READY_S and reported" "rc=$rc $(cat "$TMP/silent.msg")"; fi

# ignores SIGTERM: SIGKILL after STOP_S, SRC 124, reported
start_server stubborn bash -c 'trap "" TERM; echo "listening on 127.0.0.1:9"; while :; do sleep 0.1; done'
old_stop=$STOP_S; STOP_S=1
stop_server "$SPID" 2>"$TMP/stubborn.msg"; STOP_S=$old_stop
if [ "$SRC" = 124 ] && grep -qE '^stubborn \(pid [0-9]+\) did not stop within 1 s of SIGTERM: killed with SIGKILL$' "$TMP/stubborn.msg"; then
  pass "lib: a program that ignores SIGTERM is killed, SRC 124, reported"
else fail "lib: a program that ignores SIGTERM is killed, SRC 124, reported" "SRC=$SRC $(cat "$TMP/stubborn.msg")"; fi

# --- meta.sh -------------------------------------------------------------------------
keys="commit dirty date kernel cpu cores memory_kib compiler flags pinning load_start"
mkdir -p "$TMP/elsewhere"
# ... which is a git repository of its own, with another commit: the commit
# recorded must be the source tree's, not the one of the directory run from
git -C "$TMP/elsewhere" init -q && git -C "$TMP/elsewhere" -c user.name=t -c user.email=t@example.invalid \
  commit -q --allow-empty -m elsewhere
# from another directory, the file relative to it
(cd "$TMP/elsewhere" && "$root/scripts/meta.sh" run/meta.txt --set pinning="server on CPU 1" --set reps=3 \
   --set 'note=two
lines' --command "bin/x --a 1" --command "bin/y") 2>"$TMP/meta.err"
m=$TMP/elsewhere/run/meta.txt
got=$(cut -d: -f1 "$m" 2>/dev/null | paste -sd ' ' -)
[ "$got" = "$keys reps note command command" ] && pass "meta: the keys in their order, then --set, then commands (from any cwd)" \
  || fail "meta: the keys in their order, then --set, then commands (from any cwd)" "got '$got' $(cat "$TMP/meta.err")"
grep -qx "pinning: server on CPU 1" "$m" && grep -qx "note: two lines" "$m" && grep -qx "command: bin/y" "$m" &&
  grep -qE '^date: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$m" && grep -qE '^dirty: (yes|no)$' "$m" &&
  grep -qE '^kernel: Linux ' "$m" && grep -qE '^memory_kib: [0-9]+$' "$m" &&
  pass "meta: values (a standard key set in place, one line each, UTC date, kernel from uname -sr)" ||
  fail "meta: values" "$(tr '\n' '|' <"$m")"
# Not by the command meta.sh runs: the full hash from git log, of which the
# recorded one must be a prefix (7 or more hex digits), and not the other repository's.
rec=$(sed -n 's/^commit: //p' "$m")
full=$(git -C "$root" log -1 --format=%H 2>/dev/null) other=$(git -C "$TMP/elsewhere" log -1 --format=%H)
[[ $rec =~ ^[0-9a-f]{7,40}$ ]] && [ "${full#"$rec"}" != "$full" ] && [ "${other#"$rec"}" = "$other" ] &&
  pass "meta: the commit of the source tree ($rec), not of the directory it runs from" ||
  fail "meta: the commit of the source tree, not of the directory it runs from" "recorded '$rec'; the tree's $full; the cwd's $other"
scripts/meta.sh --finish "$m"
[ "$(tail -n 2 "$m" | cut -d: -f1 | paste -sd ' ' -)" = "load_end duration_s" ] && grep -qE '^duration_s: [0-9]+$' "$m" &&
  pass "meta: --finish appends load_end and duration_s" || fail "meta: --finish appends load_end and duration_s" "$(tail -n 2 "$m" | tr '\n' '|')"
for bad in "--set nokey" "--set Bad=1" "--frob" "--set"; do
  # shellcheck disable=SC2086
  scripts/meta.sh "$TMP/bad.txt" $bad >/dev/null 2>"$TMP/bad.err"; rc=$?
  [ "$rc" = 2 ] && [ "$(wc -l <"$TMP/bad.err")" = 1 ] && [ ! -e "$TMP/bad.txt" ] && pass "meta: '$bad' is one line and exit 2" \
    || fail "meta: '$bad' is one line and exit 2" "rc=$rc $(cat "$TMP/bad.err")"
done
scripts/meta.sh --finish "$TMP/none.txt" 2>"$TMP/bad.err"; rc=$?
[ "$rc" = 1 ] && grep -q 'does not exist' "$TMP/bad.err" && pass "meta: --finish on a missing file is a clear error" \
  || fail "meta: --finish on a missing file is a clear error" "rc=$rc $(cat "$TMP/bad.err")"

# --- lib.sh: pin_halves, the default CPU sets on 4 or more cores ----------------------
# (this machine may have 2: the lists are given, as cpu_list would read them)
plan 3
got=$(pin_halves 0-7)
[ "$got" = "0,1,2,3 4,5,6,7" ] && pass "pin_halves: 8 CPUs, the server on the first half, the load on the rest" \
  || fail "pin_halves: 8 CPUs, the server on the first half, the load on the rest" "got '$got'"
got=$(pin_halves 2-4,7,9)
[ "$got" = "2,3 4,7,9" ] && pass "pin_halves: an affinity with gaps, 5 CPUs: disjoint sets, every CPU used" \
  || fail "pin_halves: an affinity with gaps, 5 CPUs: disjoint sets, every CPU used" "got '$got'"
got=$(pin_halves 0-2)$(pin_halves 0-1)
[ -z "$got" ] && pass "pin_halves: 3 or 2 CPUs: nothing pinned" || fail "pin_halves: 3 or 2 CPUs: nothing pinned" "got '$got'"
finish
