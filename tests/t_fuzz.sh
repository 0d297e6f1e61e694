#!/usr/bin/env bash
# The fuzz targets' inputs as regression tests, no libFuzzer needed: for
# every target tests/fuzz/fuzz_NAME.c, $TBIN/replay_NAME (the target linked
# with tests/fuzz/replay.c, mk/fuzz.mk) is fed every seed of
# tests/fuzz/corpus/NAME/ and every saved crash input of
# tests/fuzz/crashes/NAME/ — each whole, byte by byte and in slices, with
# every property the target checks (docs/testing.md, "Fuzzing"). A broken
# property aborts the program: the check names the input and the property.
source "$(dirname "$0")/lib.sh"

for src in tests/fuzz/fuzz_*.c; do
  plan 1
  name=$(basename "$src" .c); name=${name#fuzz_}
  prog="$TBIN/replay_$name"
  seeds=(tests/fuzz/corpus/"$name"/*) crashes=()
  [ -d "tests/fuzz/crashes/$name" ] && crashes=(tests/fuzz/crashes/"$name"/*)
  [ -e "${seeds[0]}" ] || seeds=()
  [ -e "${crashes[0]:-}" ] || crashes=()
  if [ ! -x "$prog" ]; then fail "fuzz_$name: inputs replayed" "no $prog (run make)"; continue; fi
  if [ ${#seeds[@]} -eq 0 ]; then fail "fuzz_$name: inputs replayed" "no seed in tests/fuzz/corpus/$name/"; continue; fi
  timeout 120 "$prog" "${seeds[@]}" "${crashes[@]}" >"$TMP/out" 2>"$TMP/err"; rc=$?
  if [ "$rc" -eq 0 ] && grep -qx "replayed $((${#seeds[@]} + ${#crashes[@]})) inputs" "$TMP/out"; then
    pass "fuzz_$name: ${#seeds[@]} seeds and ${#crashes[@]} saved crash inputs replayed, every property held"
  else
    fail "fuzz_$name: inputs replayed" "exit $rc at $(grep '^replay: ' "$TMP/err" | tail -n 1 | cut -c9-): $(grep -v '^replay: ' "$TMP/err" | head -n 2 | tr '\n' ' ' | cut -c1-300)"
  fi
done
finish
