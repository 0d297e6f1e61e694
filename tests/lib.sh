# tests/lib.sh — sourced by tests/t_*.sh. Each check prints "PASS name" or
# "FAIL name: why"; tests/run.sh counts them. The functions (pass, fail,
# check, start_server, stop_server, children_of, $TMP) are scripts/lib.sh's,
# the one shell library of the suite; servers are started on port 0 and
# stopped by the PID we started, never by name.
# MODELS: the models to test (default: every model of the registry).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
TBIN=${TBIN:-build/tests}
MODELS=${MODELS:-$(models_list | paste -sd ' ' -)}
