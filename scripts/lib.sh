# shellcheck shell=bash disable=SC2034  # SPID, SPORT, SERR, SRC are for the caller
# scripts/lib.sh — the one shell library of c10k-lab, sourced by the
# benchmark and demo scripts and (through tests/lib.sh) by every test.
#
#   the registry      models_list          the models, in order (scripts/models.sh)
#                     models_ordered, csv_models   names in registry order, others after
#   a program         start_server NAME CMD...   start it, wait for its ready line
#   under test        stop_server PID [SIG]      signal it, wait, SIGKILL if stuck
#                     children_of PID            the PIDs whose parent is PID
#   checks (tests)    plan N, pass NAME, fail NAME WHY, skip NAME WHY, check NAME CMD...,
#                     finish, nested_suite NAME CMD...   (the protocol of tests/run.sh)
#   charts            gp_str, gp_png_term, gp_svg_term, gp_term, gp_palette, gp_panels,
#                     chart_flags (strings, terminals, colours, panels, footnote warnings)
#   metadata          meta_get FILE KEY...   one field of a meta.txt (scripts/meta.sh)
#   cores             cpu_list, pin_halves [LIST]   the CPUs we may use; disjoint halves
#                     for the server and the load on 4 or more (docs/methodology.md)
#
# Processes are started on port 0 and stopped by the PID we started, never
# by name. A program that does not get ready, or does not stop, is reported
# the same way everywhere (here on stderr; in C by harness/lib/proc.c):
#   NAME (pid P) did not get ready: printed no ready line within N s (stderr ends: ...)
#   NAME (pid P) did not get ready: exited with status S before its ready line (stderr ends: ...)
#   NAME (pid P) did not stop within N s of SIGTERM: killed with SIGKILL
# Settings: READY_S (5) and STOP_S (5) seconds. Each sourcing script gets its
# own temporary folder $TMP, removed on exit with every process still running
# that start_server started; lib_on_exit CMD adds a command to run first.
set -u
C10K_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-bin}
READY_S=${READY_S:-5}
STOP_S=${STOP_S:-5}
# Never inherited: TMP is a common environment variable (often /tmp itself).
TMP=$(mktemp -d)
_pids=()
declare -gA _names=()   # PID -> the NAME start_server was given
_lib_exit_hooks=()

lib_on_exit() { _lib_exit_hooks+=("$*"); }
# _forget PID — drop a reaped PID from the list killed on exit (its number may
# belong to another process later)
_forget() { local p keep=(); for p in "${_pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; _pids=("${keep[@]}"); }
lib_cleanup() {
  local h p
  for h in "${_lib_exit_hooks[@]}"; do eval "$h" || true; done
  for p in "${_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap lib_cleanup EXIT

# models_list — the model names, one per line, by their order (scripts/models.sh)
models_list() { "$C10K_ROOT/scripts/models.sh"; }
# models_ordered NAME... — the distinct NAMEs on one line: the registry's
# models first, in the registry's order, then the peers in theirs (PEERS=1),
# then the others (baselines, models of an older run) in the order given.
# Charts and tables list names this way.
models_ordered() {
  { models_list; "$C10K_ROOT/peers/list.sh" --all; printf '%s\n' "$@"; } |
    awk -v given=" $* " 'index(given, " " $0 " ") && !seen[$0]++' | paste -sd ' ' -
}
# csv_models FILE [COLUMN] — the distinct values of COLUMN (default model) of
# a CSV with a header row, ordered as models_ordered does
csv_models() {
  # shellcheck disable=SC2046
  models_ordered $(awk -F, -v name="${2:-model}" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                   c && $c != "" && !seen[$c]++ { print $c }' "$1")
}

# The checks speak tests/run.sh's protocol (docs/testing.md): `plan N` before
# the N checks it announces (at the top of each loop turn, so that an early
# `continue` shows up as missing checks); each check ends as one PASS, FAIL
# or SKIP line (a skip is never a pass); `finish`, the suite's last line, says
# it ran to its end.
plan() { echo "PLAN $1"; }
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-}"; }
skip() { echo "SKIP $1: ${2:-}"; }
finish() { echo "END"; }
# check NAME COMMAND... — pass if the command succeeds
check() { local n=$1; shift; if "$@" >"$TMP/check.out" 2>&1; then pass "$n"; else fail "$n" "$(tail -n 3 "$TMP/check.out" | tr '\n' ' ')"; fi; }
# nested_suite NAME COMMAND... — run another suite as part of this one: its
# PLAN, PASS, FAIL and SKIP lines pass through (the runner counts them with
# ours), its END is swallowed, and one check of our own (planned here) says
# whether it ran to its END and exited 0 or with a FAIL — so a child that
# crashes or stops halfway fails even though its earlier passes stand.
nested_suite() {
  local name=$1 line ended=0 fails=0 rc=; shift
  plan 1
  while IFS= read -r line; do
    case $line in
      END) ended=1 ;;
      "PLAN "* | "PASS "* | "FAIL "* | "SKIP "*) ended=0; echo "$line"; [[ $line != "FAIL "* ]] || fails=$((fails + 1)) ;;
      "nested_suite-exit "*) rc=${line#nested_suite-exit } ;;
    esac
  done < <("$@" 2>"$TMP/nested.err" </dev/null; echo "nested_suite-exit $?")
  if [ "$ended" = 1 ] && { [ "$rc" = 0 ] || [ "$fails" -gt 0 ]; }; then pass "$name: ran to its END"
  else fail "$name: ran to its END" "exit status ${rc:-?}, $([ "$ended" = 1 ] && echo "no FAIL line" || echo "no END")$(_tail_of "$TMP/nested.err")"; fi
}

# _tail_of FILE — " (stderr ends: LAST LINES)" on one line, or nothing if FILE is empty
_tail_of() {
  local t; t=$(tail -n 3 "$1" 2>/dev/null | tr '\n' ' ' | cut -c1-200 | sed 's/ *$//')
  [ -z "$t" ] || echo " (stderr ends: $t)"
}

# start_server NAME COMMAND... — start COMMAND (its stdout in $TMP/NAME.out,
# stderr in $TMP/NAME.err), wait up to READY_S seconds for its ready line
# "listening on ADDR:PORT"; sets SPID and SPORT. Returns 1, with SERR set to
# the one-line reason (also printed on stderr), if it exits or never gets ready.
start_server() {
  local name=$1; shift
  local out="$TMP/$name.out" err="$TMP/$name.err" i tries st=0
  "$@" >"$out" 2>"$err" &
  SPID=$! SPORT="" SERR=""
  _pids+=("$SPID") _names[$SPID]=$name
  tries=$(awk -v s="$READY_S" 'BEGIN { printf "%d", s * 20 }')
  for ((i = 0; i < tries; i++)); do
    if grep -q '^listening on ' "$out" 2>/dev/null; then
      SPORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out" | head -n 1)
      return 0
    fi
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$SPID" 2>/dev/null; then
    SERR="$name (pid $SPID) did not get ready: printed no ready line within $READY_S s$(_tail_of "$err")"
    kill -KILL "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
  else
    wait "$SPID" 2>/dev/null || st=$?
    SERR="$name (pid $SPID) did not get ready: exited with status $st before its ready line$(_tail_of "$err")"
  fi
  _forget "$SPID"
  echo "$SERR" >&2
  return 1
}

# stop_server PID [SIGNAL] — signal it (TERM by default), wait up to STOP_S
# seconds; sets SRC to its exit status, or 124 if it had to be killed (then
# says so on stderr). PID must be a child of this shell.
stop_server() {
  local pid=$1 sig=${2:-TERM} i tries
  kill -"$sig" "$pid" 2>/dev/null || true
  tries=$(awk -v s="$STOP_S" 'BEGIN { printf "%d", s * 20 }')
  for ((i = 0; i < tries; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    SRC=124
    echo "${_names[$pid]:-process} (pid $pid) did not stop within $STOP_S s of SIG$sig: killed with SIGKILL" >&2
    _forget "$pid"
    return 0
  fi
  SRC=0; wait "$pid" 2>/dev/null || SRC=$?
  _forget "$pid"
}

# children_of PID — the PIDs whose parent is PID (zombies included)
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }

# --- gnuplot ------------------------------------------------------------------
# gp_str TEXT — TEXT as a gnuplot string literal
gp_str() { printf '"%s"' "$(sed 's/[\\"]/\\&/g' <<<"$1")"; }
# gp_png_term W H [enhanced|noenhanced [POINTS]] — the PNG terminal command: pngcairo
# (anti-aliased) where this gnuplot has it, else the libgd png terminal
gp_png_term() {
  local mode=${3:-noenhanced} pt=${4:-11}
  if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then
    echo "set terminal pngcairo size $1,$2 font \"DejaVu Sans,$pt\" $mode"
  else
    echo "set terminal png size $1,$2 font \"DejaVuSans,$pt\" $mode"
  fi
}
# gp_svg_term W H [enhanced|noenhanced] — the SVG terminal command: clicking a
# name in the key hides or shows its line (gnuplot's `mouse`, its script inside
# the file: `standalone`; scripts/html.sh puts the charts in one page)
gp_svg_term() { echo "set terminal svg size $1,$2 dynamic font \"DejaVu Sans,12\" ${3:-noenhanced} mouse standalone background \"#ffffff\""; }
# gp_palette NAME... — the gnuplot definitions of every model's colour and
# marker (scripts/palette.sh), covering NAMEs too; pass it with gnuplot -e
gp_palette() { "$C10K_ROOT/scripts/palette.sh" --gnuplot "$@"; }
# gp_term png|svg NAME... — the terminal for a chart of NAMEs: wider when
# they are drawn as panels side by side (gp_panels), with large type (a
# chart is read on a projector too)
gp_term() {
  local t=$1 np w; shift
  np=$("$C10K_ROOT/scripts/palette.sh" --panels "$@" | wc -l)
  w=$((np >= 3 ? 1600 : np == 2 ? 1350 : 1100))
  if [ "$t" = png ]; then gp_png_term "$w" 720 noenhanced 15
  else gp_svg_term "$w" 720 noenhanced; fi
}
# chart_flags CSV SUMMARY — the warning under a chart, "WARNING: N of M
# runs disturbed (...), K points spread > 50% (ringed ...)", or nothing when every
# run was quiet and every point tight
chart_flags() {
  awk -F, -v sum="$2" '
    FNR == 1 { delete c; for (i = 1; i <= NF; i++) c[$i] = i; next }
    FILENAME != sum { runs++; if ("disturbed" in c && $c["disturbed"] > 0) dist++; next }
    "spread_pct" in c && $c["spread_pct"] > 50 { wide++ }
    END { s = ""
      if (dist) s = sprintf("%d of %d runs disturbed (other processes took > 0.25 cores)", dist, runs)
      if (wide) s = s (s ? ", " : "") sprintf("%d points spread > 50%%", wide)
      if (s) printf "WARNING: %s (ringed in the line charts)", s }' "$1" "$2"
}
# gp_panels NAME... — the small multiples of a chart of NAMEs, as gnuplot
# assignments for scripts/panels.gp: np panels, pm1.. their names, pt1.. their
# titles (scripts/palette.sh --panels: six names or fewer stay in one panel).
gp_panels() {
  local k=0 title names
  while IFS=$'\t' read -r _ title names; do
    k=$((k + 1)); [ "$title" != - ] || title=""
    printf 'pm%d=%s; pt%d=%s; ' "$k" "$(gp_str "$names")" "$k" "$(gp_str "$title")"
  done < <("$C10K_ROOT/scripts/palette.sh" --panels "$@")
  echo "np=$k"
}

# --- metadata -------------------------------------------------------------------
# meta_get FILE KEY... — the value of the first KEY that FILE holds (meta.txt
# written by scripts/meta.sh; older files used other names for some keys,
# e.g. cpu_model for cpu: list both)
meta_get() {
  local f=$1 k v; shift
  for k in "$@"; do
    v=$(sed -n "s/^$k: //p" "$f" 2>/dev/null | head -n 1)
    [ -n "$v" ] && { echo "$v"; return 0; }
  done
  return 0
}
# meta_machine FILE — "CPU, N cores, Linux X" for a chart's footnote
meta_machine() {
  local k; k=$(meta_get "$1" kernel)
  case $k in Linux*|"") ;; *) k="Linux $k" ;; esac
  echo "$(meta_get "$1" cpu cpu_model), $(meta_get "$1" cores) cores, $k"
}

# --- cores ------------------------------------------------------------------------
# cpu_list — the CPUs this process may run on, one per line: its affinity
# (Cpus_allowed_list), which is what taskset and nproc see
cpu_list() { cpu_expand "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"; }
# cpu_expand "0-3,6" — 0 1 2 3 6, one per line
cpu_expand() {
  local part a b
  for part in ${1//,/ }; do
    a=${part%-*} b=${part#*-}
    seq "$a" "$b"
  done
}
# pin_halves [LIST] — "SERVER LOAD", two disjoint CPU sets in taskset -c's form
# ("0,1 2,3"): the first half of LIST (default: this process's CPUs) for the
# server, the rest for the load, when LIST has 4 CPUs or more. Nothing when
# it has fewer: on 2 cores a half is one core, and the server and the load
# then share the machine as before (--pin split asks for it on purpose).
pin_halves() {
  local cpus n
  mapfile -t cpus < <(if [ $# -gt 0 ]; then cpu_expand "$1"; else cpu_list; fi)
  n=${#cpus[@]}
  [ "$n" -ge 4 ] || return 0
  echo "$(IFS=,; echo "${cpus[*]:0:n/2}") $(IFS=,; echo "${cpus[*]:n/2}")"
}
