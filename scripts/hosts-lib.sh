# shellcheck shell=bash
# scripts/hosts-lib.sh — what a runner sources to run across hosts
# (scripts/hosts.sh does the work; docs/hosts.md says how):
#
#   hosts_up OUT MODEL...   every host reached, shipped, built, checked; the path
#                           measured into OUT/hosts.txt; the masters closed on exit
#   hosts_finish OUT        OUT/hosts.txt into OUT/meta.txt; if a host was lost,
#                           its one line last, and status 1
#   hosts_bench OUT         for a runner over bin/bench: nothing when neither
#                           SERVER_HOST nor LOAD_HOSTS is set (HOST_ARGS empty);
#                           else hosts_up with bench, loadgen and every echo
#                           server, and HOST_ARGS the flags that make bin/bench
#                           run its servers and load there
#
# It exports what scripts/hosts.sh needs in the programs the runner starts:
# SERVER_HOST, LOAD_HOSTS, SERVER_ADDR, SSH_CONFIG, HOSTS_DIR, HOSTS_CTL,
# HOSTS_KEEP (OUT/loads: every load host's dump of every run, and the merge).
hosts_up() {
  local out=$1; shift
  export SERVER_HOST=${SERVER_HOST:-} LOAD_HOSTS=${LOAD_HOSTS:-}
  export SERVER_ADDR=${SERVER_ADDR:-${SERVER_HOST#*@}} SSH_CONFIG=${SSH_CONFIG:-}
  export HOSTS_DIR=${HOSTS_DIR:-c10k-lab-hosts}
  # the sockets' path must stay short (108 bytes): not under a long TMPDIR
  HOSTS_CTL=$(mktemp -d /tmp/c10k-ssh.XXXXXX) || return 1
  export HOSTS_CTL HOSTS_KEEP=$out/loads
  lib_on_exit "'$C10K_ROOT/scripts/hosts.sh' down; rm -rf '$HOSTS_CTL'"
  rm -rf "$HOSTS_KEEP"
  "$C10K_ROOT/scripts/hosts.sh" up "$out" "$@"
}

hosts_finish() {
  local out=$1
  [ -f "$out/hosts.txt" ] && [ -f "$out/meta.txt" ] && cat "$out/hosts.txt" >>"$out/meta.txt"
  if [ -s "$HOSTS_CTL/error" ]; then
    echo "$(basename "$0"): $(cat "$HOSTS_CTL/error")" >&2
    return 1
  fi
  return 0
}

HOST_ARGS=()
hosts_bench() {
  [ -n "${SERVER_HOST:-}${LOAD_HOSTS:-}" ] || return 0
  # shellcheck disable=SC2046
  hosts_up "$1" bin/bench bin/loadgen $(models_list | sed 's|^|bin/echo-|') || return 1
  HOST_ARGS=(--server-cmd "scripts/hosts.sh run $SERVER_HOST" --load-cmd "scripts/hosts.sh load"
             --bind "$SERVER_ADDR" --port "${SERVER_PORT:-0}")
}
