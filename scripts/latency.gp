# latency.gp — the latency percentile spectrum, HdrHistogram's classic chart,
# drawn from loadgen's --percentiles files (.hgrm) by scripts/bench-latency.sh
# with the terminal and output already set and these variables:
#   files      every .hgrm file, space-separated (drawn faint)
#   fmodels    the model of each of `files`, same order
#   medfiles   one .hgrm per model: its median repetition (drawn bold)
#   medmodels  the model of each of `medfiles`
#   foot, foot2  the footnote, two lines: machine, date, commit; how the run was done
#   rate, conns  the load, for the title
#
# How to read it (docs/latency.md): x is the percentile on a log scale of
# 1/(1-p), so 90%, 99%, 99.9%, 99.99% are equally spaced — each step to the
# right is ten times rarer. y is the round-trip latency from the time each
# message was DUE (open loop), log scale. Lower is better; a line that rises
# steeply at the right is a server with a bad tail.

load "scripts/style.gp"

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

set title sprintf("Echo round-trip latency by percentile, open loop: %s msgs/s over %s connections (lower is better)", rate, conns)
set xlabel "percentile (log scale of 1/(1-p): each step right is ten times rarer)"
set ylabel "round trip, from the time the message was due (log scale)"
set label 99 foot at screen 0.01, screen 0.045 left font ",8" tc rgb "#555555" noenhanced
set label 98 foot2 at screen 0.01, screen 0.018 left font ",8" tc rgb "#555555" noenhanced
set bmargin 7

set logscale x
set logscale y
set xrange [1 : *]   # up to the next decade past the rarest percentile measured
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 1e4, "99.999%%" 1e5, "99.9999%%" 1e6)
set mxtics 10
set ytics ("1 µs" 1, "10 µs" 10, "100 µs" 100, "1 ms" 1e3, "10 ms" 1e4, "100 ms" 1e5, "1 s" 1e6, "10 s" 1e7)
set mytics 10
set grid xtics ytics lc rgb "#dddddd" lw 1 dt 1
# the key right of the plot: the lines can climb anywhere inside it
set key at screen 0.985, graph 1 right top vertical Left reverse noenhanced samplen 3 width 1 box lc rgb "#cccccc"
set rmargin 27

nf = words(files)
nm = words(medfiles)
plot for [i = 1:nf] word(files, i) skip 1 using (lat_x($2)):1 \
       with lines lw 1 lc rgb lat_faint(word(fmodels, i)) dt model_dash(word(fmodels, i)) notitle, \
     for [k = 1:nm] word(medfiles, k) skip 1 using (lat_x($2)):1 \
       with lines lw 2.5 lc rgb lat_colour(word(medmodels, k)) dt model_dash(word(medmodels, k)) \
       title model_title(word(medmodels, k))
