# latency.gp — the latency percentile spectrum, HdrHistogram's classic chart,
# drawn from loadgen's --percentiles files (.hgrm) by scripts/bench-latency.sh
# with the terminal and output already set and these variables:
#   files      every .hgrm file, space-separated (drawn faint)
#   fmodels    the model of each of `files`, same order
#   medfiles   one .hgrm per model: its median repetition (drawn bold)
#   medmodels  the model of each of `medfiles`
#   foot, foot2  the footnote, two lines: machine, date, commit; how the run was done
#   rate, conns  the load, for the title
#   np, pm1.., pt1..  the panels (scripts/panels.gp; scripts/lib.sh gp_panels)
#
# How to read it (docs/latency.md): x is the percentile on a log scale of
# 1/(1-p), so 90%, 99%, 99.9%, 99.99% are equally spaced — each step to the
# right is ten times rarer. y is the round-trip latency from the time each
# message was DUE (open loop), log scale. Lower is better; a line that rises
# steeply at the right is a server with a bad tail. With many models, one
# panel per group (the same axes), the other groups' medians grey behind.

models = medmodels
foot_y = 0.045
key_font = 12   # "epoll (baseline)" in every key
load "scripts/style.gp"
load "scripts/panels.gp"

# .hgrm files: whitespace-separated, a title line, '#' comment footer
set datafile separator whitespace
set datafile nocolumnheaders

# The models' colours and dashes: scripts/palette.sh (through style.gp); the
# epoll baseline is dark grey there, not black, so the black axes and labels
# stay distinct from it.
lat_colour(m) = model_colour(m)
# the same colour, mostly transparent (gnuplot's #AARRGGBB: AA = transparency)
lat_faint(m)  = "#B0" . lat_colour(m)[2:7]

# x: 1/(1 - p); the last row (p = 1) has no x and is left out
lat_x(p) = p < 1 ? 1.0 / (1.0 - p) : NaN

set xlabel "percentile, % (log scale of 1/(1-p))"
set ylabel "round trip from the due time (log scale)"
set label 98 foot2 at screen 0.025, screen 0.018 left font ",10" tc rgb "#555555" noenhanced

# the axes every panel shares: just past the rarest percentile measured,
# and the lowest and highest latency of any file
lx = 1; ly = 1e12; hy = 0
do for [i = 1:words(files)] {
    stats word(files, i) skip 1 using (lat_x($2)):1 nooutput
    if (STATS_max_x > lx) { lx = STATS_max_x }
    if (STATS_min_y < ly) { ly = STATS_min_y }
    if (STATS_max_y > hy) { hy = STATS_max_y }
}
set logscale x
set logscale y
set xrange [1 : lx * 1.5]
set yrange [ly / 1.5 : hy * 1.5]
set xtics ("0" 1, "90" 10, "99" 100, "99.9" 1000, "99.99" 1e4, "99.999" 1e5, "99.9999" 1e6)
set mxtics 10
set ytics ("1 µs" 1, "10 µs" 10, "100 µs" 100, "1 ms" 1e3, "10 ms" 1e4, "100 ms" 1e5, "1 s" 1e6, "10 s" 1e7)
set mytics 10
set grid xtics ytics lc rgb "#dddddd" lw 1 dt 1

nf = words(files)
nm = words(medfiles)
eval panels_open(sprintf("Echo latency by percentile (open loop, %s msgs/s, %s connections): lower is better", rate, conns))
do for [p = 1:np] {
    eval panel_frame(p)
    plot for [k = 1:nm] (in_panel(word(medmodels, k), p) ? "/dev/null" : word(medfiles, k)) skip 1 using (lat_x($2)):1 \
           with lines lw 1.5 lc rgb faint notitle, \
         for [i = 1:nf] (in_panel(word(fmodels, i), p) ? word(files, i) : "/dev/null") skip 1 using (lat_x($2)):1 \
           with lines lw 1 lc rgb lat_faint(word(fmodels, i)) dt model_dash(word(fmodels, i)) notitle, \
         for [k = 1:nm] (in_panel(word(medmodels, k), p) ? word(medfiles, k) : "/dev/null") skip 1 using (lat_x($2)):1 \
           with lines lw 3 lc rgb lat_colour(word(medmodels, k)) dt model_dash(word(medmodels, k)) \
           title (in_panel(word(medmodels, k), p) ? key_title(word(medmodels, k)) : "")
}
unset multiplot
