#!/usr/bin/env bash
# palette.sh — the one place where a model gets its colour and marker in
# every chart.
#
#   scripts/palette.sh NAME...               "NAME COLOUR POINT DASH TITLE" per name
#   scripts/palette.sh --gnuplot [NAME...]   gnuplot definitions for the registry's
#                                            models, the baselines and each NAME
#   scripts/palette.sh --panels NAME...      "PANEL<TAB>TITLE<TAB>NAMES" per panel that
#                                            holds some of the NAMEs (small multiples;
#                                            six names or fewer: one panel, "all")
#
# The table below is keyed by name. A name not in it (a model added later)
# gets a colour and a marker derived from a hash of its name alone, so adding
# a model never repaints the others; give it a line here to choose them.
# Baselines (the hand-written epoll programs, curl) are drawn by the same
# code, grey and dashed. The peers (peers/NAME/: the same servers in Python,
# Node, Go, libuv; PEERS=1) are dashed too, each in a colour of its own with an
# open or thin marker, and their key says "NAME (peer)": solid lines are this
# suite's C models, dashed coloured ones the other runtimes. The gnuplot definitions (loaded by scripts/style.gp):
#   model_colour(m) "#RRGGBB"   model_rgb(m) 0xRRGGBB   model_point(m) point type
#   model_dash(m)   dash type   model_title(m) the key's text
#   registry_models  the registry's models, space-separated, in order
set -u
cd "$(dirname "$0")/.." || exit 1

# name      colour   point dash title ("-": the name itself)  panel
# The panel is where the name is drawn when a chart has too many names for
# one frame (small multiples, scripts/panels.gp): classic (the three classic
# answers), servers (the designs real servers use; a name not in the table
# too), peers (peers/NAME/ always), all (a baseline: in every panel).
# Okabe–Ito colours (readable with the common colour-vision deficiencies),
# filled markers; the shapes tell the models apart in black and white too.
PALETTE='
fork         #D55E00  7   1  -                           classic
threads      #0072B2  5   1  -                           classic
loop         #009E73  9   1  -                           classic
prefork      #E69F00  6   1  -                           servers
pool         #56B4E9  4   1  -                           servers
loops        #CC79A7  8   1  -                           servers
uring        #882255  10  1  -                           servers
proto        #117733  12  1  -                           servers
py-asyncio   #332288  1   2  -                           peers
py-uvloop    #44AA99  2   2  -                           peers
py-threads   #AA4499  3   2  -                           peers
py-processes #661100  14  2  -                           peers
node         #999933  15  2  -                           peers
go           #CC6677  1   2  -                           peers
libuv        #997700  2   2  -                           peers
epoll        #555555  13  2  epoll_(baseline)            all
curl         #888888  11  4  curl_--parallel_(baseline)  all
'
# For names not in the table: colours not used above (so a new model never
# looks like a model or a peer of the table; tests/t_registry.sh checks it),
# open markers.
HASH_COLOURS=('#6699CC' '#DDAA33' '#BB5566' '#004488' '#EE7733' '#EE3377' '#33BBEE' '#0077BB' '#CC3311' '#009988')
HASH_POINTS=(1 2 3 14 15)

die() { echo "palette.sh: $1" >&2; exit 2; }

# entry NAME — "NAME COLOUR POINT DASH TITLE" for one name
entry() {
  local line n h peer=0
  [ -f "peers/$1/about.txt" ] && peer=1
  line=$(awk -v n="$1" '$1 == n { print; exit }' <<<"$PALETTE")
  if [ -n "$line" ]; then
    set -- $line
    [ "$5" = - ] && set -- "$1" "$2" "$3" "$4" "$1"
    [ "$peer" = 0 ] || set -- "$1" "$2" "$3" 2 "$5_(peer)"
    echo "$1 $2 $3 $4 ${5//_/ }"
    return
  fi
  h=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
  n=${#HASH_COLOURS[@]}
  if [ "$peer" = 1 ]; then echo "$1 ${HASH_COLOURS[h % n]} ${HASH_POINTS[(h / n) % ${#HASH_POINTS[@]}]} 2 $1 (peer)"
  else echo "$1 ${HASH_COLOURS[h % n]} ${HASH_POINTS[(h / n) % ${#HASH_POINTS[@]}]} 1 $1"; fi
}

# panel_of NAME — the panel a name is drawn in: peers, or the table's, else servers
panel_of() {
  [ -f "peers/$1/about.txt" ] && { echo peers; return; }
  local p; p=$(awk -v n="$1" '$1 == n { print $6; exit }' <<<"$PALETTE")
  echo "${p:-servers}"
}

# panels NAME... — the panels that hold some of the names, in order; a
# baseline (panel all) goes into each of them
panels() {
  local n p all="" out count=0
  declare -A in=()
  for n in "$@"; do
    valid "$n"; p=$(panel_of "$n")
    if [ "$p" = all ]; then all="$all $n"; else in[$p]="${in[$p]:-} $n" count=$((count + 1)); fi
  done
  if [ "$count" -le 6 ] || [ ${#in[@]} -le 1 ]; then   # one frame is still readable
    printf 'all\t-\t%s\n' "$*"; return
  fi
  for p in classic servers peers; do
    [ -n "${in[$p]:-}" ] || continue
    out="${in[$p]# }$all"
    case $p in
      classic) printf 'classic\tthe classic three\t%s\n' "$out" ;;
      servers) printf 'servers\tthe designs real servers use\t%s\n' "$out" ;;
      peers)   printf 'peers\tthe peers: other runtimes\t%s\n' "$out" ;;
    esac
  done
}

valid() { [[ $1 =~ ^[A-Za-z0-9_.+-]+$ ]] || die "'$1' is not a model name"; }

gnuplot_defs() {
  local names=() n seen=" " c p d t colour="" rgb="" point="" dash="" title=""
  for n in $(scripts/models.sh) epoll curl "$@"; do
    valid "$n"
    [[ $seen == *" $n "* ]] && continue
    seen="$seen$n " names+=("$n")
  done
  for n in "${names[@]}"; do
    read -r _ c p d t <<<"$(entry "$n")"
    colour="$colour m eq \"$n\" ? \"$c\" :"
    rgb="$rgb m eq \"$n\" ? 0x${c#\#} :"
    point="$point m eq \"$n\" ? $p :"
    dash="$dash m eq \"$n\" ? $d :"
    title="$title m eq \"$n\" ? \"$t\" :"
  done
  # one line, statements joined by ";": gnuplot -e takes no newline between them
  {
  echo "model_colour(m) =$colour \"#999999\""
  echo "model_rgb(m) =$rgb 0x999999"
  echo "model_point(m) =$point 2"
  echo "model_dash(m) =$dash 1"
  echo "model_title(m) =$title m"
  echo "registry_models = \"$(scripts/models.sh | paste -sd ' ' -)\""
  echo "palette_loaded = 1"
  } | paste -sd ';' -
}

case "${1:-}" in
  -h|--help) sed -n '2,19s/^# \{0,1\}//p' "$0" ;;
  --gnuplot) shift; gnuplot_defs "$@" ;;
  --panels) shift; panels "$@" ;;
  "") echo "usage: scripts/palette.sh NAME... | --gnuplot [NAME...] (try --help)" >&2; exit 2 ;;
  -*) die "unknown flag '$1' (try --help)" ;;
  *) for n in "$@"; do valid "$n"; entry "$n"; done ;;
esac
