#!/usr/bin/env bash
# meta.sh — the one metadata writer: every benchmark's meta.txt (bin/bench's too).
#
#   scripts/meta.sh FILE [--set KEY=VALUE]... [--command "CMD"]...
#   scripts/meta.sh --finish FILE
#
# The first form writes FILE, one "key: value" per line, always in this order:
#   commit       the short commit hash of the source tree
#   dirty        yes/no: tracked files other than results/ and docs/ differ from it
#   date         UTC, ISO 8601 (the run's start)
#   kernel       uname -sr
#   cpu          the CPU model
#   cores        online CPUs (nproc)
#   memory_kib   MemTotal
#   compiler     cc --version, first line ($CC if set)
#   flags        the build's optimisation/sanitizer flags ($C10K_FLAGS, which
#                make exports; "unknown" when run outside make)
#   pinning      how the programs share the cores ("none" unless --set)
#   load_start   the load average (1, 5, 15 min) now
# then every --set key in the order given (a --set of one of the keys above
# replaces its value in place), then, when the environment's PEERS asks for
# peers (make bench PEERS=1 ...) and no --set gave the key, "peers:" with the
# runtime versions and origins of the peers that run (peers/list.sh
# --versions), then one "command: CMD" line per --command.
# --finish FILE appends load_end and duration_s (seconds since the date key).
# FILE is taken relative to the caller's directory; it works from any cwd.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "meta.sh: $1" >&2; exit "${2:-2}"; }
usage() { sed -n '2,23s/^# \{0,1\}//p' "$0"; }
one_line() { tr '\n\t' '  ' <<<"$1" | sed 's/ *$//'; }

finish() {
  local f=$1 start now
  [ -f "$f" ] || die "--finish: $f does not exist" 1
  start=$(sed -n 's/^date: //p' "$f" | head -n 1)
  [ -n "$start" ] || die "--finish: $f has no date line" 1
  start=$(date -u -d "$start" +%s 2>/dev/null) || die "--finish: $f: unreadable date" 1
  now=$(date -u +%s)
  { echo "load_end: $(cut -d' ' -f1-3 /proc/loadavg)"; echo "duration_s: $((now - start))"; } >>"$f"
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
  --finish) [ $# -eq 2 ] || die "usage: scripts/meta.sh --finish FILE"; finish "$2"; exit $? ;;
  -*) die "unknown flag '$1' (try --help)" ;;
esac
file=$1; shift

# the standard keys, in order, and their values
keys=(commit dirty date kernel cpu cores memory_kib compiler flags pinning load_start)
declare -A val
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null) || commit=unknown
val[commit]=$commit
if [ "$commit" = unknown ]; then val[dirty]=unknown
elif git -C "$root" diff --quiet HEAD -- . ':(exclude)results' ':(exclude)docs' 2>/dev/null; then val[dirty]=no
else val[dirty]=yes; fi
val[date]=$(date -u +%Y-%m-%dT%H:%M:%SZ)
val[kernel]=$(uname -sr)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
val[cpu]=${cpu:-unknown}
val[cores]=$(nproc)
val[memory_kib]=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
val[compiler]=$(${CC:-cc} --version 2>/dev/null | head -n 1)
val[flags]=${C10K_FLAGS:-unknown}
val[pinning]=none
val[load_start]=$(cut -d' ' -f1-3 /proc/loadavg)

extra=() commands=()
while [ $# -gt 0 ]; do
  case $1 in
    --set|--command) [ $# -ge 2 ] || die "$1 needs a value" ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  if [ "$1" = --set ]; then
    k=${2%%=*} v=${2#*=}
    [[ $2 == *=* && $k =~ ^[a-z][a-z0-9_]*$ ]] || die "--set '$2': want key=value, key in [a-z0-9_]"
    v=$(one_line "$v")
    if [ -n "${val[$k]+x}" ] && [[ " ${keys[*]} " == *" $k "* ]]; then val[$k]=$v
    else extra+=("$k: $v"); fi
  else
    commands+=("command: $(one_line "$2")")
  fi
  shift 2
done

# the peers' runtimes (interpreter, compiler, libraries, and where each came from)
case " ${extra[*]:-} " in *" peers: "*) ;; *)
  if [ -n "${PEERS:-}" ] && [ "$PEERS" != 0 ]; then
    pv=$("$root/peers/list.sh" --versions $(BIN=${BIN:-$root/bin} "$root/peers/list.sh" --bench echo 2>/dev/null))
    [ -z "$pv" ] || extra+=("peers: $(one_line "$pv")")
  fi ;;
esac

mkdir -p "$(dirname "$file")" 2>/dev/null
{
  for k in "${keys[@]}"; do echo "$k: ${val[$k]}"; done
  for l in "${extra[@]}"; do echo "$l"; done
  for l in "${commands[@]}"; do echo "$l"; done
} >"$file.tmp" && mv "$file.tmp" "$file" || die "cannot write $file" 1
