#!/usr/bin/env bash
# scripts/mutants.sh — can the tests see a bug? Applies each seeded bug of
# tests/mutants.txt, one at a time, to a copy of the tree, rebuilds, runs the
# suites named for it, and reports it killed (a suite failed), survived (all
# passed), stale (its text is not found exactly once: retarget it), hung (a
# suite outlived MUTANT_TIMEOUT_S and the runner did not report it), or
# unbuildable. `make mutants` runs it; it is not part of `make test` (slow).
#
#   scripts/mutants.sh                 every mutant
#   scripts/mutants.sh NAME...         only these
#   scripts/mutants.sh --check         only check that every mutant applies (fast)
#
# The copy is the working tree's tracked files (uncommitted changes
# included), in $MUTANTS_DIR (default build/mutants/tree), built once, then
# rebuilt after each change and each restore. A suite that fails on a mutant
# is run once unmutated too (once per suite and models): one that fails
# already kills nothing (the mutant is reported "baseline-fails"). Each suite is run
# by tests/run.sh (ONLY=suite, MODELS from the mutant) under timeout
# MUTANT_TIMEOUT_S (default 900). Logs: $MUTANTS_DIR/logs/NAME.log; the report:
# $MUTANTS_DIR/report.txt, its last line "mutants: K killed, S survived, ...".
set -u
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
LIST=${MUTANTS_LIST:-tests/mutants.txt}
DIR=${MUTANTS_DIR:-build/mutants}
TIMEOUT_S=${MUTANT_TIMEOUT_S:-900}
JOBS=${MUTANT_JOBS:-2}
check_only=0
[ "${1:-}" = --check ] && { check_only=1; shift; }
case "${1:-}" in -h|--help)
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
want=" $* "

# --- the list ------------------------------------------------------------------
declare -A vars=()
names=() ; declare -A M_claim=() M_file=() M_from=() M_to=() M_suites=() M_models=()
cur=""
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  case $line in
    '#'*) continue ;;
    '') cur=""; continue ;;
    'set '*) read -r _ k v <<<"$line"; vars[$k]=$v; continue ;;
  esac
  key=${line%%:*}; val=${line#*: }
  [ "$val" = "$line" ] && val=${line#*:}   # "to:" with nothing after it
  case $key in
    name) cur=$val; names+=("$cur"); M_to[$cur]=""; M_models[$cur]="" ;;
    claim|file|from|to|suites|models)
      [ -n "$cur" ] || { echo "mutants: $LIST:$lineno: '$key' before any name:" >&2; exit 2; }
      eval "M_$key[\$cur]=\$val" ;;
    *) echo "mutants: $LIST:$lineno: unknown key '$key'" >&2; exit 2 ;;
  esac
done <"$LIST"

# expand "$VAR" in a file: line
expand_files() {
  local w out=()
  for w in $1; do
    case $w in '$'*) out+=(${vars[${w#\$}]:-}) ;; *) out+=("$w") ;; esac
  done
  echo "${out[*]}"
}

# where NAME applies in tree T: prints FILE, or returns 1 with the reason
locate() {
  local n=$1 t=$2 files hits count
  files=$(expand_files "${M_file[$n]}")
  # shellcheck disable=SC2086
  hits=$(cd "$t" && for f in $files; do [ -f "$f" ] && printf '%s\n' "$f"; done |
         while IFS= read -r f; do c=$(FROM=${M_from[$n]} perl -0777 -ne '$n = () = /\Q$ENV{FROM}\E/g; print $n' "$f"); [ "$c" -gt 0 ] && echo "$f $c"; done)
  count=$(awk '{ s += $2 } END { print s + 0 }' <<<"$hits")
  if [ "$count" -ne 1 ]; then
    echo "the text is found $count times in '$files'${hits:+ ($(tr '\n' ' ' <<<"$hits"))}"
    return 1
  fi
  awk '{ print $1 }' <<<"$hits"
}

chosen=()
for n in "${names[@]}"; do
  case $want in "  ") chosen+=("$n") ;; *" $n "*) chosen+=("$n") ;; esac
done
[ ${#chosen[@]} -gt 0 ] || { echo "mutants: no mutant named:$want" >&2; exit 2; }

# --- --check: does every mutant apply to this tree? --------------------------------
if [ "$check_only" = 1 ]; then
  bad=0
  for n in "${chosen[@]}"; do
    if why=$(locate "$n" "$root"); then echo "applies $n ($why)"; else echo "stale $n: $why"; bad=1; fi
  done
  exit "$bad"
fi

# --- the copy ----------------------------------------------------------------------
tree=$DIR/tree logs=$DIR/logs
rm -rf "$tree" "$logs"; mkdir -p "$tree" "$logs"
tree=$(cd "$tree" && pwd) logs=$(cd "$logs" && pwd)
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$tree"
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD 2>/dev/null || echo "+changes")
echo "mutants: ${#chosen[@]} of ${#names[@]} from $LIST, on $commit, in $tree"
build() { (cd "$tree" && nice make -j"$JOBS" all) >"$1" 2>&1; }
if ! build "$logs/build.log"; then
  echo "mutants: the unmutated copy does not build: $logs/build.log" >&2; exit 1
fi

# strays — end what a mutant left running of the copy's programs (a server
# whose stop was mutated away): every process whose executable is in $tree
strays() {
  local p e
  for p in /proc/[0-9]*; do
    e=$(readlink "$p/exe" 2>/dev/null) || continue
    case $e in "$tree"/*) kill -KILL "${p#/proc/}" 2>/dev/null ;; esac
  done
}

# run_suite SUITE MODELS LOG — 0 passed, 1 failed, 124 hung
run_suite() {
  local s=$1 models=$2 log=$3 rc
  (cd "$tree" && ONLY=$s MODELS=${models:-$(scripts/models.sh | paste -sd ' ' -)} \
     timeout -k 10 "$TIMEOUT_S" nice tests/run.sh) >"$log" 2>&1
  rc=$?
  strays
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && return 124
  [ "$rc" -eq 0 ] && return 0
  return 1
}

# --- the baseline: a suite that kills a mutant must pass unmutated ----------------
# Run on demand, once per (suite, models) pair, with the mutant taken out: a
# suite that fails already kills nothing (the mutant is "baseline-fails").
declare -A base=()
# baseline SUITE MODELS FILE ORIG — 0 if SUITE passes on the unmutated tree
baseline() {
  local k="$1|$2" keep
  if [ -z "${base[$k]:-}" ]; then
    keep=$(mktemp) && cp -p "$tree/$3" "$keep"
    cp "$4" "$tree/$3" && touch "$tree/$3"
    if build "$logs/baseline-build.log" && run_suite "$1" "$2" "$logs/baseline-$1-${2// /-}.log"; then base[$k]=ok
    else base[$k]=fails; fi
    cp "$keep" "$tree/$3" && touch "$tree/$3" && rm -f "$keep"
    build "$logs/baseline-build.log" || true
    echo "baseline $1 (models: ${2:-all}): ${base[$k]}"
  fi
  [ "${base[$k]}" = ok ]
}

# --- each mutant ---------------------------------------------------------------------
report=$DIR/report.txt
: >"$report"
declare -A tally=()
for n in "${chosen[@]}"; do
  log=$logs/$n.log
  verdict="" by=""
  if ! f=$(locate "$n" "$tree"); then
    verdict=stale by=$f
  else
    cp -p "$tree/$f" "$logs/$n.orig"
    FROM=${M_from[$n]} TO=${M_to[$n]} perl -0777 -pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$tree/$f"
    touch "$tree/$f"
    if ! build "$log.build"; then
      verdict=unbuildable by="$(grep -m1 'error:' "$log.build")"
    else
      verdict=survived
      for s in ${M_suites[$n]}; do
        run_suite "$s" "${M_models[$n]}" "$log.$s"; rc=$?
        if [ "$rc" -eq 1 ]; then
          why=$(grep -m1 -E '^ *FAIL ' "$log.$s" | sed 's/^ *//' | cut -c1-160)
          if baseline "$s" "${M_models[$n]}" "$f" "$logs/$n.orig" >&2; then verdict=killed by="$s: $why"
          else verdict=baseline-fails by="$s fails unmutated too"; fi
          break
        elif [ "$rc" -eq 124 ]; then
          verdict=hung by="$s: still running after ${TIMEOUT_S} s; the runner reported nothing"
        fi
      done
    fi
    cp "$logs/$n.orig" "$tree/$f" && touch "$tree/$f"   # newer than the mutant's objects
  fi
  tally[$verdict]=$(( ${tally[$verdict]:-0} + 1 ))
  printf '%-12s %-34s %s\n' "$verdict" "$n" "$by" | tee -a "$report"
done
build "$logs/build-restored.log" || echo "mutants: the restored copy does not build" >&2

summary="mutants: ${tally[killed]:-0} killed, ${tally[survived]:-0} survived, ${tally[stale]:-0} stale, ${tally[hung]:-0} hung, ${tally[unbuildable]:-0} unbuildable, ${tally[baseline-fails]:-0} baseline-fails, of ${#chosen[@]} (on $commit)"
echo "$summary" | tee -a "$report"
[ "${tally[survived]:-0}" -eq 0 ] && [ "${tally[stale]:-0}" -eq 0 ] && [ "${tally[hung]:-0}" -eq 0 ]
