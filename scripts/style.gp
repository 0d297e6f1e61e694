# style.gp — what every c10k-lab chart shares, loaded by the chart scripts.
#
# One colour, point shape and dash per model, the same in every chart, from
# ONE place: scripts/palette.sh (keyed by model name; a model not in its
# table gets a colour and a shape from a hash of its name, so a model added
# later never repaints the others). It defines model_colour(m), model_rgb(m),
# model_point(m), model_dash(m), model_title(m) and registry_models (the
# registry's models, in order). The baselines (epoll, curl) are grey, dashed.
# A caller that draws other names loads the palette first, with them:
#   gnuplot -e "$(scripts/palette.sh --gnuplot NAME...)" ...
if (!exists("palette_loaded")) load "< scripts/palette.sh --gnuplot"

# Plain CSV with a header row; columns are named, never numbered.
set datafile separator comma
set datafile columnheaders
set datafile missing "NaN"

set encoding utf8
set grid ytics lc rgb "#dddddd" lw 1 dt 1
set border 3 lc rgb "#444444"
set tics nomirror out
set key at graph 0.5, graph 1.02 center bottom horizontal Left reverse noenhanced samplen 3 width 2
set bmargin 6   # room for the footnote under the x axis label
set tmargin 5   # room for the title and, under it, the key
set title offset 0, 1.8

# footnote(text): the machine and the run, small, at the bottom left.
footnote(t) = sprintf("%s", t)

# Many names (the peers beside the models, PEERS=1): the key takes more rows
# above the plot, about four names a row; the title moves up above them.
if (exists("models")) {
    key_rows = ceil(words(models) / 4.0)
    if (key_rows > 2) { set tmargin 3 + key_rows; set title offset 0, key_rows - 0.2 }
}
