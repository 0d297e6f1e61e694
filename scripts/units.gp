# units.gp — the unit-cost chart: what it costs to create a process, a thread
# and a coroutine, and to switch between two of them. Drawn from units.csv
# (bin/micro-unitcost --csv) by scripts/bench-units.sh, once per format, with:
#   csv   path of units.csv
#   out   the output file (the terminal is already set by the caller)
#   foot  the footnote: machine, date, commit, how the run was done
# Two panels side by side, both on a log scale (the kinds differ by orders of
# magnitude). Each bar is the median over the repetitions, its whisker spans
# min..max; solid bars: the units may use every CPU, hatched bars: all of them
# pinned to one CPU. Colours are the models' colours (scripts/palette.sh).

load "scripts/style.gp"

# A kind of unit is drawn in the colour of the first model whose unit it is
# (the "unit:" line of models/NAME/about.txt): scripts/bench-units.sh passes
#   kind_models  "KIND=MODEL ..." (e.g. process=fork), from the registry
if (!exists("kind_models")) kind_models = ""
kind_model_from(k, i) = i > words(kind_models) ? "" : \
    (word(kind_models, i)[1:strlen(k) + 1] eq k . "=" ? word(kind_models, i)[strlen(k) + 2:] : kind_model_from(k, i + 1))
kind_model(k) = kind_model_from(k, 1)
kind_rgb(k)   = model_rgb(kind_model(k))

# ns -> "12 ns", "3.4 µs", "1.25 ms"
human(v) = v >= 1e6 ? sprintf("%.2f ms", v / 1e6) : v >= 1e3 ? sprintf("%.1f µs", v / 1e3) : sprintf("%.0f ns", v)

# bar position: group g, the "any CPU" bar left of centre, "one CPU" right
bw = 0.36
pinned(dummy) = strcol("pinned") eq "yes"
bar_x(g) = g + (pinned(0) ? bw / 2 + 0.01 : -bw / 2 - 0.01)

# the group of a row in each panel (NaN: not in this panel)
create_group(dummy) = strcol("what") ne "create" ? NaN : \
                 strcol("kind") eq "process" ? 0 : strcol("kind") eq "thread" ? 1 : 2
switch_group(dummy) = strcol("what") eq "switch-chan" ? 3 : strcol("what") ne "switch" ? NaN : \
                 strcol("kind") eq "process" ? 0 : strcol("kind") eq "thread" ? 1 : 2

set multiplot layout 1, 2 title "What one unit of concurrency costs (log scale, lower is better)" font ",14"
set label 99 foot at screen 0.025, screen 0.02 left font ",8" tc rgb "#555555" noenhanced
set boxwidth bw absolute
set logscale y
set format y "10^{%T}"
set xrange [-0.6 : *]
set key at graph 0.02, graph 0.98 left top vertical Left reverse noenhanced samplen 2 width 1 box lc rgb "#cccccc" opaque
set tmargin 5
set bmargin 7
set grid noxtics ytics

# Each panel: solid bars (pinned=no), hatched bars (pinned=yes), a whisker
# from min to max, the median written above the whisker.

# --- creation --------------------------------------------------------------
set title "Create one unit that does nothing, let it finish, reap it"
set ylabel "time per unit, ns (log scale)"
set xtics ("process\n(fork)" 0, "thread\n(pthread_create)" 1, "coroutine\n(co_spawn)" 2) noenhanced
set xrange [-0.6 : 2.6]
set yrange [10 : 1e7]
plot csv using (pinned(0) ? NaN : bar_x(create_group(0))):"ns_per_unit_median":(kind_rgb(strcol("kind"))) \
       with boxes fs solid 0.85 border rgb "#333333" lc rgb variable notitle, \
     csv using (pinned(0) ? bar_x(create_group(0)) : NaN):"ns_per_unit_median":(kind_rgb(strcol("kind"))) \
       with boxes fs pattern 4 border rgb "#333333" lc rgb variable notitle, \
     csv using (bar_x(create_group(0))):"ns_min":(0):(column("ns_max") - column("ns_min")) \
       with vectors heads size screen 0.005,90 lc rgb "#222222" lw 1.2 notitle, \
     csv using (bar_x(create_group(0))):"ns_max":(human(column("ns_per_unit_median"))) \
       with labels offset 0, 0.8 font ",9" notitle, \
     keyentry with boxes fs solid 0.85 border rgb "#333333" lc rgb "#888888" title "units may use any CPU", \
     keyentry with boxes fs pattern 4 border rgb "#333333" lc rgb "#888888" title "all pinned to one CPU"
unset label 99  # the footnote is drawn once, under both panels

# --- switching -------------------------------------------------------------
set title "Switch between two units (ping-pong; per switch = round trip / 2)"
set ylabel "time per switch, ns (log scale)"
set xtics ("process\npipe" 0, "thread\npipe" 1, "coroutine\nco_yield" 2, "coroutine\nco_chan" 3) noenhanced
set xrange [-0.6 : 3.6]
set yrange [10 : 1e6]
plot csv using (pinned(0) ? NaN : bar_x(switch_group(0))):"ns_per_unit_median":(kind_rgb(strcol("kind"))) \
       with boxes fs solid 0.85 border rgb "#333333" lc rgb variable notitle, \
     csv using (pinned(0) ? bar_x(switch_group(0)) : NaN):"ns_per_unit_median":(kind_rgb(strcol("kind"))) \
       with boxes fs pattern 4 border rgb "#333333" lc rgb variable notitle, \
     csv using (bar_x(switch_group(0))):"ns_min":(0):(column("ns_max") - column("ns_min")) \
       with vectors heads size screen 0.005,90 lc rgb "#222222" lw 1.2 notitle, \
     csv using (bar_x(switch_group(0))):"ns_max":(human(column("ns_per_unit_median"))) \
       with labels offset 0, 0.8 font ",9" notitle, \
     keyentry with boxes fs solid 0.85 border rgb "#333333" lc rgb "#888888" title "units may use any CPU", \
     keyentry with boxes fs pattern 4 border rgb "#333333" lc rgb "#888888" title "both pinned to one CPU"

unset multiplot
