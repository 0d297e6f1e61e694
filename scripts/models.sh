#!/usr/bin/env bash
# models.sh — the model registry, read from the folders: a model is a folder
# models/NAME/ holding echo.c, fetch.c and about.txt ("key: value" lines:
# connection, switches, order; optionally unit, the kind of unit of
# bin/micro-unitcost a connection is: process, thread or coroutine; shares
# and best_for, the words of docs/table.md).
# Nothing else in the suite spells the list out.
#
#   scripts/models.sh                 the model names, one per line, by order then name
#   scripts/models.sh --about NAME KEY  one field of a model's about.txt
#   scripts/models.sh --table         the README's table of the models, in Markdown
set -u
cd "$(dirname "$0")/.." || exit 1
about() { sed -n "s/^$2: *//p" "models/$1/about.txt" 2>/dev/null | head -n 1; }
case "${1:-}" in
  --about)
    [ $# -eq 3 ] || { echo "usage: scripts/models.sh --about NAME KEY" >&2; exit 2; }
    [ -f "models/$2/about.txt" ] || { echo "models.sh: '$2' is not a model (no models/$2/about.txt)" >&2; exit 2; }
    about "$2" "$3" ;;
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' ;;
  --table)
    echo "| model | programs | one connection is… | who switches | lesson |"
    echo "|---|---|---|---|---|"
    for m in $("$0"); do
      lesson="–"; [ -f "docs/models/$m.md" ] && lesson="[docs/models/$m.md](docs/models/$m.md)"
      printf '| `%s` | `bin/echo-%s`, `bin/fetch-%s` | %s | %s | %s |\n' "$m" "$m" "$m" \
        "$(about "$m" connection)" "$(about "$m" switches)" "$lesson"
    done ;;
  "")
    for f in models/*/about.txt; do
      [ -f "$f" ] || continue
      m=$(basename "$(dirname "$f")")
      [ -f "models/$m/echo.c" ] && [ -f "models/$m/fetch.c" ] || continue
      o=$(about "$m" order); printf '%s\t%s\n' "${o:-1000}" "$m"
    done | sort -k1,1n -k2,2 | cut -f2 ;;
  *) echo "models.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
