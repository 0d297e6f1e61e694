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
set -u
cd "$(dirname "$0")" || exit 1
about() { sed -n "s/^$2: *//p" "$1/about.txt" 2>/dev/null | head -n 1; }
all() {
  for f in */about.txt; do
    [ -f "$f" ] || continue
    p=${f%/about.txt}; o=$(about "$p" order); printf '%s\t%s\n' "${o:-1000}" "$p"
  done | sort -k1,1n -k2,2 | cut -f2
}
present() { bash -c "$(about "$1" check)" >/dev/null 2>&1; }
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
  -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "list.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
