# c10k.gp — the C10K charts, drawn from c10k-median.csv (medians over the
# repetitions, one row per model and N) by scripts/bench-c10k.sh, with:
#   csv    path of c10k-median.csv
#   out    the output file (the terminal is already set by the caller)
#   foot   the footnote: machine, date, commit, how the run was done
#   chart  "memory": a stacked bar per model at N = ntop, user vs kernel memory
#          per connection; "connect": time to reach N connections vs N, log-log
#   ntop   the N of the memory chart (the largest every model reached)
#   rate   the client's pace, connections per second (0: unknown)
#   models      the models to draw, space-separated (registry order)
#   model_tics  the memory chart's "set xtics (...)" command: a tic per model
# Colours and markers of the models: scripts/palette.sh, through scripts/style.gp.

load "scripts/style.gp"
set output out
set label 99 foot at screen 0.025, screen 0.02 left font ",8" tc rgb "#555555" noenhanced

if (!exists("models")) models = registry_models
nm = words(models)
# model_x(m): the bar position of model m, 0-based in `models` (NaN: not drawn)
model_x_from(m, i) = i > nm ? NaN : (word(models, i) eq m ? i - 1 : model_x_from(m, i + 1))
model_x(m) = model_x_from(m, 1)
pos(x) = (x eq "NaN" || x + 0 < 0) ? 0 : x + 0     # a component measured below zero (noise) draws as 0
at_top(dummy) = column("conns") == ntop
# the cumulative height of the stack up to component k (1 = user PSS ... 5 = socket buffers)
cum(k) = pos(strcol("pss_kib_per_conn")) \
       + (k >= 2 ? pos(strcol("kstack_kib_per_conn")) : 0) \
       + (k >= 3 ? pos(strcol("pagetables_kib_per_conn")) : 0) \
       + (k >= 4 ? pos(strcol("slab_kib_per_conn")) : 0) \
       + (k >= 5 ? pos(strcol("sock_kib_per_conn")) : 0)
bar_x(dummy) = at_top(0) ? model_x(strcol("model")) : NaN

if (chart eq "memory") {
    set title sprintf("Memory per idle connection at %d connections: user vs kernel, per model", ntop) font ",14"
    set ylabel "KiB per connection (after − before) / N"
    set xlabel "bars: /proc/meminfo deltas (machine-wide: both ends of each loopback connection)" offset 0, -3.2
    set bmargin 9.5
    if (exists("model_tics")) { eval model_tics } else { set xtics () ; do for [i = 1:nm] { set xtics add (word(models, i) i - 1) } }
    set xrange [-0.6 : nm - 0.4]
    set yrange [0 : *]
    set boxwidth 0.5 absolute
    set style fill solid 0.9 border rgb "#333333"
    set key at graph 0.98, graph 0.97 right top vertical Left reverse noenhanced samplen 2 width 1 box lc rgb "#cccccc" opaque
    set grid noxtics ytics
    # tallest first, so each smaller stack is drawn over it and shows as a band
    plot csv using (bar_x(0)):(cum(5)) with boxes lc rgb "#F0E442" title "kernel: socket buffers (sockstat TCP mem)", \
         csv using (bar_x(0)):(cum(4)) with boxes lc rgb "#56B4E9" title "kernel: slab (sockets, files, task structs…)", \
         csv using (bar_x(0)):(cum(3)) with boxes lc rgb "#CC79A7" title "kernel: page tables", \
         csv using (bar_x(0)):(cum(2)) with boxes lc rgb "#E69F00" title "kernel: kernel stacks (16 KiB per thread)", \
         csv using (bar_x(0)):(cum(1)):(model_rgb(strcol("model"))) \
             with boxes lc rgb variable title "user: PSS of the server's processes (model colour)", \
         csv using (bar_x(0)):(cum(5)):(sprintf("%.1f KiB", cum(5))) with labels offset 0, 0.8 font ",10" notitle, \
         csv using (bar_x(0) + 0.3):"cg_server_kib_per_conn" with points pt 13 ps 2 lc rgb "#000000" \
             title "server alone: its memory cgroup (user + kernel)", \
         csv using (bar_x(0) + 0.3):"cg_server_kib_per_conn":(sprintf("%.1f", column("cg_server_kib_per_conn"))) \
             with labels offset 3.5, 0 font ",9" notitle
}

if (chart eq "connect") {
    set title "Time to reach N established connections (each answered one echo)" font ",14"
    set xlabel "connections N (log scale)"
    set ylabel "seconds to reach N (log scale)"
    set logscale xy
    set format x "10^{%T}"
    set format y "10^{%T}"
    set xrange [0.7 : *]
    set grid xtics ytics
    set key at graph 0.02, graph 0.98 left top vertical Left reverse noenhanced samplen 3 width 1 box lc rgb "#cccccc" opaque
    pace(n) = rate > 0 ? n / rate : NaN
    m_only(m) = strcol("model") eq m ? column("connect_s") : NaN
    plot for [m in models] csv using "conns":(m_only(m)) with linespoints lw 2 ps 1.3 \
             lc rgb model_colour(m) pt model_point(m) dt model_dash(m) title model_title(m), \
         [1:*] pace(x) with lines dt 2 lc rgb "#777777" title sprintf("client pace: N / %d per s (the client opens no faster)", rate)
}
