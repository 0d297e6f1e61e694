#!/usr/bin/env bash
# tests/run.sh — runs every test and ends with the summary line
# "N passed, N failed, N skipped". A test (a "suite") is either a C unit-test
# program in $TBIN, one per tests/unit_*.c, or a shell script tests/t_*.sh.
# Both speak one protocol on stdout (docs/testing.md; tests/check.h, lib.sh):
#
#   PLAN N                 N more checks to come (said once, or once per loop turn)
#   PASS name              a check held
#   FAIL name: why         a check failed
#   SKIP name: why         a check that could not run here (never a PASS)
#   END                    the suite ran to its end
#
# Every other line is the suite's own (info, measurements) and is not shown.
# Beyond its own FAIL lines, a suite fails (one line "FAIL SUITE: why") when
# it printed no PLAN; its PASS+FAIL+SKIP lines differ from the sum of its
# PLANs; its last protocol line is not END; it exited non-zero without a
# FAIL; or it ran past its timeout (its whole process group is then killed).
# A tests/unit_*.c without its program in $TBIN is a failure too.
#
# Timeouts: TEST_TIMEOUT seconds (default 300) unless the suite's source
# declares its own in a line "# timeout: N" (shell) or "/* timeout: N */"
# (C); under a sanitizer (SANITIZER set) every timeout is multiplied by
# TEST_TIMEOUT_SCALE (default 4 there, 1 otherwise).
#
# Environment: BIN (programs, default bin), TBIN (test programs, default
# build/tests), MODELS (default: every model of the registry, as
# scripts/models.sh lists them), SANITIZER (asan|tsan|""), ONLY (a
# substring: run only the tests whose file name holds it).
set -u
cd "$(dirname "$0")/.." || exit 1
export BIN=${BIN:-bin} TBIN=${TBIN:-build/tests} MODELS=${MODELS:-$(scripts/models.sh | paste -sd " " -)} SANITIZER=${SANITIZER:-}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=99:report_signal_unsafe=0}
ONLY=${ONLY:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
if [ -n "$SANITIZER" ]; then TEST_TIMEOUT_SCALE=${TEST_TIMEOUT_SCALE:-4}; else TEST_TIMEOUT_SCALE=${TEST_TIMEOUT_SCALE:-1}; fi
pass=0 fail=0 skip=0 suites=0
log=$(mktemp -d)
groups=() # the process groups of the suite running now and of its watchdog: SIGTERM, SIGKILL
trap 'rm -rf "$log"' EXIT
# Interrupted (Ctrl-C reaches only the runner: each suite has a session of its
# own), stop the running suite the way its timeout would, then leave.
trap '[ ${#groups[@]} -eq 0 ] || { kill -TERM -- "-${groups[0]}"; kill -KILL -- "-${groups[1]}"; } 2>/dev/null
      echo "run.sh: interrupted" >&2; exit 130' INT TERM

# timeout_of SOURCE — the suite's timeout in seconds: its "timeout: N" line or
# TEST_TIMEOUT, times TEST_TIMEOUT_SCALE
timeout_of() {
  local n
  n=$(sed -nE 's@^(#|/\*|//) *timeout: *([0-9]+).*@\2@p' "$1" 2>/dev/null | head -n 1)
  echo $(( ${n:-$TEST_TIMEOUT} * TEST_TIMEOUT_SCALE ))
}

# run_grouped LIMIT OUT ERR COMMAND... — run COMMAND in a session and process
# group of its own, stdout to OUT, stderr to ERR; past LIMIT seconds the group
# gets SIGTERM (the shell suites' EXIT traps clean up), 5 s later SIGKILL.
# Whatever the suite left running in its group is killed when it ends. Sets
# RC and TIMED_OUT.
#
# No `wait PID`: bash 5.2 sometimes loses a child that exits while it forks
# the next one (the watchdog), and then waits until that one ends (7 hangs
# in 40 runs of a suite that takes no time). A wrapper shell, the group's
# leader, writes the suite's exit status to a file; we poll for it.
run_grouped() {
  local limit=$1 out=$2 err=$3; shift 3
  rm -f "$log/rc" "$log/timed-out"
  setsid bash -c 'rc=$1; shift; "$@"; echo $? >"$rc"' suite "$log/rc" "$@" >"$out" 2>"$err" </dev/null &
  local pid=$!
  setsid bash -c 'sleep "$1"; : >"$2"; kill -TERM -- "-$3"; sleep 5; kill -KILL -- "-$3"' \
    watchdog "$limit" "$log/timed-out" "$pid" >/dev/null 2>&1 </dev/null &
  local dog=$!
  disown "$pid" "$dog" # their ends are ours to report, not bash's job notices
  groups=("$pid" "$dog")
  while [ ! -s "$log/rc" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  kill -KILL -- "-$dog" 2>/dev/null
  kill -KILL -- "-$pid" 2>/dev/null
  groups=()
  RC=$(cat "$log/rc" 2>/dev/null) || RC=137 # no status written: the wrapper was killed
  TIMED_OUT=0
  [ -e "$log/timed-out" ] && TIMED_OUT=1
}

# verdict OUT RC TIMED_OUT LIMIT — why the suite as a whole failed, or nothing
verdict() {
  local out=$1 rc=$2 timed_out=$3 limit=$4 why=() planned plans checks last f
  read -r plans planned < <(awk '/^PLAN [0-9]+$/ { n++; s += $2 } END { print n + 0, s + 0 }' "$out")
  checks=$(grep -cE '^(PASS|FAIL|SKIP) ' "$out")
  f=$(grep -c '^FAIL ' "$out")
  last=$(grep -E '^(PLAN [0-9]+|END)$|^(PASS|FAIL|SKIP) ' "$out" | tail -n 1)
  if [ "$timed_out" -eq 1 ]; then
    echo "still running after its timeout of $limit s (its process group was killed after $checks of $planned planned checks)"
    return
  fi
  [ "$plans" -gt 0 ] || why+=("printed no PLAN line")
  [ "$plans" -eq 0 ] || [ "$checks" -eq "$planned" ] ||
    why+=("planned $planned checks but reported $checks (PASS+FAIL+SKIP)")
  [ "$last" = END ] || why+=("did not reach END (exit status $rc)")
  [ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || why+=("exited $rc without a FAIL line")
  [ ${#why[@]} -eq 0 ] || printf '%s; ' "${why[@]}" | sed 's/; $//'
}

# run_one NAME SOURCE COMMAND... — run one suite, show its PASS/FAIL/SKIP
# lines and its one-line tally, add them to the totals
run_one() {
  local name=$1 src=$2; shift 2
  local out="$log/out" err="$log/err" start=$SECONDS limit p f s why
  limit=$(timeout_of "$src")
  run_grouped "$limit" "$out" "$err" "$@"
  p=$(grep -c '^PASS ' "$out"); f=$(grep -c '^FAIL ' "$out"); s=$(grep -c '^SKIP ' "$out")
  grep -E '^(PASS|FAIL|SKIP) ' "$out" | sed "s|^|  |"
  why=$(verdict "$out" "$RC" "$TIMED_OUT" "$limit")
  if [ -n "$why" ]; then
    echo "  FAIL $name: $why"; f=$((f + 1))
  fi
  if [ "$f" -gt 0 ] && [ -s "$err" ]; then
    echo "    (stderr of $name ends:)"; tail -n 5 "$err" | sed 's|^|    |'
  fi
  echo "$name: $p passed, $f failed, $s skipped ($((SECONDS - start)) s)"
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s)); suites=$((suites + 1))
}

# A unit test is its source: a tests/unit_*.c whose program is missing fails.
for src in tests/unit_*.c; do
  name=$(basename "$src" .c)
  case "$src" in *"$ONLY"*) ;; *) continue ;; esac
  if [ ! -x "$TBIN/$name" ]; then
    echo "  FAIL $name: no program $TBIN/$name for $src (not built?)"
    echo "$name: 0 passed, 1 failed, 0 skipped"
    fail=$((fail + 1)); suites=$((suites + 1)); continue
  fi
  run_one "$name" "$src" "$TBIN/$name"
done
for t in tests/t_*.sh; do
  [ -f "$t" ] || continue
  case "$t" in *"$ONLY"*) ;; *) continue ;; esac
  run_one "$(basename "$t" .sh)" "$t" bash "$t"
done
if [ "$suites" -eq 0 ]; then
  echo "  FAIL run.sh: ONLY='$ONLY' matches no tests/unit_*.c nor tests/t_*.sh"; fail=$((fail + 1))
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
