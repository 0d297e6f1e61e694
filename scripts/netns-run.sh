#!/usr/bin/env bash
# netns-run.sh — run a command across hosts made of network namespaces on
# this machine (scripts/netns-hosts.sh): a runner, a server host and two load
# hosts joined by a bridge, each with its sshd and throwaway keys. The command
# runs in the runner's namespace with SSH_CONFIG and HOSTS_DIR set and the
# hosts' names in NS_SRV, NS_L1, NS_L2 (root@ADDRESS); everything is removed
# afterwards. How docs/hosts.md's figures were measured:
#
#   scripts/netns-run.sh sh -c 'make bench-churn SERVER_HOST=$NS_SRV LOAD_HOSTS="$NS_L1 $NS_L2"'
#
# Environment: HOSTS_DIR (default: a folder removed afterwards; give one to keep
# the hosts' builds for the next run), NSH_CPUS_srv, NSH_CPUS_l1, NSH_CPUS_l2 (e.g. "0"): a host's CPU
# set (its sshd, so everything started through it, runs there). Needs root,
# `ip netns` and sshd (make deps). Exit status: the command's; 1 if the hosts
# could not be made.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
source scripts/netns-hosts.sh
case "${1:-}" in -h|--help|"") sed -n '2,15s/^# \{0,1\}//p' "$0"; [ -n "${1:-}" ]; exit $? ;; esac
why=$(nsh_available) || { echo "netns-run.sh: cannot make namespace hosts: $why" >&2; exit 1; }
nsh_up run srv l1 l2 || { echo "netns-run.sh: the namespace hosts did not come up" >&2; exit 1; }
nsh_exec run env SSH_CONFIG="$NSH_SSH_CONFIG" HOSTS_DIR="${HOSTS_DIR:-$NSH_DIR/hosts}" \
  NS_SRV="root@$(nsh_addr srv)" NS_L1="root@$(nsh_addr l1)" NS_L2="root@$(nsh_addr l2)" "$@"
