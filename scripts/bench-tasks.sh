#!/usr/bin/env bash
# bench-tasks.sh — how much memory do N sleeping tasks need? Start N tasks
# that each sleep S seconds, wait for all of them, and report the peak memory
# (the memory cgroup's peak and max RSS) and the wall time, for every N and
# every kind: process, thread, coroutine, stackless, floor (bin/tasks-sleep),
# and the peers py-asyncio, node, go, tokio. The method of pkolaczk's 2023
# comparison; docs/tasks.md is the lesson.
#
#   make bench-tasks                                 (the defaults: ~10 minutes)
#   TASKS_N=100,1000 TASKS_SLEEP=1 scripts/bench-tasks.sh
#
# Each (kind, N) runs once under bin/tasks-run, in a memory cgroup of its own,
# killed after S+60 s. A kind that stops (pid_max, threads-max,
# vm.max_map_count, memory, timeout) gets a row saying why in the `stopped`
# column, and its larger N are skipped. A kind whose toolchain is missing is
# skipped with one line. Writes OUT/tasks.csv, OUT/meta.txt, OUT/tasks.png and
# OUT/tasks.svg (scripts/tasks.gp) and prints a table.
#
# Environment: BIN (bin), OUT (results/tasks), TASKS_N (N list,
# 1000,10000,100000,1000000), TASKS_SLEEP (S, 10), TASKS_KINDS (all of them),
# TASKS_CAP ("KIND=N ...": skip a kind's N above its cap, e.g. python=100000),
# TASKS_MEM_MAX (MiB, the cgroup limit; half of MemTotal), TASKS_RAISE (1: as
# root, raise kernel.pid_max, kernel.threads-max and vm.max_map_count for the
# process and thread kinds, restored after each; 0: never), TASKS_SYSCTL (where
# those settings are read and written, /proc/sys; tests use a copy), TASKS_LOCK
# (a file: hold flock on it while each kind runs, so that other measurements wait).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help) sed -n '2,26s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench-tasks.sh: unexpected argument '$1' (settings come from the environment; try --help)" >&2; exit 2 ;;
esac
source scripts/lib.sh
BIN=${BIN:-bin}
OUT=${OUT:-results/tasks}
NS=${TASKS_N:-1000,10000,100000,1000000}
S=${TASKS_SLEEP:-10}
KINDS=${TASKS_KINDS:-process thread coroutine stackless floor py-asyncio node go tokio}
CAP=${TASKS_CAP:-}
RAISE=${TASKS_RAISE:-1}
SYSCTL=${TASKS_SYSCTL:-/proc/sys}
LOCK=${TASKS_LOCK:-}
mem_total_mib=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
MEM_MAX=${TASKS_MEM_MAX:-$((mem_total_mib / 2))}
# the C kinds stop starting tasks themselves when the machine gets short
MEM_FLOOR=$((mem_total_mib / 4 > 1024 ? mem_total_mib / 4 : 1024))

die() { echo "bench-tasks.sh: $1" >&2; exit 2; }
[[ $NS =~ ^[0-9]+(,[0-9]+)*$ ]] || die "TASKS_N '$NS' is not a comma-separated list of whole numbers"
[[ $S =~ ^[0-9]+([.][0-9]+)?$ ]] || die "TASKS_SLEEP '$S' is not a number of seconds"
[[ $MEM_MAX =~ ^[0-9]+$ ]] || die "TASKS_MEM_MAX '$MEM_MAX' is not a whole number of MiB"
for k in $KINDS; do
  case "$k" in process|thread|coroutine|stackless|floor|py-asyncio|node|go|tokio) ;;
    *) die "TASKS_KINDS: unknown kind '$k' (process thread coroutine stackless floor py-asyncio node go tokio)" ;; esac
done
for c in $CAP; do [[ $c =~ ^[a-z-]+=[0-9]+$ ]] || die "TASKS_CAP: '$c' is not KIND=N"; done
for p in tasks-sleep tasks-run; do [ -x "$BIN/$p" ] || die "$BIN/$p is missing (run make)"; done
# the Go kind is built here when go is present (make bench-tasks does it too)
if [ ! -x "$BIN/tasks-go" ] && command -v go >/dev/null; then
  make --no-print-directory BIN="$BIN" "$BIN/tasks-go" >&2 || echo "bench-tasks.sh: could not build $BIN/tasks-go" >&2
fi
# the tokio kind, when the tokio peer's toolchain is present (Debian's cargo and crates)
if [ ! -x "$BIN/tasks-tokio" ] && peers/list.sh --missing tokio >/dev/null 2>&1 && [ -z "$(peers/list.sh --missing tokio)" ]; then
  make --no-print-directory BIN="$BIN" "$BIN/tasks-tokio" >&2 || echo "bench-tasks.sh: could not build $BIN/tasks-tokio" >&2
fi
timeout_s=$(awk -v s="$S" 'BEGIN { printf "%d", s + 60 + 0.999 }')
mkdir -p "$OUT"

# --- the command of each kind; empty (with a reason on stderr) if it cannot run ---
kind_cmd() { # KIND N
  case "$1" in
    process|thread|coroutine|stackless|floor)
      echo "$BIN/tasks-sleep --kind $1 --count $2 --sleep $S --mem-floor $MEM_FLOOR" ;;
    py-asyncio)
      [ -x /usr/bin/python3 ] || { echo "/usr/bin/python3 is missing (apt-get install python3)" >&2; return; }
      echo "/usr/bin/python3 tasks/sleep.py $2 $S" ;;
    node)
      command -v node >/dev/null || { echo "node is missing (apt-get install nodejs)" >&2; return; }
      echo "$(command -v node) tasks/sleep.js $2 $S" ;;
    go)
      [ -x "$BIN/tasks-go" ] || { echo "$BIN/tasks-go is missing (go is not installed: apt-get install golang-go; then make $BIN/tasks-go)" >&2; return; }
      echo "$BIN/tasks-go $2 $S" ;;
    tokio)
      [ -x "$BIN/tasks-tokio" ] || { echo "$BIN/tasks-tokio is missing (the tokio peer's toolchain: apt-get install $(peers/list.sh --about tokio packages); then make $BIN/tasks-tokio)" >&2; return; }
      echo "$BIN/tasks-tokio $2 $S" ;;
  esac
}
kind_runtime() { # KIND — the version, for meta.txt
  case "$1" in
    py-asyncio) /usr/bin/python3 -c 'import sys; print("python3 %d.%d.%d" % sys.version_info[:3])' 2>/dev/null ;;
    node) node -e 'console.log("node " + process.versions.node)' 2>/dev/null ;;
    go) go version 2>/dev/null | awk '{ print $3 }' ;;
    tokio) peers/list.sh --runtime tokio 2>/dev/null ;;
    *) ;; # the C kinds: the compiler is in meta.txt already
  esac
}
cap_of() { local c; for c in $CAP; do [ "${c%%=*}" = "$1" ] && { echo "${c#*=}"; return; }; done; echo 0; }

# --- kernel limits: raised for one kind (as root), restored after it and on exit ---
declare -A saved=()
limits_note=""
set_sysctl() { # KEY VALUE — raise KEY to at least VALUE, remembering the old value
  local f=$SYSCTL/${1//.//} old
  old=$(cat "$f")
  [ "$old" -ge "$2" ] && return 0
  [ -z "${saved[$1]:-}" ] && saved[$1]=$old
  if echo "$2" >"$f" 2>/dev/null; then
    echo "bench-tasks: raised $1 from $old to $2" >&2
    limits_note="$limits_note${limits_note:+; }$1 $old -> $2 ($kind)"
  fi
}
restore_limits() {
  local k
  for k in "${!saved[@]}"; do
    echo "${saved[$k]}" >"$SYSCTL/${k//.//}" 2>/dev/null && echo "bench-tasks: restored $k to ${saved[$k]}" >&2
    unset "saved[$k]"
  done
}
trap restore_limits EXIT
trap "exit 143" TERM INT HUP  # so that the EXIT trap restores the limits
raise_limits() { # KIND NMAX — only the kinds that hit them; the others run with the defaults
  [ "$RAISE" = 1 ] && [ "$(id -u)" = 0 ] || return 0
  case "$1" in
    process) set_sysctl kernel.pid_max 4194304; set_sysctl kernel.threads-max $(($2 + 100000)) ;;
    thread) set_sysctl kernel.pid_max 4194304; set_sysctl kernel.threads-max $(($2 + 100000))
            set_sysctl vm.max_map_count $((2 * $2 + 65530)) ;; # a stack + its guard page per thread
  esac
}

# --- the runs -----------------------------------------------------------------------
scripts/meta.sh "$OUT/meta.txt.run" \
  --set pinning="none: every kind may use every CPU" \
  --set settings="N=$NS sleep_s=$S kinds=$KINDS cap=${CAP:-none} timeout_s=$timeout_s cgroup_limit_mib=$MEM_MAX mem_floor_mib=$MEM_FLOOR" \
  --set limits_before="kernel.pid_max=$(cat "$SYSCTL/kernel/pid_max") kernel.threads-max=$(cat "$SYSCTL/kernel/threads-max") vm.max_map_count=$(cat "$SYSCTL/vm/max_map_count")" \
  --command "TASKS_N=$NS TASKS_SLEEP=$S TASKS_KINDS=\"$KINDS\" TASKS_CAP=\"$CAP\" TASKS_MEM_MAX=$MEM_MAX TASKS_RAISE=$RAISE scripts/bench-tasks.sh"
csv="$OUT/tasks.csv.tmp"
"$BIN/tasks-run" --header >"$csv"
runtimes=""
for kind in $KINDS; do
  if [ -z "$(kind_cmd "$kind" 1 2>"$OUT/why")" ]; then
    echo "bench-tasks: skipped $kind: $(cat "$OUT/why")" | tee -a "$OUT/skipped" >&2
    continue
  fi
  rt=$(kind_runtime "$kind")
  [ -z "$rt" ] || runtimes="$runtimes${runtimes:+; }$kind: $rt"
  cap=$(cap_of "$kind") nmax=0
  for n in ${NS//,/ }; do [ "$cap" -gt 0 ] && [ "$n" -gt "$cap" ] || [ "$n" -le "$nmax" ] || nmax=$n; done
  raise_limits "$kind" "$nmax"
  # one kind's runs hold the lock together, then let others measure
  if [ -n "$LOCK" ]; then exec {lockfd}>>"$LOCK"; flock "$lockfd"; fi
  for n in ${NS//,/ }; do
    if [ "$cap" -gt 0 ] && [ "$n" -gt "$cap" ]; then
      echo "bench-tasks: $kind at N=$n skipped (TASKS_CAP $kind=$cap)" >&2; continue
    fi
    read -r -a cmd <<<"$(kind_cmd "$kind" "$n")"
    echo "bench-tasks: $kind N=$n: ${cmd[*]}" >&2
    run=("$BIN/tasks-run" --kind "$kind" --count "$n" --timeout "$timeout_s" --mem-max "$MEM_MAX" -- "${cmd[@]}")
    row=$("${run[@]}" 2>"$OUT/last.log") || { cat "$OUT/last.log" >&2; die "tasks-run failed for $kind N=$n"; }
    echo "$row" >>"$csv"
    stopped=$(cut -d, -f8 <<<"$row")
    if [ -n "$stopped" ]; then
      echo "bench-tasks: $kind stopped at N=$n ($stopped; $(cut -d, -f3 <<<"$row") started); larger N skipped" >&2
      grep -v -e '^started' -e '^done' "$OUT/last.log" | tail -n 3 >&2 || true
      break
    fi
  done
  restore_limits
  if [ -n "$LOCK" ]; then exec {lockfd}>&-; fi
done
rm -f "$OUT/why" "$OUT/last.log"
mv "$csv" "$OUT/tasks.csv"
scripts/meta.sh --finish "$OUT/meta.txt.run"
{
  echo "runtimes: $runtimes"
  echo "limits_raised: ${limits_note:-none} (restored after each kind)"
  [ ! -s "$OUT/skipped" ] || echo "skipped: $(sed 's/^bench-tasks: skipped //' "$OUT/skipped" | paste -sd ';' -)"
} >>"$OUT/meta.txt.run"
rm -f "$OUT/skipped"
mv "$OUT/meta.txt.run" "$OUT/meta.txt"

# --- the table ----------------------------------------------------------------------
printf '%-11s %9s %9s %8s %12s %12s %12s  %s\n' kind N started wall_s maxRSS_MiB cgroup_MiB bytes/task stopped
awk -F, 'NR > 1 { printf "%-11s %9d %9d %8.2f %12.1f %12s %12d  %s\n", $1, $2, $3, $4, $5 / 1024,
                  ($6 == "" ? "-" : sprintf("%.1f", $6 / 1024)), $7, $8 }' "$OUT/tasks.csv"
echo "(each task sleeps $S s; memory: the peak of the run's own memory cgroup, and the largest process's max RSS)"

# --- the chart ----------------------------------------------------------------------
if ! command -v gnuplot >/dev/null; then
  echo "bench-tasks.sh: gnuplot is missing (apt-get install gnuplot-nox): no chart drawn" >&2
  exit 1
fi
m="$OUT/meta.txt"
foot="$(meta_machine "$m") | $(meta_get "$m" date | cut -c1-10) | commit $(meta_get "$m" commit)"
foot="$foot | N tasks sleeping $S s each, one run per point | kernel limits raised: $([ -n "$limits_note" ] && echo "for process/thread (meta.txt)" || echo none)"
stops=$(awk -F, 'NR > 1 && $8 != "" && $3 > 0 { printf "%s ", $1 }' "$OUT/tasks.csv")
xmin=$(tr , '\n' <<<"$NS" | sort -n | head -n 1) xmax=$(tr , '\n' <<<"$NS" | sort -n | tail -n 1)
for t in png svg; do
  if [ "$t" = png ]; then term=$(gp_png_term 1300 800 enhanced); else term=$(gp_svg_term 1300 800 enhanced); fi
  gnuplot -e "$term" \
          -e "csv=$(gp_str "$OUT/tasks.csv"); out=$(gp_str "$OUT/tasks.$t"); foot=$(gp_str "$foot")" \
          -e "kinds=$(gp_str "$KINDS"); sleep_s=$(gp_str "$S")" \
          -e "stops=$(gp_str "$stops"); xmin=$xmin / 2.0; xmax=$xmax * 2.0" -e 'set output out' scripts/tasks.gp
done
echo "bench-tasks: wrote $OUT/tasks.csv, $OUT/meta.txt, $OUT/tasks.png, $OUT/tasks.svg" >&2
