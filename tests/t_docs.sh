#!/usr/bin/env bash
# tests/t_docs.sh — the docs reference the code as it is. One check per
# Markdown file (docs/, README.md, results/README.md), each failing on its
# own bad links:
#   - every relative link points at a file that exists inside the repository;
#   - every link to a line, [text](path/file.c#L42), points at a line of that
#     file, and if its text names a symbol, the line holds that symbol as a
#     whole token ("worker" does not match "workers" or "co_worker"). The
#     symbol a text names: its first `backticked` name (what follows a "(" cut
#     off: `co_read()` names co_read); else its first word that reads as code:
#     one with an underscore, one ending in "()", or a capitalised constant of
#     three letters or more (SIGPIPE, EMFILE, O_NONBLOCK).
source "$(dirname "$0")/lib.sh"
ROOT=$(realpath .)

# the symbol a link's text names, or nothing
symbol_of() {
  local s
  s=$(grep -oE '`[^`]+`' <<<"$1" | head -n 1 | tr -d '`' | sed -E 's/\(.*//; s/^[[:space:]]+//; s/[[:space:]]+$//')
  if [ -z "$s" ]; then
    s=$(tr -c 'A-Za-z0-9_()\n' ' ' <<<"$1" | tr ' ' '\n' |
        grep -E '^([A-Za-z0-9]*_[A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*\(\)|[A-Z][A-Z0-9_]{2,})$' | head -n 1 | sed 's/()$//')
  fi
  printf '%s' "$s"
}

# does line N of FILE hold SYMBOL as a whole token?
holds_token() {
  local esc
  esc=$(printf '%s' "$3" | sed 's/[][\.*^$/+?{}()|]/\\&/g')
  sed -n "$2p" "$1" | grep -qE -- "(^|[^A-Za-z0-9_])$esc([^A-Za-z0-9_]|\$)"
}

# check_doc DOC — print one line per bad link
check_doc() {
  local doc=$1 dir text target file line path name
  dir=$(dirname "$doc")
  grep -oE '\[[^]]*\]\([^)#]+(#L[0-9]+)?\)' "$doc" | sed -E 's/^\[(.*)\]\((.*)\)$/\1\t\2/' |
  while IFS=$'\t' read -r text target; do
    case "$target" in http*|mailto:*) continue ;; esac
    file=${target%%#*} line=""
    [[ $target == *#L* ]] && line=${target##*#L}
    path="$dir/$file"
    case "$(realpath -m "$path")/" in
      "$ROOT"/*) ;;
      *) echo "$file leaves the repository (a fresh clone has no such file)"; continue ;;
    esac
    [ -e "$path" ] || { echo "$file is missing"; continue; }
    [ -n "$line" ] || continue
    if [ "$line" -gt "$(wc -l <"$path")" ]; then echo "$file has no line $line"; continue; fi
    name=$(symbol_of "$text")
    [ -n "$name" ] || continue
    holds_token "$path" "$line" "$name" ||
      echo "[$text]: $file line $line does not hold '$name' (it reads: $(sed -n "${line}p" "$path" | sed 's/^[[:space:]]*//' | head -c 70))"
  done
}

mapfile -t docs < <(find docs README.md results/README.md -name '*.md' 2>/dev/null | sort)
plan $((${#docs[@]} + 1)) # one per Markdown file, and runtime.md's line counts
for doc in "${docs[@]}"; do
  n=$(grep -oE '\[[^]]*\]\([^)#]+(#L[0-9]+)?\)' "$doc" | grep -vcE '\]\((http|mailto:)')
  check_doc "$doc" >"$TMP/bad"
  if [ -s "$TMP/bad" ]; then
    fail "docs: $doc's links" "$(wc -l <"$TMP/bad") of $n bad: $(head -n 4 "$TMP/bad" | paste -sd ';' -)"
  else
    pass "docs: $doc's $n links resolve, each line link holds the symbol its text names"
  fi
done

# docs/runtime.md's tables of the runtime's files name every file of
# runtime/ and give each one's length in lines, and the core path's total:
# all as the files are now
bad=""
while IFS= read -r row; do
  cell=$(awk -F'|' '{ for (i = 2; i <= NF; i++) if ($i ~ /\]\(\.\.\/runtime\//) { print $i; exit } }' <<<"$row")
  files=$(grep -oE '\]\(\.\./runtime/[^)#]+\)' <<<"$cell" | sed -E 's/^\]\(\.\.\/(.*)\)$/\1/')
  said=$(awk -F'|' '{ for (i = 2; i <= NF; i++) if ($i ~ /\]\(\.\.\/runtime\//) { print $(i + 1); exit } }' <<<"$row" | tr -d ' ')
  [[ $said =~ ^[0-9,]+$ ]] || continue
  real=$(for f in $files; do wc -l <"$f"; done | paste -sd, -)
  [ "$said" = "$real" ] || bad="$bad $(basename "$(head -n 1 <<<"$files")"): says $said, has $real;"
done < <(grep '^|.*](\.\./runtime/' docs/runtime.md)
for f in runtime/*; do # and every file of the library is in them: a reader learns what each holds
  grep -q "^|.*](\.\./$f)" docs/runtime.md || bad="$bad $f is in no table;"
done
core=$(sed -n 's/.*files, \([0-9]*\) lines with their comments.*/\1/p' docs/runtime.md)
real=$(cat runtime/switch_x86_64.S runtime/switch.c runtime/sched.c runtime/clock.c runtime/epoll.c | wc -l)
[ "$core" = "$real" ] || bad="$bad core path: says '${core}', has $real;"
[ -z "$bad" ] && pass "docs: runtime.md's tables name every file of runtime/, with its line count, and the core path's ($real)" ||
  fail "docs: runtime.md's line counts of the runtime's files" "$bad"
finish
