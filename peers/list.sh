#!/usr/bin/env bash
# peers/list.sh — the peers: the suite's echo servers and fetchers written in
# other runtimes (Python, Node, Go, libuv), one folder peers/NAME/ each with an
# about.txt of "key: value" lines, like a model's (connection, switches, order)
# plus like (loop|threads|fork|own: the C model it corresponds to), lang,
# packages (Debian), check (a command that succeeds when the toolchain is
# there) and runtime (a command that prints the runtime's version).
# Needs nothing but bash, so it works before the build.
#
#   peers/list.sh                  available peers, by order then name, one per line;
#                                  the others on stderr as "skipped: NAME (no PACKAGES)"
#   peers/list.sh --all            every peer, available or not
#   peers/list.sh --about NAME KEY one field of a peer's about.txt
#   peers/list.sh --missing NAME   the Debian packages NAME still needs (empty if none)
#   peers/list.sh --runtime NAME   the runtime's version, measured now
#   peers/list.sh --versions NAME...  "NAME: runtime version; ..." for those NAMEs
#                                  that are peers (the runners' meta.txt records it)
#   peers/list.sh --bench KIND     what a benchmark runs (KIND echo or fetch): the
#                                  registry's models (scripts/models.sh), then, when
#                                  PEERS is set, the available peers whose
#                                  $BIN/KIND-NAME is built; each peer left out gets
#                                  ONE line "peers: skipped NAME (why)" on stderr
#
# PEERS (for --bench; `make bench PEERS=1` exports it to every runner): unset,
# empty or 0: no peer, the runs stay the C models'; 1 (or all): every peer;
# else the peers named (comma- or space-separated), e.g. PEERS=py-asyncio,go.
# PEERS_MISSING: peers to treat as if their toolchain were missing (tests
# simulate a machine without Node or Go with it). BIN: the programs (bin).
set -u
here=$PWD
cd "$(dirname "$0")" || exit 1
about() { sed -n "s/^$2: *//p" "$1/about.txt" 2>/dev/null | head -n 1; }
all() {
  for f in */about.txt; do
    [ -f "$f" ] || continue
    p=${f%/about.txt}; o=$(about "$p" order); printf '%s\t%s\n' "${o:-1000}" "$p"
  done | sort -k1,1n -k2,2 | cut -f2
}
present() {
  missing_now=${PEERS_MISSING:-}
  [[ " ${missing_now//,/ } " == *" $1 "* ]] && return 1
  bash -c "$(about "$1" check)" >/dev/null 2>&1
}
# The packages of a peer that are not installed (dpkg's view), or all of them
# if the check fails and dpkg cannot tell.
missing() {
  local p out=""
  for p in $(about "$1" packages); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || out="$out $p"
  done
  [ -z "$out" ] && ! present "$1" && out=" $(about "$1" packages)"
  echo "${out# }"
}
# bench KIND — the models, then the peers PEERS asks for that can run
bench() {
  local p want bin=${BIN:-bin}
  [ "${bin#/}" != "$bin" ] || bin=$here/$bin
  ../scripts/models.sh || return 1
  case "${PEERS:-0}" in 0|"") return 0 ;; 1|all|yes) want=$(all) ;; *) want=${PEERS//,/ } ;; esac
  for p in $want; do
    if [ ! -f "$p/about.txt" ]; then echo "peers: skipped $p (not a peer: PEERS=$PEERS; the peers: $(all | paste -sd ' ' -))" >&2
    elif ! present "$p"; then echo "peers: skipped $p (no $(missing "$p"))" >&2
    elif [ ! -x "$bin/$1-$p" ]; then echo "peers: skipped $p (${BIN:-bin}/$1-$p is not built: make peers)" >&2
    else echo "$p"; fi
  done
}
need_peer() { [ -f "$1/about.txt" ] || { echo "list.sh: '$1' is not a peer (no peers/$1/about.txt)" >&2; exit 2; }; }
case "${1:-}" in
  "")
    for p in $(all); do
      if present "$p"; then echo "$p"; else echo "skipped: $p (no $(missing "$p"))" >&2; fi
    done ;;
  --all) all ;;
  --about) [ $# -eq 3 ] || { echo "usage: peers/list.sh --about NAME KEY" >&2; exit 2; }
    need_peer "$2"; about "$2" "$3" ;;
  --missing) [ $# -eq 2 ] || { echo "usage: peers/list.sh --missing NAME" >&2; exit 2; }
    need_peer "$2"; present "$2" && exit 0; missing "$2" ;;
  --runtime) [ $# -eq 2 ] || { echo "usage: peers/list.sh --runtime NAME" >&2; exit 2; }
    need_peer "$2"; bash -c "$(about "$2" runtime)" 2>/dev/null || { echo "list.sh: $2: toolchain missing" >&2; exit 1; } ;;
  --versions) shift; out=""
    for p in "$@"; do [ -f "$p/about.txt" ] && out="$out${out:+; }$p: $(bash -c "$(about "$p" runtime)" 2>/dev/null || echo "toolchain missing")"; done
    [ -z "$out" ] || echo "$out" ;;
  --bench) [ $# -eq 2 ] && [[ $2 =~ ^(echo|fetch)$ ]] || { echo "usage: peers/list.sh --bench echo|fetch" >&2; exit 2; }
    bench "$2" ;;
  -h|--help) sed -n '2,/^set -u$/p' "$(basename "$0")" | sed '$d' | sed 's/^# \{0,1\}//' ;;
  *) echo "list.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
