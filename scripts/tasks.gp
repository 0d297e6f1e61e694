# tasks.gp — the "N sleeping tasks" chart: peak memory against the number of
# tasks, log–log, one line per kind. Drawn from tasks.csv (bin/tasks-run rows)
# by scripts/bench-tasks.sh, once per format, with:
#   csv      path of tasks.csv
#   out      the output file (the terminal is already set by the caller)
#   foot     the footnote: machine, date, commit, how the run was done
#   kinds    the kinds to draw, space-separated, in the run's order
#   sleep_s  how long each task slept, seconds
#   stops    the kinds that stopped before their last N (ringed and labelled)
#   xmin, xmax  the x range (half the smallest N, twice the largest)
# x is the number of tasks that really ran (`started`: fewer than N when the
# kind stopped), y the peak of the run's memory cgroup (max RSS when no
# cgroup). A kind that stopped ends in a ringed point labelled with the limit
# it hit. The C kinds take the colour of the model whose unit they are
# (scripts/palette.sh); the peers are dashed.

# the peers are not models: their colours come from the palette's hash of their name
# (loaded here, not through gnuplot -e: the palette's first line is a comment,
# which on one -e line would hide everything after it)
load "< scripts/palette.sh --gnuplot py-asyncio node go tokio"
load "scripts/style.gp"

# the palette name of each kind: a model's colour for the C kinds
kind_name(k) = k eq "process" ? "fork" : k eq "thread" ? "threads" : k eq "coroutine" ? "loop" : \
               k eq "stackless" ? "proto" : k eq "floor" ? "epoll" : k
# every kind that is not one of the C programs' is a peer's
is_peer(k) = !(k eq "process" || k eq "thread" || k eq "coroutine" || k eq "stackless" || k eq "floor")
kind_dash(k) = is_peer(k) ? 2 : model_dash(kind_name(k))   # not "dt (...)": gnuplot reads that as a dash pattern
kind_title(k) = k eq "process" ? "process (fork)" : k eq "thread" ? "thread (pthread, 16 KiB stack)" : \
                k eq "coroutine" ? "coroutine (loop runtime, co\\_spawn)" : \
                k eq "stackless" ? "stackless task (proto runtime)" : \
                k eq "floor" ? "floor: 16 bytes per task, one thread" : \
                k eq "py-asyncio" ? "Python asyncio (peer)" : k eq "node" ? "Node (peer)" : \
                k eq "go" ? "Go goroutines (peer)" : k eq "tokio" ? "Rust tokio tasks (peer)" : k

mib(dummy) = strcol("cgroup_peak_kib") ne "" ? column("cgroup_peak_kib") / 1024.0 : column("maxrss_kib") / 1024.0
is_kind(k) = strcol("kind") eq k && column("started") > 0
stop_x(k) = is_kind(k) && strcol("stopped") ne "" ? column("started") : NaN

set title sprintf("Peak memory of N tasks that each sleep %s s (log–log; lower is cheaper)", sleep_s) font ",14"
set label 99 foot at screen 0.025, screen 0.02 left font ",8" tc rgb "#555555" noenhanced
set xlabel "tasks alive at once (started)"
set ylabel "peak memory, MiB (the run's memory cgroup: user + kernel)"
set logscale xy
set format x "10^{%T}"
set format y "%g"
set xrange [xmin : xmax]
set grid xtics ytics
set key at graph 0.99, graph 0.02 right bottom vertical Left reverse enhanced samplen 3 width 1 box lc rgb "#cccccc" opaque
set bmargin 7
set tmargin 4
nk = words(kinds)
ns = words(stops)

plot for [i = 1:nk] csv using (is_kind(word(kinds, i)) ? column("started") : NaN):(mib(0)) \
         with linespoints lw 2 ps 1.3 pt model_point(kind_name(word(kinds, i))) \
         dt kind_dash(word(kinds, i)) \
         lc rgb model_colour(kind_name(word(kinds, i))) title kind_title(word(kinds, i)), \
     for [i = 1:ns] csv using (stop_x(word(stops, i))):(mib(0)) \
         with points pt 6 ps 3.5 lw 2 lc rgb model_colour(kind_name(word(stops, i))) notitle, \
     for [i = 1:ns] csv using (stop_x(word(stops, i))):(mib(0)):(sprintf("stopped: %s", strcol("stopped"))) \
         with labels offset 0, -1.8 font ",9" tc rgb model_colour(kind_name(word(stops, i))) noenhanced notitle
