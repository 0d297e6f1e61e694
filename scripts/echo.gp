# echo.gp — the charts of the echo comparison (four, and fairness), drawn from
# echo-summary.csv (bin/bench --summarize). scripts/charts.sh calls it once
# per output format with these variables set:
#   summary  path of echo-summary.csv
#   outdir   where the charts go
#   ext      "png" or "svg" (the terminal is already set by the caller)
#   models   the models, space-separated, in the summary's order
#   conns    the connection counts, space-separated, ascending
#   foot     the footnote: machine, date, commit, how the run was done, and
#            the runs that were disturbed or spread widely
#   fair     1 if the summary has loadgen's fairness columns (jain, no_reply):
#            then a fifth chart, fairness, is drawn (older results lack them)
#   np, pm1.., pt1..   the panels (scripts/panels.gp; scripts/lib.sh gp_panels)
#   has_dist, has_spread  1 if the summary has disturbed_runs, spread_pct
# Every point is the median over the repetitions; error bars span min..max.
# A point ringed in grey had a disturbed run or a spread above 50%.

load "scripts/style.gp"
load "scripts/panels.gp"

nm = words(models)
nc = words(conns)
# the y range every panel shares: from the min..max bars of every model
# (taken before any range is set: stats keeps to the current ranges)
stats summary using "msgs_per_s_max" nooutput
top_msgs = STATS_max
stats summary using "p99_us_min" nooutput
low_p99 = STATS_min
stats summary using "p99_us_max" nooutput
top_p99 = STATS_max
stats summary using "pss_per_conn_kib_max" nooutput
top_pss = STATS_max
stats summary using "pss_per_conn_kib" nooutput
low_pss = STATS_min
stats summary using "cpu_us_per_msg_max" nooutput
top_cpu = STATS_max
stats summary using "cpu_us_per_msg" nooutput
low_cpu = STATS_min

# connection counts on a log axis, one tic per count measured
set xtics ()
do for [i = 1:nc] { set xtics add (word(conns, i) word(conns, i) + 0) }
set logscale x
set xrange [word(conns, 1) / 1.6 : word(conns, nc) * 1.6]
set xlabel "concurrent connections (log scale)"

xof(x) = column("conns")   # where a row goes on the x axis (panels.gp's line)

# --- throughput ---------------------------------------------------------
set output sprintf("%s/throughput.%s", outdir, ext)
set ylabel "messages per second"
set yrange [0 : top_msgs * 1.08]
set format y "%.0s%c"
col = "msgs_per_s"
eval panels_open("Echo throughput: messages per second (higher is better)")
do for [p = 1:np] { eval panel_frame(p); @line }
unset multiplot

# --- p99 latency ----------------------------------------------------------
set output sprintf("%s/p99.%s", outdir, ext)
set ylabel "p99 round trip (log scale)"
set logscale y
set yrange [low_p99 / 1.5 : top_p99 * 1.5]
set ytics ("1 µs" 1, "10 µs" 10, "100 µs" 100, "1 ms" 1e3, "10 ms" 1e4, "100 ms" 1e5, "1 s" 1e6, "10 s" 1e7)
set mytics 10
col = "p99_us"
eval panels_open("Echo latency: 99th percentile round trip (lower is better)")
do for [p = 1:np] { eval panel_frame(p); @line }
unset multiplot
unset logscale y
set ytics autofreq
set mytics default
set format y "%g"

# --- fairness: Jain's index of the messages per connection -----------------
# 1: every connection got the same share; k/n: k of the n connections shared
# everything and the others got no reply (a pool of k workers); 1/n: one took all.
# The "no reply" labels sit inside the plot: above a low point, below a high
# one, right-aligned at the largest connection count.
if (exists("fair") && fair) {
    set output sprintf("%s/fairness.%s", outdir, ext)
    set ylabel "Jain's fairness index"
    set yrange [0:1.05]
    set format y "%.1f"
    col = "jain"
    last = word(conns, nc) + 0
    ylab(j, k) = j < 0.6 ? j + 0.075 * k : j - 0.075 * k
    nr(m) = is(m) && column("no_reply") > 0
    eval panels_open("Fairness: Jain's index of messages per connection (1 = even; k/n = only k of n served)")
    do for [p = 1:np] {
        eval panel_frame(p)
        @line, \
          for [k = 1:words(panel_names(p))] summary \
            using (nr(word(panel_names(p), k)) && column("conns") != last ? column("conns") : NaN):(ylab(column("jain"), k)):(sprintf("%s: %.0f no reply", word(panel_names(p), k), column("no_reply"))) \
            with labels left offset 0.8, 0 font ",10" tc rgb model_colour(word(panel_names(p), k)) notitle, \
          for [k = 1:words(panel_names(p))] summary \
            using (nr(word(panel_names(p), k)) && column("conns") == last ? column("conns") : NaN):(ylab(column("jain"), k)):(sprintf("%s: %.0f no reply", word(panel_names(p), k), column("no_reply"))) \
            with labels right offset -0.8, 0 font ",10" tc rgb model_colour(word(panel_names(p), k)) notitle
    }
    unset multiplot
    set format y "%g"
}
unset logscale x

# --- grouped bars: one group per connection count, one bar per model ------
# group(c): 0-based position of connection count c in `conns`
group(c, i) = i > nc ? NaN : (word(conns, i) + 0 == c ? i - 1 : group(c, i + 1))
# bar k of the panel's pn models
bar_x(k) = group(column("conns"), 1) + (k - (pn + 1) / 2.0) * bw
# spread(c): max - min of column c across repetitions (the error bar's length)
spread(c) = column(c . "_max") - column(c . "_min")
set xtics ()
do for [i = 1:nc] { set xtics add (word(conns, i) i - 1) }
set xrange [-0.6 : nc - 0.4]
set xlabel "concurrent connections"
set style fill solid 0.85 border rgb "#333333"

# bars(p, col, fmt): panel p's bars of column col, min..max whiskers, the
# median written above each bar (turned when the bars are narrow)
bars = 'pn = words(panel_names(p)); bw = 0.8 / pn; set boxwidth bw * 0.92 absolute; \
  plot for [k = 1:pn] summary using (is(word(panel_names(p), k)) ? bar_x(k) : NaN):(bar_y(column(col))) \
         with boxes lc rgb model_colour(word(panel_names(p), k)) title key_title(word(panel_names(p), k)), \
       for [k = 1:pn] summary \
         using (is(word(panel_names(p), k)) && spread(col) > 0 ? bar_x(k) : NaN):(bar_y(column(col . "_min"))):(0):(bar_y(column(col . "_max")) - bar_y(column(col . "_min"))) \
         with vectors heads size screen 0.004,90 lc rgb "#333333" lw 1.5 notitle, \
       for [k = 1:pn] summary \
         using (is(word(panel_names(p), k)) ? bar_x(k) : NaN):(bar_y(column(col . "_max"))):(sprintf(fmt, column(col))) \
         with labels left rotate by 90 offset 0, 0.4 font ",10" notitle'

# The bars' y axis is logarithmic when the values span more than 30x (the
# peers: a Python process per connection next to a coroutine): the small
# ones stay readable; a bar at or below the floor is drawn at it, its label
# says the real value.
floor = 0.1
logbars(top, low) = top / (low > floor ? low : floor) > 30
barlog = 0
bar_y(v) = barlog && v < floor ? floor : v

# --- memory ---------------------------------------------------------------
set output sprintf("%s/memory.%s", outdir, ext)
set ylabel "PSS per connection, KiB"
barlog = logbars(top_pss, low_pss)
if (barlog) { set logscale y; set yrange [floor : top_pss * 4]; set ylabel "PSS per connection, KiB (log scale)" } \
else { set yrange [0 : (top_pss > 0 ? top_pss : 1) * 1.25] }
col = "pss_per_conn_kib"; fmt = "%.1f"
eval panels_open("Memory per connection: server PSS at peak minus idle, per connection (lower is better)")
do for [p = 1:np] { eval panel_frame(p); @bars }
unset multiplot

# --- CPU ------------------------------------------------------------------
set output sprintf("%s/cpu.%s", outdir, ext)
set ylabel "CPU time per message, µs"
unset logscale y
barlog = logbars(top_cpu, low_cpu)
if (barlog) { set logscale y; set yrange [low_cpu / 2 : top_cpu * 2.5]; set ylabel "CPU time per message, µs (log scale)" } \
else { set yrange [0 : top_cpu * 1.25] }
col = "cpu_us_per_msg"; fmt = "%.1f"
eval panels_open("CPU per message: server user + system time (children included) per echo (lower is better)")
do for [p = 1:np] { eval panel_frame(p); @bars }
unset multiplot
unset logscale y
set output
