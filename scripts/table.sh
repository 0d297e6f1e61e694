#!/usr/bin/env bash
# table.sh [RUN_DIR] — write the "processes / threads / coroutines" comparison
# table (the slide every asyncio talk shows) from this suite's own results, in
# Markdown on stdout. Every figure is read from the CSV files of RUN_DIR
# (default results/reference): echo/echo-summary.csv (make bench),
# units/units.csv (make bench-units) and c10k/c10k.csv (make bench-c10k); a
# file that is missing leaves its rows out. One column per model found in
# them (registry order); the words (what switches, what is shared, what the
# model is best for) come from models/NAME/about.txt. When the results hold
# peers too (a run with PEERS=1: peers/NAME/, docs/peers.md), a second table
# puts each peer's row beside the C model it corresponds to (about.txt's
# `like`), with sentences on where the classic table holds, made from the
# figures. `make table` writes docs/table.md with it.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
dir=${1:-results/reference}
[ -d "$dir" ] || { echo "table.sh: no results folder $dir" >&2; exit 1; }

# col FILE NAME — the 1-based index of column NAME in FILE's header (0 if none)
col() { head -n 1 "$1" | tr ',' '\n' | grep -nx -- "$2" | cut -d: -f1 | head -n 1 || true; }

# units KIND WHAT PINNED FIELD — one figure from units.csv
units() {
  local f="$dir/units/units.csv" c
  [ -f "$f" ] || return 0
  c=$(col "$f" "$4"); [ -n "$c" ] || return 0
  awk -F, -v k="$1" -v w="$2" -v p="$3" -v c="$c" 'NR > 1 && $1 == k && $2 == w && $3 == p { print $c; exit }' "$f"
}

# echo_at MODEL FIELD — a median from echo-summary.csv at the largest connection count
echo_at() {
  local f="$dir/echo/echo-summary.csv" c cc
  [ -f "$f" ] || return 0
  c=$(col "$f" "$2"); cc=$(col "$f" conns); [ -n "$c" ] || return 0
  awk -F, -v m="$1" -v c="$c" -v cc="$cc" -v n="$(echo_conns)" 'NR > 1 && $1 == m && $cc == n { print $c; exit }' "$f"
}
# echo_conns [NAME...] — the largest connection count in echo-summary.csv (of those NAMEs' rows)
echo_conns() {
  local f="$dir/echo/echo-summary.csv" cc
  cc=$(col "$f" conns)
  awk -F, -v cc="$cc" -v names=" $* " '
    NR > 1 && (names == "  " || index(names, " " $1 " ")) && $cc + 0 > max { max = $cc + 0 } END { print max }' "$f"
}
# echo_at_n MODEL FIELD N — a median from echo-summary.csv at N connections
echo_at_n() {
  local f="$dir/echo/echo-summary.csv" c cc
  [ -f "$f" ] || return 0
  c=$(col "$f" "$2"); cc=$(col "$f" conns); [ -n "$c" ] || return 0
  awk -F, -v m="$1" -v c="$c" -v cc="$cc" -v n="$3" 'NR > 1 && $1 == m && $cc == n { print $c; exit }' "$f"
}

# c10k_at MODEL FIELD — the median over reps of FIELD at the largest N in c10k.csv
# c10k_conns [NAME...] — the largest N in c10k.csv (of those NAMEs' rows)
c10k_conns() {
  local f="$dir/c10k/c10k.csv" cc
  cc=$(col "$f" conns)
  awk -F, -v cc="$cc" -v names=" $* " '
    NR > 1 && (names == "  " || index(names, " " $1 " ")) && $cc + 0 > max { max = $cc + 0 } END { print max }' "$f"
}
c10k_at() { c10k_at_n "$1" "$2" "$(c10k_conns)"; }
# c10k_at_n MODEL FIELD N — the median over reps of FIELD at N connections
c10k_at_n() {
  local f="$dir/c10k/c10k.csv" c cc
  [ -f "$f" ] || return 0
  c=$(col "$f" "$2"); cc=$(col "$f" conns); [ -n "$c" ] || return 0
  awk -F, -v m="$1" -v c="$c" -v cc="$cc" -v n="$3" \
    'NR > 1 && $1 == m && $cc == n && $c != "" { print $c }' "$f" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# fmt N DIGITS [DIVISOR] — a number rounded for reading, "–" when missing,
# "≈0" when a difference of two noisy readings came out below zero
fmt() {
  if [ -z "${1:-}" ]; then printf '–'; return; fi
  awk -v x="$1" -v d="$2" -v s="${3:-1}" 'BEGIN { if (x < 0) printf "≈0"; else printf "%.*f", d, x / s }'
}
# int_fmt N — a whole number with thousands separators
int_fmt() {
  if [ -z "${1:-}" ]; then printf '–'; return; fi
  awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); print s }'
}

# the models: those in the results (registry order), else the registry's
source "$(dirname "$0")/lib.sh"

# --- comparisons with their intervals (bin/bench --compare over echo/echo.csv) ---
# cmp MODEL BASE METRIC N — "RATIO LO HI CONFIDENCE ROUNDS VERDICT" at N
# connections; nothing when the run has no per-repetition rows or bench is not built
cmp() {
  local f="$dir/echo/echo.csv"
  [ -f "$f" ] && [ -x "$BIN/bench" ] || return 0
  "$BIN/bench" --compare "$f" --base "$2" --metrics "$3" 2>/dev/null | awk -F, -v m="$1" -v n="$4" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["model"] == m && $c["conns"] + 0 == n + 0 { print $c["ratio"], $c["lo"], $c["hi"], $c["confidence_pct"], $c["rounds"], $c["verdict"]; exit }'
}
# ci MODEL BASE METRIC N — "2.5x [2.4, 2.6]", its confidence when under 95%,
# "within noise" when the interval holds 1; "–" when there is no interval
ci() {
  local r; r=$(cmp "$@")
  [ -n "$r" ] || { echo "–"; return; }
  awk -v r="$r" 'BEGIN { split(r, f, " "); v = r; for (i = 1; i <= 5; i++) sub(/^[^ ]+ /, "", v)
    if (v == "one round") { printf "%.2fx (one round)", f[1]; exit }
    printf "%.2fx [%.2f, %.2f]%s%s", f[1], f[2], f[3], (f[4] < 95 ? sprintf(" (%.0f%%)", f[4]) : ""), (v == "within noise" ? " within noise" : "") }'
}
# noise MODEL BASE METRIC N — true when the run cannot tell MODEL from BASE
noise() { [[ $(cmp "$@") == *"within noise" ]]; }
# ratio_say MODEL BASE METRIC N RATIO — a sentence's ratio: "2.5x [2.4, 2.6]",
# or "about the same (1.05x [0.95, 1.20], within noise)"; RATIO when no interval
ratio_say() {
  local c; c=$(ci "$1" "$2" "$3" "$4")
  if [ "$c" = "–" ]; then echo "${5}x"
  elif noise "$1" "$2" "$3" "$4"; then echo "about the same (${c% within noise}, within noise)"
  else echo "$c"; fi
}
data_models=""
for f in "$dir/echo/echo-summary.csv" "$dir/c10k/c10k.csv"; do
  [ -f "$f" ] && data_models="$data_models $(awk -F, 'NR > 1 { print $1 }' "$f" | sort -u | paste -sd ' ' -)"
done
# the peers in the results (a PEERS=1 run) get a table of their own, below
peer_names=" $("$C10K_ROOT/peers/list.sh" --all | paste -sd ' ' -) "
is_peer() { [[ $peer_names == *" $1 "* ]]; }
data_peers="" data_c=""
# shellcheck disable=SC2086
for m in $(models_ordered $data_models); do
  if is_peer "$m"; then data_peers="$data_peers $m"; else data_c="$data_c $m"; fi
done
models=${data_c# }
[ -n "$models" ] || models=$(models_list | paste -sd ' ' -)
about() { "$C10K_ROOT/scripts/models.sh" --about "$1" "$2" 2>/dev/null; }

# row LABEL CELL... — one Markdown row
row() { local IFS='|'; printf '| %s |\n' "$(sed 's/|/ | /g' <<<"$*")"; }
# each_model FUNCTION — one row cell per model: FUNCTION MODEL prints the cell
each_model() { local m cells=(); for m in $models; do cells+=("$("$1" "$m")"); done; printf '%s\n' "${cells[@]}"; }
# model_row LABEL FUNCTION — a row with one cell per model
model_row() { local cells; mapfile -t cells < <(each_model "$2"); row "$1" "${cells[@]}"; }

meta() { meta_get "$dir/echo/meta.txt" "$@"; }
# the column's header: its units in words ("threads"), from about.txt's units:, else its unit:
header() {
  local u; u=$(about "$1" units); [ -n "$u" ] || { u=$(about "$1" unit); u=${u:+${u}s}; }
  echo "${u:+$u }(\`$1\`)" | sed 's/sss (/sses (/; s/ss (/ses (/'
}
dash() { echo "---"; }
or_dash() { [ -n "$1" ] && echo "$1" || echo "–"; }
switches() { or_dash "$(about "$1" switches)"; }
shares() { or_dash "$(about "$1" shares)"; }
best_for() { or_dash "$(about "$1" best_for)"; }
# unit_fig MODEL WHAT PINNED FIELD DIGITS DIV UNIT — a units.csv figure for the model's unit
unit_fig() { local u; u=$(about "$1" unit); [ -n "$u" ] || { echo "–"; return; }; echo "$(fmt "$(units "$u" "$2" "$3" "$4")" "$5" "$6") $7"; }
u_create() { unit_fig "$1" create no ns_per_unit_median "$([ "$(about "$1" unit)" = coroutine ] && echo 2 || echo 1)" 1000 µs; }
u_switch() { unit_fig "$1" switch yes ns_per_unit_median 0 1 ns; }
u_memory() {
  local u; u=$(about "$1" unit); [ -n "$u" ] || { echo "–"; return; }
  echo "$(fmt "$(units "$u" create no pss_kib_per_unit)" 1) + $(fmt "$(units "$u" create no kernel_kib_per_unit)" 1) KiB"
}
e_msgs() { int_fmt "$(echo_at "$1" msgs_per_s)"; }
e_p99() { echo "$(fmt "$(echo_at "$1" p99_us)" 0) µs"; }
e_cpu() { echo "$(fmt "$(echo_at "$1" cpu_us_per_msg)" 1) µs"; }
e_busy() { fmt "$(echo_at "$1" cores_busy)" 2; }
e_pss() { echo "$(fmt "$(echo_at "$1" pss_per_conn_kib)" 1) KiB"; }
c_mem() { echo "$(fmt "$(c10k_at "$1" pss_kib_per_conn)" 1) + $(fmt "$(c10k_at "$1" kernel_kib_per_conn)" 1) KiB"; }

cat <<EOF2
# Processes, threads, coroutines — measured

<!-- Generated by scripts/table.sh from $dir; do not edit by hand: run \`make table\`. -->

The table every talk on asyncio shows, filled with this suite's own figures.
Machine: $(meta cpu cpu_model), $(meta cores) cores, $(k=$(meta kernel); case $k in Linux*) echo "$k" ;; *) echo "Linux $k" ;; esac); run of $(meta date) (commit $(meta commit)).
How each figure is measured: [methodology.md](methodology.md), [unit-costs.md](unit-costs.md), [c10k.md](c10k.md).
One column per model (models/NAME/about.txt gives the words, the results the figures).

EOF2
model_row "" header
model_row "---" dash
model_row "who decides when to switch" switches
model_row "memory shared between units" shares
if [ -f "$dir/units/units.csv" ]; then
  model_row "create one and let it finish" u_create
  model_row "one switch, both on one core" u_switch
  model_row "memory per live unit (user PSS + kernel)" u_memory
fi
if [ -f "$dir/echo/echo-summary.csv" ]; then
  n=$(echo_conns)
  model_row "echo, $n connections: messages/s" e_msgs
  model_row "echo, $n connections: p99 latency" e_p99
  model_row "echo, $n connections: CPU per message" e_cpu
  model_row "echo, $n connections: CPUs kept busy" e_busy
  model_row "echo, $n connections: user memory (PSS) per connection" e_pss
fi
if [ -f "$dir/c10k/c10k.csv" ]; then
  n=$(c10k_conns)
  model_row "$n idle connections: user + kernel memory per connection" c_mem
fi
model_row "best for" best_for
cat <<EOF2

"≈0": the difference of two machine-wide readings came out below zero, i.e.
smaller than the noise of the measurement. The "best for" row is our summary of
the figures above and of the lessons in [models/](models/), not a measurement.
EOF2

# --- how sure: every model against the C loop, with intervals -------------------------
base=loop
if [ -n "$(cmp threads "$base" msgs_per_s "$(echo_conns)")" ]; then
  n=$(echo_conns)
  reps=$(cmp threads "$base" msgs_per_s "$n" | awk '{ print $5 }')
  cat <<EOF2

## How sure: each model against the C loop

Ratios of the medians at $n connections, each with its interval from the
${reps:-?} interleaved repetitions of the run (the per-round ratios; \`bin/bench
--compare\`, [methodology.md](methodology.md#comparisons-a-ratio-and-its-interval)).
"within noise": the interval holds 1 — this run cannot tell the two apart.
A percentage after an interval is its confidence when the run had too few
repetitions for 95% (6 are needed).

EOF2
  row "model / \`$base\`" "messages/s" "CPU per message" "p99 latency"
  row "---" "---" "---" "---"
  # shellcheck disable=SC2086
  for m in $(models_ordered $data_c $data_peers); do
    [ "$m" = "$base" ] && continue
    row "\`$m\` / \`$base\`" "$(ci "$m" "$base" msgs_per_s "$n")" "$(ci "$m" "$base" cpu_us_per_msg "$n")" "$(ci "$m" "$base" p99_us "$n")"
  done
  first=$(awk '{ print $1 }' <<<"$models") second=$(awk '{ print $2 }' <<<"$models")
  [ -z "$second" ] || [ "$second" = "$base" ] || [ "$first" = "$base" ] ||
    row "\`$first\` / \`$second\`" "$(ci "$first" "$second" msgs_per_s "$n")" "$(ci "$first" "$second" cpu_us_per_msg "$n")" "$(ci "$first" "$second" p99_us "$n")"
fi

# --- the peers: the classic table in Python (and Node, Go, libuv) beside C -------------
[ -n "$data_peers" ] || exit 0
peer_about() { "$C10K_ROOT/peers/list.sh" --about "$1" "$2" 2>/dev/null; }
lang_of() { case $(peer_about "$1" lang) in python) echo Python ;; node) echo Node ;; go) echo Go ;; c) echo "C + libuv" ;; *) peer_about "$1" lang ;; esac; }
# the rows: each C model that a peer is like, its peers under it; then the peers like no model
rows=""
for m in $models; do
  like_it=""
  for p in $data_peers; do [ "$(peer_about "$p" like)" = "$m" ] && like_it="$like_it $p"; done
  [ -n "$like_it" ] && rows="$rows $m$like_it"
done
for p in $data_peers; do [[ " $rows " == *" $p "* ]] || rows="$rows $p"; done
# the connection counts: the largest at which a peer was measured, the C rows at the same
# shellcheck disable=SC2086
pn=$([ -f "$dir/echo/echo-summary.csv" ] && echo_conns $data_peers)
# shellcheck disable=SC2086
pc=$([ -f "$dir/c10k/c10k.csv" ] && c10k_conns $data_peers)
pe() { echo_at_n "$1" "$2" "$pn"; }
pk() { c10k_at_n "$1" "$2" "$pc"; }
who() {
  if is_peer "$1"; then
    local like; like=$(peer_about "$1" like)
    if [ "$like" = own ]; then echo "$(lang_of "$1") \`$1\` (peer, a design of its own)"
    else echo "$(lang_of "$1") \`$1\` (peer, like \`$like\`)"; fi
  else
    local u; u=$(about "$1" units); [ -n "$u" ] || { u=$(about "$1" unit); u=${u:+${u}s}; }
    echo "C \`$1\` ($u)" | sed 's/ss)/ses)/; s/ ()//'
  fi
}
p_create() { if is_peer "$1"; then echo "not measured"; else u_create "$1"; fi; }
p_row() {
  local m=$1 mem="–"
  [ -z "$pc" ] || mem="$(fmt "$(pk "$m" pss_kib_per_conn)" 1) + $(fmt "$(pk "$m" kernel_kib_per_conn)" 1) KiB"
  row "$(who "$m")" "$(int_fmt "$(pe "$m" msgs_per_s)")" "$(fmt "$(pe "$m" cpu_us_per_msg)" 1) µs" \
      "$(fmt "$(pe "$m" cores_busy)" 2)" "$(fmt "$(pe "$m" p99_us)" 0) µs" "$mem" "$(p_create "$m")"
}
cat <<EOF2

## The same table in Python, and in Node, Go and libuv

The talks' table is about Python; these rows are the same servers written in
other runtimes (peers/NAME/, [peers.md](peers.md)), measured in the same run by
the same harness, each under the C model it corresponds to.
Echo at ${pn:-–} connections; memory at ${pc:-–} idle connections.

EOF2
row "runtime" "echo: messages/s" "CPU per message" "CPUs kept busy" "p99 latency" "memory per idle connection (user PSS + kernel)" "create one unit and let it finish"
row "---" "---" "---" "---" "---" "---" "---"
for m in $rows; do p_row "$m"; done

# --- where the classic table holds, in words made from the figures above -------------
say() { printf '%s\n' "$*"; }
num() { [ -n "$1" ]; }
# gt A B FACTOR — A > B x FACTOR
gt() { awk -v a="$1" -v b="$2" -v f="${3:-1}" 'BEGIN { exit !(a > b * f) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
mem_of() { local u k; u=$(pk "$1" pss_kib_per_conn); k=$(pk "$1" kernel_kib_per_conn); num "$u" && num "$k" && awk -v u="$u" -v k="$k" 'BEGIN { printf "%.1f", (u < 0 ? 0 : u) + (k < 0 ? 0 : k) }'; }
echo
say "What the figures say about the classic table (\"processes: high memory, many CPUs;"
say "threads: medium, one CPU; asyncio: low, one CPU\"), sentence by sentence:"
echo
mp=$(mem_of py-processes || true) mt=$(mem_of py-threads || true) ma=$(mem_of py-asyncio || true)
if num "$mp" && num "$mt" && num "$ma"; then
  if gt "$mp" "$mt" && gt "$mt" "$ma"; then v="holds: processes $mp KiB, threads $mt KiB, asyncio $ma KiB"
  else v="does not hold as stated: processes $mp KiB, threads $mt KiB, asyncio $ma KiB"; fi
  cf=$(mem_of fork || true) ct=$(mem_of threads || true) cl=$(mem_of loop || true)
  say "- Memory per idle connection at $pc connections (user + kernel): in Python the order high, medium, low $v."
  num "$cf" && num "$ct" && num "$cl" && say "  The same in C: fork $cf KiB, threads $ct KiB, loop $cl KiB."
fi
bt=$(pe py-threads cores_busy) bc=$(pe threads cores_busy) bp=$(pe py-processes cores_busy) cores=$(meta cores)
f2() { fmt "$1" 2; }
if num "$bt"; then
  if gt "$bt" 1 1.15; then
    s1="kept $(f2 "$bt") CPUs busy: more than one, because a thread lets the GIL go in every blocking call (recv, send, and the GIL's own hand-over), so time in the kernel overlaps, while Python code itself runs on one core at a time"
  else s1="kept $(f2 "$bt") CPUs busy: one core at a time, as the GIL lets one thread run Python"; fi
  say "- Python threads (\`py-threads\`) at $pn connections $s1."
  if num "$bc"; then
    if gt "$bc" "$bt" 1.2 && ! noise threads py-threads cores_busy "$pn"; then say "  C threads (\`threads\`) kept $(f2 "$bc") of the ${cores:-?} cores busy, $(ratio_say threads py-threads cores_busy "$pn" "$(ratio "$bc" "$bt")") as many: no lock, every thread runs at once."
    else say "  C threads (\`threads\`) kept $(f2 "$bc") of the ${cores:-?} cores busy, no more than Python's here ($(ratio_say threads py-threads cores_busy "$pn" "$(ratio "$bc" "$bt")") as many; the load generator shares the same cores, and a C thread needs far less CPU per message)."; fi
  fi
fi
if num "$bp"; then
  say "- Python processes (\`py-processes\`) kept $(f2 "$bp") CPUs busy: each child has its own interpreter and GIL, so they$(gt "$bp" 1 1.15 || echo " could, but here did not,") use several cores."
fi
ca=$(pe py-asyncio cpu_us_per_msg) cl=$(pe loop cpu_us_per_msg) ra=$(pe py-asyncio msgs_per_s) rl=$(pe loop msgs_per_s)
if num "$ca" && num "$cl"; then
  say "- asyncio (\`py-asyncio\`) spent $(fmt "$ca" 1) µs of CPU per message, the C loop $(fmt "$cl" 1) µs: $(ratio_say py-asyncio loop cpu_us_per_msg "$pn" "$(ratio "$ca" "$cl")");"
  if noise loop py-asyncio msgs_per_s "$pn"; then
    say "  both on one thread, they carried $(ratio_say loop py-asyncio msgs_per_s "$pn" "$(ratio "$rl" "$ra")") messages per second ([peers.md](peers.md)"
  else
    say "  both on one thread, the C loop carried $(ratio_say loop py-asyncio msgs_per_s "$pn" "$(ratio "$rl" "$ra")") the messages per second ([peers.md](peers.md)"
  fi
  say "  counts the system calls and the interpreter's work behind each message)."
fi
cat <<EOF2

Creating a unit is measured for the C models only (make bench-units); the
peers' rows show "not measured".
EOF2
