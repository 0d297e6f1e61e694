#!/usr/bin/env bash
# hosts.sh — a benchmark across machines: the server on one host, the load on
# others, all through OpenSSH (docs/hosts.md). Nothing of ours runs on a host
# but the suite itself, shipped from the local commit and built there.
#
#   scripts/hosts.sh up OUT PROGRAM... reach every host (key authentication, BatchMode,
#                                      one ControlMaster each), ship `git archive HEAD`,
#                                      build PROGRAMs there (bin/loadgen...), check the
#                                      commit; measure the path
#                                      (clock offset, ssh bulk rate, round trip from
#                                      each load host to the server); OUT/hosts.txt
#   scripts/hosts.sh down              close the master connections (by their PIDs)
#   scripts/hosts.sh run HOST CMD...   CMD in HOST's copy of the suite (bench --serve)
#   scripts/hosts.sh load FLAGS...     loadgen FLAGS on every load host at once, its -c
#                                      (and an open loop's --rate, in proportion) shared
#                                      out, one --start-at; their dumps merged by
#                                      bin/loadmerge into one loadgen CSV on stdout
#
# Environment (bench-echo.sh and the other runners set it from make's variables):
#   SERVER_HOST  [user@]host of the server        LOAD_HOSTS  "[user@]a [user@]b"
#   SERVER_ADDR  the address the server binds and the load hosts connect to
#                (default: SERVER_HOST without its user@)
#   SSH_CONFIG   an ssh_config file, given to every ssh as -F FILE
#   HOSTS_DIR    where each host keeps its copy, under its login's home
#                (default c10k-lab-hosts/HOST)
#   HOSTS_CTL    a folder for the master connections' sockets and the run's
#                error line (made by `up`, removed by `down`)
#   HOSTS_KEEP   a folder where `load` keeps every host's dump (OUT/loads)
#   HOSTS_LEAD_MS  how long before the start the load hosts are told it (2000),
#                plus 0.5 ms per connection each opens first
# A host that cannot be reached, has no compiler, fails to build or runs
# another commit stops `up` with one line naming it; a host lost during a run
# makes `run`/`load` fail with one line naming it (also in HOSTS_CTL/error).
# Exit status: 0; 1 a host failed (load: 3, as loadgen's 1 means errors); 2 usage.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "hosts: $1" >&2; [ -n "${HOSTS_CTL:-}" ] && [ -d "$HOSTS_CTL" ] && echo "$1" >"$HOSTS_CTL/error"; exit "${2:-1}"; }

# the ssh options of every connection: ours first, then the user's config
ssh_opts() {
  local o=(-o BatchMode=yes -o ConnectTimeout=5 -o ServerAliveInterval=1 -o ServerAliveCountMax=3
           -o ControlPath="$HOSTS_CTL/%C" -o LogLevel=ERROR)
  [ -n "${SSH_CONFIG:-}" ] && o=(-F "$SSH_CONFIG" "${o[@]}")
  printf '%s\n' "${o[@]}"
}
hssh() { local o; mapfile -t o < <(ssh_opts); ssh "${o[@]}" "$@"; }
# the folder of HOST's copy, relative to its login's home
hdir() { echo "${HOSTS_DIR:-c10k-lab-hosts}/$(tr -c 'A-Za-z0-9._@-' _ <<<"$1" | sed 's/_$//')"; }
all_hosts() { printf '%s\n' "$SERVER_HOST" $LOAD_HOSTS | awk 'NF && !seen[$0]++'; }
now_ns() { date +%s%N; }
lasterr() { tail -n 1 "$1" 2>/dev/null | tr -d '\r' | cut -c1-200; }

# run HOST CMD... — CMD in HOST's copy; ssh's status passed on; 255 (ssh
# itself failed: the host or the link is gone) also leaves the error line
cmd_run() {
  local host=$1 err rc; shift
  err=$(mktemp "$HOSTS_CTL/run.XXXXXX")
  hssh "$host" "cd $(hdir "$host") && exec $(printf '%q ' "$@")" 2> >(tee "$err" >&2)
  rc=$?
  wait 2>/dev/null
  if [ "$rc" -eq 255 ]; then
    echo "host $host lost: ssh failed ($(lasterr "$err"))" >"$HOSTS_CTL/error"
    echo "hosts: host $host lost: ssh failed ($(lasterr "$err"))" >&2
  fi
  rm -f "$err"
  return "$rc"
}

# load FLAGS... — loadgen on every load host, -c shared out, one start time
cmd_load() {
  local args=() conns=10 secs=5 rate="" i=0 h n rc st=0 keep seq
  while [ $# -gt 0 ]; do
    case $1 in
      -c|--conns) conns=$2; shift 2 ;;
      --rate) rate=$2; shift 2 ;;
      --secs) secs=$2; args+=("$1" "$2"); shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  local hosts=($LOAD_HOSTS) k=${#LOAD_HOSTS}
  k=${#hosts[@]}
  [ "$k" -gt 0 ] || die "load: LOAD_HOSTS is empty" 2
  # connections open before the start, at loadgen's 2000/s, then half a second to spare
  local start=$(( $(now_ns) + ${HOSTS_LEAD_MS:-2000} * 1000000 + (conns / k) * 500000 ))
  local tmp; tmp=$(mktemp -d "$HOSTS_CTL/load.XXXXXX")
  local pids=() used=()
  for h in "${hosts[@]}"; do
    n=$(( conns / k + (i < conns % k ? 1 : 0) )); i=$((i + 1))
    [ "$n" -gt 0 ] || continue
    used+=("$h")
    # an open loop's total rate, in the share of the connections: every
    # connection keeps the pace it would have with one loadgen
    local r=${rate:+--rate $(awk -v r="$rate" -v n="$n" -v c="$conns" 'BEGIN { printf "%.6g", r * n / c }')}
    hssh "$h" "cd $(hdir "$h") && exec bin/loadgen $(printf '%q ' "${args[@]}") -c $n $r --start-at $start --dump tmp/load.dump" \
      >"$tmp/$i.out" 2>"$tmp/$i.err" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}"; rc=$?
    h=${used[$i]}
    sed "s|^|$h: |" "$tmp/$((i + 1)).err" >&2
    if [ "$rc" -eq 255 ]; then
      die "load host $h lost: ssh failed ($(lasterr "$tmp/$((i + 1)).err"))" 3
    elif [ "$rc" -gt 1 ]; then
      die "loadgen on load host $h failed with status $rc ($(lasterr "$tmp/$((i + 1)).err"))" 3
    fi
    [ "$rc" -gt "$st" ] && st=$rc
  done
  keep=${HOSTS_KEEP:-$tmp}
  mkdir -p "$keep"
  seq=$(printf '%03d' $(( $(ls "$keep" | grep -c 'merged\.dump$') + 1 )))
  local dumps=()
  for i in "${!used[@]}"; do
    h=${used[$i]}
    cmd_run "$h" cat tmp/load.dump >"$keep/$seq-load$((i + 1)).dump" ||
      die "load host $h: cannot read its dump" 3
    dumps+=("$keep/$seq-load$((i + 1)).dump")
  done
  "$root/${BIN:-bin}/loadmerge" --out "$keep/$seq-merged.dump" "${dumps[@]}" || die "load: the dumps did not merge" 3
  rm -rf "$tmp"
  return "$st"
}

# up OUT MODEL... — every host ready with this commit, the path measured
cmd_up() {
  local out=$1 h d commit dirty rc err
  shift
  [ -n "${SERVER_HOST:-}" ] && [ -n "${LOAD_HOSTS:-}" ] ||
    die "SERVER_HOST and LOAD_HOSTS go together (SERVER_HOST=user@host LOAD_HOSTS=\"user@a user@b\")" 2
  [ -z "${SSH_CONFIG:-}" ] || [ -r "$SSH_CONFIG" ] || die "SSH_CONFIG=$SSH_CONFIG: no such file" 2
  command -v ssh >/dev/null || die "ssh is missing: install openssh-client" 2
  commit=$(git -C "$root" rev-parse HEAD 2>/dev/null) || die "not a git checkout: nothing to ship" 2
  git -C "$root" diff --quiet HEAD -- . ':(exclude)results' ':(exclude)docs' ||
    echo "hosts: warning: uncommitted changes are not shipped; the hosts run $commit" >&2
  mkdir -p "$out"
  err="$HOSTS_CTL/up.err"
  local progs=("$@")
  for h in $(all_hosts); do
    d=$(hdir "$h")
    # the master connection: every later ssh to this host goes through it
    mapfile -t o < <(ssh_opts)
    ssh "${o[@]}" -o ControlMaster=yes -o ControlPersist=no -fN "$h" 2>"$err" ||
      die "cannot reach $h by ssh (key authentication, BatchMode): $(lasterr "$err")"
    hssh "$h" 'command -v make >/dev/null && command -v "${CC:-cc}" >/dev/null' 2>"$err"
    rc=$?
    [ "$rc" -eq 255 ] && die "cannot reach $h by ssh: $(lasterr "$err")"
    [ "$rc" -eq 0 ] || die "$h has no C compiler (cc) or make: install build-essential there"
    # the same commit there already built: keep it; else ship and build afresh
    if [ "$(hssh "$h" "cat $d/scripts/COMMIT 2>/dev/null; test -f $d/.built && echo built" 2>/dev/null | paste -sd ' ')" != "$commit built" ]; then
      echo "hosts: $h: shipping $commit (git archive) into $([[ $d == /* ]] || echo '~/')$d and building" >&2
      git -C "$root" archive --format=tar HEAD |
        hssh "$h" "rm -rf $d.new && mkdir -p $d.new && tar -x -C $d.new && rm -rf $d && mv $d.new $d && mkdir -p $d/tmp" 2>"$err" ||
        die "$h: shipping the source failed: $(lasterr "$err")"
    fi
    hssh "$h" "cd $d && make -s -j\$(nproc) ${progs[*]} >tmp/build.log 2>&1 && touch .built || { tail -n 3 tmp/build.log; exit 1; }" >"$err" 2>&1 ||
      die "$h: the build failed: $(tr '\n' ' ' <"$err" | cut -c1-300)"
    [ "$(hssh "$h" "cat $d/scripts/COMMIT" 2>/dev/null)" = "$commit" ] ||
      die "$h: runs commit $(hssh "$h" "cat $d/scripts/COMMIT" 2>/dev/null | cut -c1-12), not $commit"
  done
  cmd_meta "$out" "$commit"
}

# what meta.txt says about every host and the path between them
cmd_meta() {
  local out=$1 commit=$2 h i=0 t0 t1 r off rtt mb
  {
    echo "server_host: $SERVER_HOST (address ${SERVER_ADDR})"
    echo "load_hosts: $LOAD_HOSTS"
    for h in $(all_hosts); do
      i=$((i + 1))
      r=$(hssh "$h" "uname -sr; nproc; sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1; cat $(hdir "$h")/scripts/COMMIT" 2>/dev/null)
      off=$(clock_offset "$h")
      # a bulk transfer through the master connection (ssh's encryption included)
      t0=$(now_ns)
      head -c 33554432 /dev/zero | hssh "$h" 'cat >/dev/null' 2>/dev/null
      t1=$(now_ns)
      mb=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 33554432 * 8 / ((b - a) / 1e9) / 1e6 }')
      echo "host_$i: $h; kernel $(sed -n 1p <<<"$r"); cores $(sed -n 2p <<<"$r"); cpu $(sed -n 3p <<<"$r"); commit $(sed -n 4p <<<"$r" | cut -c1-12); clock_offset_ms $off; ssh_bulk_mbit_s $mb (32 MiB from the runner through ssh)"
    done
    # round trip from each load host to the server: 1 connection, 64-byte echo, p50
    for h in $LOAD_HOSTS; do
      rtt=$(path_rtt "$h")
      echo "path_rtt_us: $h -> $SERVER_ADDR ${rtt:-unmeasured} (loadgen -c 1 against echo-loop, p50 of 1 s)"
    done
  } >"$out/hosts.txt"
}

# clock_offset HOST — "X +-Y": HOST's clock minus ours, in ms, from the
# quickest of five `date` round trips through the master (Y: half of it)
clock_offset() {
  local i t0 t1 r best=""
  for i in 1 2 3 4 5; do
    t0=$(now_ns); r=$(hssh "$1" 'date +%s%N' 2>/dev/null); t1=$(now_ns)
    [ -n "$r" ] && best+="$((t1 - t0)) $r $t0 $t1"$'\n'
  done
  sort -n <<<"$best" | awk 'NF { printf "%.2f +-%.2f", ($2 - ($3 + $4) / 2) / 1e6, $1 / 2e6; exit }'
}

# path_rtt LOADHOST — p50 of a 1 s, 1-connection loadgen run from LOADHOST to
# echo-loop on the server host (bench --serve, stopped by closing its stdin)
path_rtt() {
  local h=$1 port="" line p50=""
  coproc SRV { cmd_run "$SERVER_HOST" bin/bench --serve loop --bind "$SERVER_ADDR" --port 0 2>/dev/null; }
  read -r -t 10 line <&"${SRV[0]}" && port=${line##*:}
  if [ -n "$port" ]; then
    p50=$(hssh "$h" "cd $(hdir "$h") && bin/loadgen --host $SERVER_ADDR --port $port -c 1 --secs 1 --csv" 2>/dev/null |
          awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["p50_us"] }')
  fi
  exec {SRV[1]}>&-
  wait "$SRV_PID" 2>/dev/null
  echo "$p50"
}

# down — close the master connections, each by the PID it says it has
cmd_down() {
  local h pid
  for h in $(all_hosts); do
    pid=$(hssh -O check "$h" 2>&1 | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
    hssh -O exit "$h" >/dev/null 2>&1
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
  return 0
}

case ${1:-} in -h|--help) sed -n '2,34s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ -n "${HOSTS_CTL:-}" ] && [ -d "$HOSTS_CTL" ] || { echo "hosts: HOSTS_CTL is not a folder (the runners make it)" >&2; exit 2; }
SERVER_ADDR=${SERVER_ADDR:-${SERVER_HOST#*@}}
sub=${1:-}; shift || true
case $sub in
  up) [ $# -ge 1 ] || die "usage: hosts.sh up OUT MODEL..." 2; cmd_up "$@" ;;
  down) cmd_down ;;
  run) [ $# -ge 2 ] || die "usage: hosts.sh run HOST CMD..." 2; cmd_run "$@" ;;
  load) cmd_load "$@" ;;
  -h|--help) sed -n '2,34s/^# \{0,1\}//p' "$0" ;;
  *) die "unknown command '$sub' (up, down, run, load; try --help)" 2 ;;
esac
