#!/usr/bin/env bash
# models.sh — the model registry, read from the folders: a model is a folder
# models/NAME/ holding about.txt ("key: value" lines: connection, switches,
# order; optionally unit, the kind of unit of bin/micro-unitcost a
# connection is: process, thread or coroutine; shares and best_for, the words
# of docs/table.md; runtime, the backend of runtime/ its programs are built
# over; programs, the model whose echo.c and fetch.c it builds; loops, "cpus"
# for programs that take --loops) and its programs: echo.c and fetch.c of its
# own, or those of the model `programs:` names. docs/adding-a-model.md lists
# the keys. This is the one parser of about.txt: the build, the scripts and
# the harness (harness/lib/registry.c runs it) all ask it.
#
#   scripts/models.sh                   the model names, one per line, by order then name
#   scripts/models.sh --about NAME KEY  one field of a model's about.txt (empty if absent)
#   scripts/models.sh --with KEY [VALUE]  the models whose about.txt has KEY (equal to VALUE), by order
#   scripts/models.sh --programs NAME   the folder of the model's echo.c and fetch.c
#   scripts/models.sh --header NAME     model.h for a model's programs: its name and fields as C strings
#   scripts/models.sh --table           the README's table of the models, in Markdown
set -u
cd "$(dirname "$0")/.." || exit 1
about() { sed -n "s/^$2: *//p" "models/$1/about.txt" 2>/dev/null | head -n 1; }
programs() { local p; p=$(about "$1" programs); echo "models/${p:-$1}"; }
is_model() {
  local d
  [ -f "models/$1/about.txt" ] || return 1
  d=$(programs "$1")
  [ -f "$d/echo.c" ] && [ -f "$d/fetch.c" ]
}
cstr() { sed 's/\\/\\\\/g; s/"/\\"/g'; }
need_model() {
  is_model "$1" || { echo "models.sh: '$1' is not a model (no models/$1/about.txt, or no echo.c and fetch.c)" >&2; exit 2; }
}
case "${1:-}" in
  --about)
    [ $# -eq 3 ] || { echo "usage: scripts/models.sh --about NAME KEY" >&2; exit 2; }
    [ -f "models/$2/about.txt" ] || { echo "models.sh: '$2' is not a model (no models/$2/about.txt)" >&2; exit 2; }
    about "$2" "$3" ;;
  --with)
    [ $# -eq 2 ] || [ $# -eq 3 ] || { echo "usage: scripts/models.sh --with KEY [VALUE]" >&2; exit 2; }
    for m in $("$0"); do
      v=$(about "$m" "$2")
      [ -n "$v" ] && { [ $# -eq 2 ] || [ "$v" = "$3" ]; } && echo "$m"
    done; exit 0 ;;
  --programs)
    [ $# -eq 2 ] || { echo "usage: scripts/models.sh --programs NAME" >&2; exit 2; }
    need_model "$2"; programs "$2" ;;
  --header)
    [ $# -eq 2 ] || { echo "usage: scripts/models.sh --header NAME" >&2; exit 2; }
    need_model "$2"
    echo "/* model.h — made by scripts/models.sh --header $2 from models/$2/about.txt */"
    echo "#define MODEL_NAME \"$(printf %s "$2" | cstr)\""
    echo "#define MODEL_CONNECTION \"$(about "$2" connection | cstr)\""
    echo "#define MODEL_LOOPS_FLAG $([ "$(about "$2" loops)" = cpus ] && echo 1 || echo 0)" ;;
  -h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0" ;;
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
      is_model "$m" || continue
      o=$(about "$m" order); printf '%s\t%s\n' "${o:-1000}" "$m"
    done | sort -k1,1n -k2,2 | cut -f2 ;;
  *) echo "models.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
