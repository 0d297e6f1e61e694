# shellcheck shell=bash
# scripts/netns-hosts.sh — hosts made of network namespaces on this machine,
# for tests/t_hosts.sh and for measuring the method (docs/hosts.md). Sourced
# after scripts/lib.sh; needs root, `ip netns` and sshd.
#
#   nsh_up NAME...     one namespace per NAME, each joined to a switch
#                      namespace (a bridge) by a veth pair, with an address
#                      from NSH_NET; an sshd in each host listening on that
#                      address only, with a throwaway host key and a throwaway
#                      client key; NSH_SSH_CONFIG is the client's ssh_config.
#                      NSH_CPUS_NAME="0" puts a host's sshd, so everything
#                      it starts, on those CPUs; NSH_SSHD_NAME="LINE" adds a
#                      line to its sshd_config (SetEnv PATH=/nonexistent: a
#                      host without a compiler).
#   nsh_addr NAME      the host's address          nsh_ns NAME   its namespace
#   nsh_exec NAME CMD  CMD inside the host's namespace
#   nsh_pids NAME      the PIDs in the host's namespace, its sshd listener left out
#   nsh_kill_sshd NAME stop the host's sshd and its sessions (the host "dies")
#                      Each host reuses TIME_WAIT ports for its own connects
#                      (net.ipv4.tcp_tw_reuse=1, its namespace's own setting).
#   nsh_down           remove everything nsh_up made: sshd processes by PID,
#                      namespaces (their veths go with them), keys
#
# The only addresses used are NSH_NET's (10.231.77.0/24), only inside these
# namespaces: the machine's own network is not touched.
NSH_NET=10.231.77
NSH_TAG=$(( $$ % 100000 ))
NSH_DIR=""
NSH_SSH_CONFIG=""
declare -gA _nsh_addr=() _nsh_sshd=()
_nsh_names=()

nsh_ns() { echo "c10kh$NSH_TAG-$1"; }
nsh_addr() { echo "${_nsh_addr[$1]}"; }
nsh_exec() { local n=$1; shift; ip netns exec "$(nsh_ns "$n")" "$@"; }

# nsh_available — 0 if this machine can make namespace hosts, else 1 with the reason on stdout
nsh_available() {
  [ "$(id -u)" -eq 0 ] || { echo "not root"; return 1; }
  ip netns list >/dev/null 2>&1 || { echo "ip netns is missing"; return 1; }
  [ -x /usr/sbin/sshd ] || { echo "sshd is missing (make deps, or apt-get install openssh-server)"; return 1; }
  command -v ssh-keygen >/dev/null || { echo "ssh-keygen is missing"; return 1; }
  return 0
}

nsh_up() {
  local sw i=0 n ns a v
  NSH_DIR=$(mktemp -d /tmp/c10k-nsh.XXXXXX) || return 1
  lib_on_exit nsh_down
  sw=$(nsh_ns sw)
  ip netns add "$sw" || return 1
  _nsh_names+=(sw)
  ip -n "$sw" link add br0 type bridge && ip -n "$sw" link set br0 up || return 1
  ssh-keygen -q -t ed25519 -N '' -f "$NSH_DIR/hostkey" -C c10k-throwaway-host &&
    ssh-keygen -q -t ed25519 -N '' -f "$NSH_DIR/id" -C c10k-throwaway-client || return 1
  cp "$NSH_DIR/id.pub" "$NSH_DIR/authorized_keys"
  # sshd wants its privilege-separation folder at every connection; made
  # here if missing and left: another run's sshd on this machine may need it
  # after we are done (removing it reset their connections at random). The
  # file in it keeps older copies of this script, which rmdir it, from doing so.
  mkdir -p /run/sshd && touch /run/sshd/.c10k-lab-keep
  for n in "$@"; do
    i=$((i + 1))
    ns=$(nsh_ns "$n") a="$NSH_NET.$i" v="h$NSH_TAG$i"
    ip netns add "$ns" || return 1
    _nsh_names+=("$n")
    ip link add "${v}a" netns "$ns" type veth peer name "${v}b" netns "$sw" || return 1
    ip -n "$sw" link set "${v}b" master br0 up &&
      ip -n "$ns" addr add "$a/24" dev "${v}a" && ip -n "$ns" link set "${v}a" up &&
      ip -n "$ns" link set lo up || return 1
    # a namespace's TCP settings are its own: as the loopback has them here
    # (TIME_WAIT ports reused for new connections out, tcp_tw_reuse=2 does
    # it on loopback only), so that churn at one message per connection does
    # not run out of ports in 60 s; docs/hosts.md says what a real network needs
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 || return 1
    _nsh_addr[$n]=$a
    cat >"$NSH_DIR/sshd-$n.conf" <<EOF
ListenAddress $a
Port 22
HostKey $NSH_DIR/hostkey
AuthorizedKeysFile $NSH_DIR/authorized_keys
PidFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
ClientAliveInterval 1
ClientAliveCountMax 3
MaxSessions 64
MaxStartups 64
EOF
    local extra="NSH_SSHD_$n"
    [ -n "${!extra:-}" ] && echo "${!extra}" >>"$NSH_DIR/sshd-$n.conf"
    local cpus_var="NSH_CPUS_$n" pin=()
    [ -n "${!cpus_var:-}" ] && pin=(taskset -c "${!cpus_var}")
    # nsenter, not `ip netns exec`: that one mounts a fresh /sys without
    # /sys/fs/cgroup, and bench-c10k measures the server in a memory cgroup there
    nsenter --net="/run/netns/$ns" "${pin[@]}" /usr/sbin/sshd -D -e -f "$NSH_DIR/sshd-$n.conf" 2>"$NSH_DIR/sshd-$n.log" &
    _nsh_sshd[$n]=$!
    echo "$a $(cut -d' ' -f1-2 "$NSH_DIR/hostkey.pub")" >>"$NSH_DIR/known_hosts"
  done
  NSH_SSH_CONFIG=$NSH_DIR/ssh_config
  cat >"$NSH_SSH_CONFIG" <<EOF
Host $NSH_NET.*
  User root
  IdentityFile $NSH_DIR/id
  IdentitiesOnly yes
  UserKnownHostsFile $NSH_DIR/known_hosts
  StrictHostKeyChecking yes
  GlobalKnownHostsFile /dev/null
EOF
  # every sshd listening (its address may take a moment: DAD is off on a bridge? wait)
  for n in "$@"; do
    for ((i = 0; i < 100; i++)); do
      nsh_exec "$n" ss -ltn 2>/dev/null | grep -q "$(nsh_addr "$n"):22 " && break
      kill -0 "${_nsh_sshd[$n]}" 2>/dev/null || { echo "sshd of $n exited: $(tail -n 2 "$NSH_DIR/sshd-$n.log")" >&2; return 1; }
      sleep 0.1
    done
  done
}

# nsh_pids NAME — PIDs in the namespace but its sshd listener
nsh_pids() { ip netns pids "$(nsh_ns "$1")" 2>/dev/null | grep -vx "${_nsh_sshd[$1]:-0}"; }

# nsh_kill_sshd NAME — the listener and every sshd under it (its sessions),
# by PID; the commands the sessions ran are left to end by themselves
nsh_kill_sshd() {
  local p=${_nsh_sshd[$1]:-} all=() todo c
  [ -n "$p" ] || return 0
  todo=("$p")
  while [ ${#todo[@]} -gt 0 ]; do
    c=${todo[0]}; todo=("${todo[@]:1}")
    [ "$(ps -o comm= -p "$c" 2>/dev/null)" = sshd ] || continue
    all+=("$c")
    # shellcheck disable=SC2207
    todo+=($(children_of "$c"))
  done
  kill -KILL "${all[@]}" 2>/dev/null
  wait "$p" 2>/dev/null
  _nsh_sshd[$1]=""
}

nsh_down() {
  local n p
  for n in "${!_nsh_sshd[@]}"; do nsh_kill_sshd "$n"; done
  for n in "${_nsh_names[@]}"; do
    # anything still in a host's namespace was started by this run: by PID
    for p in $(ip netns pids "$(nsh_ns "$n")" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$(nsh_ns "$n")" 2>/dev/null
  done
  _nsh_names=()
  [ -n "$NSH_DIR" ] && rm -rf "$NSH_DIR"
  NSH_DIR=""
}
