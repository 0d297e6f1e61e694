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
