#!/usr/bin/env bash
# tests/t_registry.sh — "adding a model is adding a folder" (docs/adding-a-model.md),
# checked cheaply: a copy of the sources with one more model folder, and what
# the registry, the build, the palette and a chart make of it. Nothing is
# compiled or measured here; the full proof is in docs/adding-a-model.md.
source "$(dirname "$0")/lib.sh"
plan 15 # the registry, the build, registry.c, the palette

# a copy of the sources (no bin/, build/, results/) with two more folders,
# the two ways of adding a model (docs/adding-a-model.md): regcopy
# (models/threads copied: programs of its own, no runtime) and regtwin
# (models/uring copied: only about.txt, the programs of another model over
# the runtime its about.txt picks), and one folder that is not a model
src=$TMP/src
mkdir -p "$src"
cp -r Makefile mk scripts models runtime harness demos micro tests peers "$src"/ 2>/dev/null
cp -r "$src/models/threads" "$src/models/regcopy"
uring_like=$(for m in $(models_list); do [ -n "$(scripts/models.sh --about "$m" programs)" ] && echo "$m"; done | tail -n 1)
cp -r "$src/models/$uring_like" "$src/models/regtwin"
mkdir -p "$src/models/notamodel" && cp "$src/models/threads/"*.c "$src/models/notamodel/"

# the registry
got=$("$src/scripts/models.sh" | paste -sd ' ' -)
want=$(models_list | paste -sd ' ' -)
[[ " $got " == *" regcopy "* && " $got " == *" regtwin "* ]] && pass "registry: a new folder is a model" \
  || fail "registry: a new folder is a model" "models.sh lists '$got'"
[[ " $got " != *" notamodel "* ]] && pass "registry: a folder without about.txt is not a model" \
  || fail "registry: a folder without about.txt is not a model" "models.sh lists '$got'"
# by order, then by name: regcopy has threads' order and sorts before it
[ "$(tr ' ' '\n' <<<"$got" | grep -vx -e regcopy -e regtwin | paste -sd ' ' -)" = "$want" ] &&
  [[ "$got" == *"regcopy threads"* ]] && pass "registry: listed by order, then name" \
  || fail "registry: listed by order, then name" "got '$got' (the tree: '$want')"
[ "$("$src/scripts/models.sh" --about regcopy connection)" = "$(scripts/models.sh --about threads connection)" ] &&
  pass "registry: --about reads the model's about.txt" || fail "registry: --about reads the model's about.txt" "$("$src/scripts/models.sh" --about regcopy connection)"
"$src/scripts/models.sh" --about nosuch order >/dev/null 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && grep -q "nosuch" "$TMP/e" && pass "registry: an unknown model is a clear error" \
  || fail "registry: an unknown model is a clear error" "rc=$rc $(cat "$TMP/e")"

# the build: the new models' programs, with their own runtime and nothing else
# (a make of its own: not the settings of the make or the sanitizer run above us)
smake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$src" BIN=bin OBJ=build/obj TBIN=build/tests "$@"; }
smake -s models >"$TMP/models" 2>&1
grep -qx "regcopy: bin/echo-regcopy bin/fetch-regcopy - programs: models/regcopy/ - runtime: none - own code: none" "$TMP/models" &&
  pass "make: regcopy's programs, no runtime" || fail "make: regcopy's programs, no runtime" "$(tr '\n' ' ' <"$TMP/models")"
twin_programs=$(scripts/models.sh --about "$uring_like" programs) twin_rt=$(scripts/models.sh --about "$uring_like" runtime)
grep -qx "regtwin: bin/echo-regtwin bin/fetch-regtwin - programs: models/$twin_programs/ - runtime: $twin_rt - own code: none" "$TMP/models" &&
  pass "make: regtwin builds $twin_programs's programs over the $twin_rt runtime" || fail "make: regtwin builds another model's programs over its runtime" "$(tr '\n' ' ' <"$TMP/models")"
smake -n all >"$TMP/all" 2>&1
for p in echo-regcopy fetch-regcopy echo-regtwin fetch-regtwin; do
  grep -q -- "-o bin/$p " "$TMP/all" || missing="${missing:-} $p"
done
[ -z "${missing:-}" ] && pass "make all: builds the new models' programs" || fail "make all: builds the new models' programs" "not built:$missing"
link=$(grep -- "-o bin/echo-regcopy " "$TMP/all")
if [[ $link == *models/regcopy/echo.o* && $link == *libcommon.a* && $link != *coro* && $link != *models/threads/* ]]; then
  pass "make: echo-regcopy links its own echo.o and the shared code only"
else fail "make: echo-regcopy links its own echo.o and the shared code only" "$link"; fi
link=$(grep -- "-o bin/echo-regtwin " "$TMP/all")
if [[ $link == *build/obj/models/regtwin/echo.o* && $link == *libco-$twin_rt.a* && $link != *models/$uring_like/* ]]; then
  pass "make: echo-regtwin links its own echo.o and the $twin_rt runtime"
else fail "make: echo-regtwin links its own echo.o and the $twin_rt runtime" "$link"; fi
compile=$(grep -- "-o build/obj/models/regtwin/echo.o " "$TMP/all")
if [[ $compile == *" models/$twin_programs/echo.c"* && $compile == *-Ibuild/obj/models/regtwin* ]]; then
  pass "make: regtwin's echo.o is models/$twin_programs/echo.c with regtwin's model.h"
else fail "make: regtwin's echo.o is models/$twin_programs/echo.c with regtwin's model.h" "$compile"; fi
smake -s build/obj/models/regtwin/model.h >/dev/null 2>&1
grep -q '^#define MODEL_NAME "regtwin"' "$src/build/obj/models/regtwin/model.h" 2>/dev/null &&
  pass "make: regtwin's model.h names it (its programs' name and --help)" ||
  fail "make: regtwin's model.h names it" "$(cat "$src/build/obj/models/regtwin/model.h" 2>&1)"

# the C side of the registry asks the same reader: a program of the copy's
# harness lists both new models (C10K_ROOT points it at the copy)
if [ -x "$BIN/bench" ]; then
  got=$(C10K_ROOT=$src "$BIN/bench" --help 2>&1 | grep -- '--models')
  [[ $got == *regcopy* && $got == *regtwin* ]] && pass "registry.c: the harness lists the new models" ||
    fail "registry.c: the harness lists the new models" "$got"
else skip "registry.c: the harness lists the new models" "no $BIN/bench (make)"
fi

# the palette: the new models get a colour; the others keep theirs. Compared
# where a new model could change them: the charts' definitions (--gnuplot),
# made from the registry, in the tree and in the copy that has two more models
# (regcopy sorts before threads: colours dealt out by position would move).
# colours DIR [NAME...] — "NAME #RRGGBB" per name of DIR's charts' definitions
colours() { local d=$1; shift; "$d/scripts/palette.sh" --gnuplot "$@" | tr ';' '\n' | sed -n 's/^model_colour(m) =//p' |
            grep -o 'm eq "[^"]*" ? "#[0-9A-Fa-f]*"' | sed 's/^m eq "\([^"]*\)" ? "\(#[0-9A-Fa-f]*\)"$/\1 \2/'; }
# shellcheck disable=SC2046  # the peers' names, one word each
old=$(colours "$C10K_ROOT" $(peers/list.sh --all))
# shellcheck disable=SC2046
new=$(colours "$src" $(peers/list.sh --all))
moved=$(grep -vxF -f <(printf '%s\n' "$new") <<<"$old" | paste -sd ' ' -)
[ "$(wc -l <<<"$old")" -ge 10 ] && [ -z "$moved" ] && pass "palette: a new model repaints no other ($(wc -l <<<"$old") names keep their colours)" ||
  fail "palette: a new model repaints no other" "colours that moved (before): ${moved:-none}; $(wc -l <<<"$old") names before"
cc=$(awk '$1 == "regcopy" { print $2 }' <<<"$new")
same=$(awk -v c="$cc" '$2 == c && $1 != "regcopy" && $1 != "regtwin" { print $1 }' <<<"$new" | paste -sd ' ' -)
"$src/scripts/palette.sh" --gnuplot | grep -q "m eq \"regcopy\" ? \"$cc\"" && [ -n "$cc" ] && [ -z "$same" ] &&
  [ "$("$src/scripts/palette.sh" regcopy)" = "$(scripts/palette.sh regcopy)" ] &&
  pass "palette: the new model's colour ($cc) is in the charts' definitions, derived from its name alone, no other model's or peer's" ||
  fail "palette: the new model's colour is in the charts' definitions, derived from its name alone, no other model's or peer's" "regcopy: '$cc', also used by: ${same:-none}"

# a chart: the fetch chart of a summary with the new model draws it in its colour
if command -v gnuplot >/dev/null; then
  plan 2
  mkdir -p "$TMP/fetch"
  { echo "model,concurrency,runs,failed_runs,wall_s,cpu_s,peak_pss_kib,maxrss_kib,ideal_s"
    for m in $(models_list) regcopy curl; do echo "$m,1,1,0,1.0,0.1,1000,1000,1.0"; echo "$m,10,1,0,0.2,0.1,1000,1000,0.1"; done
  } >"$TMP/fetch/summary.csv"
  sum=$TMP/fetch/summary.csv  # (sourcing lib.sh below gives that shell its own $TMP)
  models=$(cd "$src" && source scripts/lib.sh && csv_models "$sum")
  [[ " $models " == *" regcopy "* && "$models" == *" curl" ]] && pass "charts: the models of a CSV, registry order, baselines last ($models)" \
    || fail "charts: the models of a CSV, registry order, baselines last" "got '$models'"
  (cd "$src" && gnuplot -e "set terminal svg" -e "summary='$TMP/fetch/summary.csv'; outdir='$TMP/fetch'; models='$models'" \
     scripts/fetch.gp) >"$TMP/gp.err" 2>&1
  rgb=$(printf 'rgb(%3d, %3d, %3d)' "0x${cc:1:2}" "0x${cc:3:2}" "0x${cc:5:2}")
  if grep -q '<title>fetch-regcopy</title>' "$TMP/fetch/fetch-wall.png" 2>/dev/null && grep -qF "$rgb" "$TMP/fetch/fetch-wall.png"; then
    pass "charts: the fetch chart draws the new model in its colour"
  else fail "charts: the fetch chart draws the new model in its colour" "no fetch-regcopy line in $rgb: $(head -c 200 "$TMP/gp.err")"; fi
else plan 1; skip "charts: the new model in a chart" "gnuplot is not installed (make deps)"
fi

# no file outside models/ spells the list: no line of the build, the scripts or
# the tests names every model of the registry
names=$(models_list)
plan 1
if [ "$(wc -l <<<"$names")" -ge 2 ]; then
  hits=""
  for f in Makefile mk/*.mk scripts/* tests/*.sh .ci/run; do
    [ -f "$f" ] || continue
    h=$(awk -v names="$names" 'BEGIN { n = split(names, m, "\n") }
      { k = 0; for (i = 1; i <= n; i++) if (match($0, "(^|[^A-Za-z0-9_-])" m[i] "([^A-Za-z0-9_-]|$)")) k++
        if (k == n) printf "%s:%d ", FILENAME, FNR }' "$f")
    hits="$hits$h"
  done
  [ -z "$hits" ] && pass "no script spells the model list" || fail "no script spells the model list" "$hits"
else skip "no script spells the model list" "fewer than two models: any list is a name"
fi

# the README's table of the models is scripts/models.sh --table: each row there
# is the registry's (a model added since may still lack its row: noted, no failure)
rows=$(scripts/models.sh --table)
bad="" missing=""
plan 1
while IFS= read -r line; do
  m=$(sed -n 's/^| `\([^`]*\)` | `bin\/echo-.*/\1/p' <<<"$line")
  [ -n "$m" ] || continue
  grep -qxF -- "$line" <<<"$rows" || bad="$bad $m"
done < <(grep '^| `[^`]*` | `bin/echo-' README.md)
for m in $(models_list); do grep -q "^| \`$m\` | " README.md || missing="$missing $m"; done
[ -n "$missing" ] && echo "note: README.md has no row yet for:$missing (scripts/models.sh --table)" >&2
[ -z "$bad" ] && pass "README's model table matches the models' about.txt" \
  || fail "README's model table matches the models' about.txt" "rows differ for:$bad (paste scripts/models.sh --table)"
finish
