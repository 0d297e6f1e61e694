# shellcheck shell=bash
# tests/lib.sh — sourced by tests/t_*.sh. A suite announces its checks with
# `plan N`, each check prints "PASS name", "FAIL name: why" or "SKIP name:
# why", and `finish` ends it; tests/run.sh holds the suite to its plans
# (docs/testing.md). The functions (plan, pass, fail, skip, check, finish,
# nested_suite, start_server, stop_server, children_of, $TMP) are scripts/lib.sh's,
# the one shell library of the suite; servers are started on port 0 and
# stopped by the PID we started, never by name.
# MODELS: the models to test (default: every model of the registry).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
TBIN=${TBIN:-build/tests}
MODELS=${MODELS:-$(models_list | paste -sd ' ' -)}

# check_help NAME CMD... — CMD --help is help, not a run that ignored the flag:
# exit 0 within 10 s, nothing on stderr, and a text that lists at least two
# of its flags (--name). ("check NAME CMD --help" wanted exit 0 only, which a
# program that runs its default work and ignores --help also gives.)
check_help() {
  local n=$1 rc flags; shift
  timeout 10 "$@" --help >"$TMP/help.out" 2>"$TMP/help.err"; rc=$?
  flags=$(grep -oE -- '--[a-z][a-z0-9-]+' "$TMP/help.out" | sort -u | wc -l)
  if [ "$rc" -eq 0 ] && [ ! -s "$TMP/help.err" ] && [ "$flags" -ge 2 ]; then pass "$n"
  else fail "$n" "exit $rc, $flags flags listed, stderr: $(head -c 150 "$TMP/help.err"), stdout: $(head -c 150 "$TMP/help.out" | tr '\n' ' ')"; fi
}
