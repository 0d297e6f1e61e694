#!/usr/bin/env bash
# The docs must reference the code as it is: every link of the form
# [`name` ...](path/to/file.c#L42) must point at a line of that file that
# holds `name`, and every relative link must point at a file that exists
# inside the repository.
source "$(dirname "$0")/lib.sh"
plan 1
bad=0 seen=0
ROOT=$(realpath .)
while IFS= read -r doc; do
  dir=$(dirname "$doc")
  # one match per line: TEXT<TAB>TARGET
  grep -oE '\[[^]]*\]\([^)#]+(#L[0-9]+)?\)' "$doc" | sed -E 's/^\[(.*)\]\((.*)\)$/\1\t\2/' |
  while IFS=$'\t' read -r text target; do
    case "$target" in http*|mailto:*) continue ;; esac
    file=${target%%#*} line=""
    [[ $target == *#L* ]] && line=${target##*#L}
    path="$dir/$file"
    case "$(realpath -m "$path")/" in
      "$ROOT"/*) ;;
      *) echo "BAD $doc: link to $file leaves the repository (a fresh clone has no such file)"; continue ;;
    esac
    if [ ! -e "$path" ]; then echo "BAD $doc: link to missing file $file"; continue; fi
    [ -n "$line" ] || { echo "OK"; continue; }
    name=$(grep -oE '`[^`]+`' <<<"$text" | head -n 1 | tr -d '`' | sed -E 's/\(.*//')
    if [ -z "$name" ]; then echo "OK"; continue; fi
    if sed -n "${line}p" "$path" | grep -qF -- "$name"; then echo "OK"
    else echo "BAD $doc: $file line $line does not hold '$name' (it reads: $(sed -n "${line}p" "$path" | head -c 80))"; fi
  done
done < <(find docs README.md results/README.md -name '*.md' 2>/dev/null) >"$TMP/links"
seen=$(grep -c . "$TMP/links"); bad=$(grep -c '^BAD' "$TMP/links")
if [ "$seen" -gt 0 ] && [ "$bad" -eq 0 ]; then pass "docs: all $seen relative links resolve, line references hold their names"
else fail "docs: links and line references" "$bad of $seen bad: $(grep '^BAD' "$TMP/links" | head -n 5 | tr '\n' ' ')"; fi
finish
