#!/usr/bin/env bash
# table.sh [RUN_DIR] — write the "processes / threads / coroutines" comparison
# table (the slide every asyncio talk shows) from this suite's own results, in
# Markdown on stdout. Every figure is read from the CSV files of RUN_DIR
# (default results/reference): echo/echo-summary.csv (make bench),
# units/units.csv (make bench-units) and c10k/c10k.csv (make bench-c10k); a
# file that is missing leaves its rows out. One column per model found in
# them (registry order); the words (what switches, what is shared, what the
# model is best for) come from models/NAME/about.txt. `make table` writes
# docs/table.md with it.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
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
echo_conns() {
  local f="$dir/echo/echo-summary.csv" cc
  cc=$(col "$f" conns)
  awk -F, -v cc="$cc" 'NR > 1 && $cc + 0 > max { max = $cc + 0 } END { print max }' "$f"
}

# c10k_at MODEL FIELD — the median over reps of FIELD at the largest N in c10k.csv
c10k_conns() {
  local f="$dir/c10k/c10k.csv" cc
  cc=$(col "$f" conns)
  awk -F, -v cc="$cc" 'NR > 1 && $cc + 0 > max { max = $cc + 0 } END { print max }' "$f"
}
c10k_at() {
  local f="$dir/c10k/c10k.csv" c cc
  [ -f "$f" ] || return 0
  c=$(col "$f" "$2"); cc=$(col "$f" conns); [ -n "$c" ] || return 0
  awk -F, -v m="$1" -v c="$c" -v cc="$cc" -v n="$(c10k_conns)" \
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
data_models=""
for f in "$dir/echo/echo-summary.csv" "$dir/c10k/c10k.csv"; do
  [ -f "$f" ] && data_models="$data_models $(awk -F, 'NR > 1 { print $1 }' "$f" | sort -u | paste -sd ' ' -)"
done
# shellcheck disable=SC2086
models=$(models_ordered $data_models)
[ -n "$models" ] || models=$(models_list | paste -sd ' ' -)
about() { "$C10K_ROOT/scripts/models.sh" --about "$1" "$2" 2>/dev/null; }

# row LABEL CELL... — one Markdown row
row() { local IFS='|'; printf '| %s |\n' "$(sed 's/|/ | /g' <<<"$*")"; }
# each_model FUNCTION — one row cell per model: FUNCTION MODEL prints the cell
each_model() { local m cells=(); for m in $models; do cells+=("$("$1" "$m")"); done; printf '%s\n' "${cells[@]}"; }
# model_row LABEL FUNCTION — a row with one cell per model
model_row() { local cells; mapfile -t cells < <(each_model "$2"); row "$1" "${cells[@]}"; }

meta() { meta_get "$dir/echo/meta.txt" "$@"; }
header() { local u; u=$(about "$1" unit); echo "${u:+${u}s }(\`$1\`)" | sed 's/ss (/ses (/'; }
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
