#!/usr/bin/env bash
# tests/run.sh — runs every test and ends with the summary line
# "N passed, N failed". A test is either a C unit-test program in $TBIN
# (tests/unit_*.c) or a shell script tests/t_*.sh; both print one line per
# check: "PASS name" or "FAIL name: why". A program that dies without saying
# FAIL still counts as one failure.
#
# Environment: BIN (programs, default bin), TBIN (test programs, default
# build/tests), MODELS (default: every model of the registry, as
# scripts/models.sh lists them), SANITIZER (asan|tsan|""), ONLY (a
# substring: run only the tests whose file name holds it).
set -u
cd "$(dirname "$0")/.."
export BIN=${BIN:-bin} TBIN=${TBIN:-build/tests} MODELS=${MODELS:-$(scripts/models.sh | paste -sd " " -)} SANITIZER=${SANITIZER:-}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=99:report_signal_unsafe=0}
ONLY=${ONLY:-}
pass=0 fail=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

run_one() { # name command...
  local name=$1; shift
  local out="$log/out" start=$SECONDS
  "$@" >"$out" 2>"$log/err"
  local rc=$? p f
  p=$(grep -c '^PASS ' "$out"); f=$(grep -c '^FAIL ' "$out")
  grep -E '^(PASS|FAIL) ' "$out" | sed "s|^|  |"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "  FAIL $name: exited $rc without saying why; its stderr ends:"
    tail -n 5 "$log/err" | sed 's|^|    |'
    f=1
  elif [ "$f" -gt 0 ] && [ -s "$log/err" ]; then
    echo "    (stderr of $name ends:)"; tail -n 5 "$log/err" | sed 's|^|    |'
  fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    echo "  FAIL $name: ran no check"; f=1
  fi
  echo "$name: $p passed, $f failed ($((SECONDS - start)) s)"
  pass=$((pass + p)); fail=$((fail + f))
}

for t in "$TBIN"/unit_*; do
  [ -x "$t" ] || continue
  case "$t" in *"$ONLY"*) ;; *) continue ;; esac
  run_one "$(basename "$t")" "$t"
done
for t in tests/t_*.sh; do
  [ -f "$t" ] || continue
  case "$t" in *"$ONLY"*) ;; *) continue ;; esac
  run_one "$(basename "$t" .sh)" bash "$t"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
