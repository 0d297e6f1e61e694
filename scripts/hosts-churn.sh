#!/usr/bin/env bash
# hosts-churn.sh — `make bench-hosts-churn`: connection churn at one message
# per connection (K = 1) for the models the goal is about (fork, prefork,
# pool), with the load from this machine, from one load host and from two,
# side by side (docs/hosts.md, "Measured on the namespace hosts").
#
# Each round runs the three settings one after the other (make bench-churn
# with CHURN_K=1); the rounds alternate, so that a busy minute of the machine
# hurts every setting alike. The hosts are SERVER_HOST and the first two of
# LOAD_HOSTS when given (SSH_CONFIG too); else, as root, namespace hosts made
# here (scripts/netns-run.sh) — on one machine, so they share its cores;
# their copies of the suite are kept in build/nshosts between rounds.
#
#   scripts/hosts-churn.sh            measure, then summarise
#   scripts/hosts-churn.sh summary    only summarise OUT's results again
#
# Writes OUT/roundR-here/, OUT/roundR-one/, OUT/roundR-two/ (bench-churn's
# folders: churn.csv, meta.txt with every host, charts) and OUT/summary.md:
# connections per second per model, prefork/fork and pool/fork, and the
# server's CPU per connection, for each round and setting, and the medians
# over the rounds.
#
# Environment: OUT (results/hosts-churn), ROUNDS (3), CHURN_MODELS
# ("fork prefork pool"), CHURN_REPS (3), CHURN_SECS (2), CHURN_CONNS (10).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
source scripts/sweep.sh
OUT=${OUT:-results/hosts-churn} ROUNDS=${ROUNDS:-3}
export CHURN_MODELS=${CHURN_MODELS:-fork prefork pool} CHURN_REPS=${CHURN_REPS:-3} CHURN_SECS=${CHURN_SECS:-2}
export CHURN_CONNS=${CHURN_CONNS:-10} CHURN_K=1
settings="here one two"
die() { echo "hosts-churn.sh: $1" >&2; exit "${2:-1}"; }

# measure — every round: here, one load host, two load hosts
measure() {
  [[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS='$ROUNDS' is not a whole number >= 1" 2
  local r
  mkdir -p "$OUT"
  for ((r = 1; r <= ROUNDS; r++)); do
    echo "hosts-churn: round $r of $ROUNDS: here" >&2
    env -u SERVER_HOST -u LOAD_HOSTS CHURN_OUT="$OUT/round$r-here" scripts/bench-churn.sh >/dev/null || die "round $r: bench-churn here failed"
    echo "hosts-churn: round $r of $ROUNDS: one load host, then two" >&2
    across "$OUT/round$r" || die "round $r: bench-churn across hosts failed"
  done
}

# across PREFIX — bench-churn with one load host into PREFIX-one, two into PREFIX-two
across() {
  local cmd='make -s bench-churn SERVER_HOST="$S" LOAD_HOSTS="$A" CHURN_OUT="$P-one" >/dev/null &&
             make -s bench-churn SERVER_HOST="$S" LOAD_HOSTS="$A $B" CHURN_OUT="$P-two" >/dev/null'
  if [ -n "${SERVER_HOST:-}" ]; then
    # shellcheck disable=SC2206  # a list of hosts, split on spaces
    local hosts=(${LOAD_HOSTS:-})
    [ ${#hosts[@]} -ge 2 ] || die "LOAD_HOSTS needs two hosts (\"user@a user@b\")" 2
    S=$SERVER_HOST A=${hosts[0]} B=${hosts[1]} P=$1 bash -c "$cmd"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "no SERVER_HOST and LOAD_HOSTS given, and namespace hosts need root" 2
  # shellcheck disable=SC2016  # expanded in the runner's namespace
  # the hosts' copies kept under build/ between rounds: built once, not every round
  HOSTS_DIR=${HOSTS_DIR:-$C10K_ROOT/build/nshosts} P=$1 scripts/netns-run.sh bash -c 'S=$NS_SRV A=$NS_L1 B=$NS_L2; '"$cmd"
}

# summary — OUT/summary.md from every round's churn-summary.csv
summary() {
  local r s f m x base cpu line
  f=$OUT/summary.md
  {
    echo "# Churn at K = 1: the load from here, from one load host, from two"
    echo
    echo "Made by scripts/hosts-churn.sh ($ROUNDS rounds; each: bench-churn here, with one load host, with two;"
    echo "$CHURN_REPS repetitions of $CHURN_SECS s, $CHURN_CONNS client connections). Hosts and commits: each folder's meta.txt."
    echo "A run is disturbed when other work took CPU on the server's machine while it ran; on namespace hosts the"
    echo "load hosts' loadgens are such work (they share the machine), so every run across them is."
    echo
    echo "| round | load from | $(sed 's/ / conns\/s | /g' <<<"$CHURN_MODELS") conns/s | prefork/fork | pool/fork | server CPU µs/conn ($(sed 's/ /, /g' <<<"$CHURN_MODELS")) | runs disturbed |"
    echo "|---|---|$(for m in $CHURN_MODELS; do printf -- '---|'; done)---|---|---|---|"
    for ((r = 1; r <= ROUNDS; r++)); do
      for s in $settings; do
        x=$OUT/round$r-$s/churn-summary.csv
        [ -s "$x" ] || continue
        line="| $r | $(label "$s") |"
        for m in $CHURN_MODELS; do line="$line $(printf '%.0f' "$(sweep_median "$x" "$m" conns_per_s value 1)") |"; done
        base=$(sweep_median "$x" fork conns_per_s value 1)
        for m in prefork pool; do line="$line $(ratio "$(sweep_median "$x" "$m" conns_per_s value 1)" "$base") |"; done
        cpu=""; for m in $CHURN_MODELS; do cpu="$cpu${cpu:+, }$(printf '%.0f' "$(sweep_median "$x" "$m" cpu_us_per_conn value 1)")"; done
        echo "$line $cpu | $(disturbed "$OUT/round$r-$s/churn.csv") |"
      done
    done
    echo
    echo "Medians over the rounds (connections per second, and the ratio of the medians):"
    echo
    echo "| load from | $(sed 's/ / | /g' <<<"$CHURN_MODELS") | prefork/fork | pool/fork |"
    echo "|---|$(for m in $CHURN_MODELS; do printf -- '---|'; done)---|---|"
    for s in $settings; do
      line="| $(label "$s") |"
      for m in $CHURN_MODELS; do line="$line $(printf '%.0f' "$(over_rounds "$s" "$m")") |"; done
      base=$(over_rounds "$s" fork)
      for m in prefork pool; do line="$line $(ratio "$(over_rounds "$s" "$m")" "$base") |"; done
      echo "$line"
    done
  } >"$f"
  cat "$f"
}
# disturbed CSV — "D of N": runs during which other work took CPU (bench's disturbed column)
disturbed() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { n++; d += $c["disturbed"] } END { printf "%d of %d", d, n }' "$1"; }
label() { case $1 in here) echo "this machine (no hosts)" ;; one) echo "one load host" ;; two) echo "two load hosts" ;; esac; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 == 0) print "-"; else printf "%.2f×\n", a / b }'; }
# over_rounds SETTING MODEL — the median over the rounds of the model's median conns/s
over_rounds() {
  local r
  for ((r = 1; r <= ROUNDS; r++)); do
    [ -s "$OUT/round$r-$1/churn-summary.csv" ] && sweep_median "$OUT/round$r-$1/churn-summary.csv" "$2" conns_per_s value 1
  done | sort -g | awk '{ v[NR] = $1 } END { if (NR) print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

case ${1:-} in
  -h|--help) sed -n '2,24s/^# \{0,1\}//p' "$0" ;;
  "") measure && summary ;;
  summary) summary ;;
  *) die "unknown command '$1' (none, or summary; see --help)" 2 ;;
esac
