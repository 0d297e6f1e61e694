# echo.gp — the charts of the echo comparison (four, and fairness), drawn from
# echo-summary.csv (bin/bench --summarize). scripts/charts.sh calls it once
# per output format with these variables set:
#   summary  path of echo-summary.csv
#   outdir   where the charts go
#   ext      "png" or "svg" (the terminal is already set by the caller)
#   models   the models, space-separated, in the summary's order
#   conns    the connection counts, space-separated, ascending
#   foot     the footnote: machine, date, commit, how the run was done
#   fair     1 if the summary has loadgen's fairness columns (jain, no_reply):
#            then a fifth chart, fairness, is drawn (older results lack them)
# Every point is the median over the repetitions; error bars span min..max.

load "scripts/style.gp"

nm = words(models)
nc = words(conns)
set label 99 foot at screen 0.01, screen 0.025 left font ",8" tc rgb "#555555" noenhanced

# connection counts on a log axis, one tic per count measured
set xtics ()
do for [i = 1:nc] { set xtics add (word(conns, i) word(conns, i) + 0) }
is(m) = strcol("model") eq m

# --- throughput ---------------------------------------------------------
set output sprintf("%s/throughput.%s", outdir, ext)
set title "Echo throughput: messages per second (higher is better)"
set xlabel "concurrent connections (log scale)"
set ylabel "messages per second"
set logscale x
set xrange [word(conns, 1) / 1.6 : word(conns, nc) * 1.6]
set yrange [0:*]
set format y "%.0s%c"
plot for [k = 1:nm] summary \
     using (is(word(models, k)) ? column("conns") : NaN):"msgs_per_s":"msgs_per_s_min":"msgs_per_s_max" \
     with yerrorlines lw 2 ps 1.3 lc rgb model_colour(word(models, k)) pt model_point(word(models, k)) \
     dt model_dash(word(models, k)) title model_title(word(models, k))

# --- p99 latency ----------------------------------------------------------
set output sprintf("%s/p99.%s", outdir, ext)
set title "Echo latency: 99th percentile round trip (lower is better)"
set ylabel "p99 latency, µs (log scale)"
set logscale y
set yrange [*:*]
set format y "%g"
plot for [k = 1:nm] summary \
     using (is(word(models, k)) ? column("conns") : NaN):"p99_us":"p99_us_min":"p99_us_max" \
     with yerrorlines lw 2 ps 1.3 lc rgb model_colour(word(models, k)) pt model_point(word(models, k)) \
     dt model_dash(word(models, k)) title model_title(word(models, k))
unset logscale

# --- fairness: Jain's index of the messages per connection -----------------
# 1: every connection got the same share; k/n: k of the n connections shared
# everything and the others got no reply (a pool of k workers); 1/n: one took all.
if (exists("fair") && fair) {
    set output sprintf("%s/fairness.%s", outdir, ext)
    set title "Fairness: Jain's index of messages per connection (1 = even; k/n = only k of n served)"
    set ylabel "Jain's fairness index"
    set logscale x
    set yrange [0:1.05]
    set format y "%.1f"
    plot for [k = 1:nm] summary \
         using (is(word(models, k)) ? column("conns") : NaN):"jain":"jain_min":"jain_max" \
         with yerrorlines lw 2 ps 1.3 lc rgb model_colour(word(models, k)) pt model_point(word(models, k)) \
         dt model_dash(word(models, k)) title model_title(word(models, k)), \
         for [k = 1:nm] summary \
         using (is(word(models, k)) && column("no_reply") > 0 ? column("conns") : NaN):"jain":(sprintf("%s: %.0f no reply", word(models, k), column("no_reply"))) \
         with labels offset 0, -1.0 * k font ",8" tc rgb model_colour(word(models, k)) notitle
    unset logscale
    set format y "%g"
    set yrange [*:*]
}

# --- grouped bars: one group per connection count, one bar per model ------
# group(c): 0-based position of connection count c in `conns`
group(c, i) = i > nc ? NaN : (word(conns, i) + 0 == c ? i - 1 : group(c, i + 1))
bw = 0.8 / nm
bar_x(k) = group(column("conns"), 1) + (k - (nm + 1) / 2.0) * bw
# spread(c): max - min of column c across repetitions (the error bar's length)
spread(c) = column(c . "_max") - column(c . "_min")
set xtics ()
do for [i = 1:nc] { set xtics add (word(conns, i) i - 1) }
set xrange [-0.6 : nc - 0.4]
set xlabel "concurrent connections"
set boxwidth bw * 0.92 absolute
set style fill solid 0.85 border rgb "#333333"
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0

# --- memory ---------------------------------------------------------------
set output sprintf("%s/memory.%s", outdir, ext)
set title "Memory per connection: server PSS at peak minus idle, per connection (lower is better)"
set ylabel "PSS per connection, KiB"
plot for [k = 1:nm] summary \
       using (is(word(models, k)) ? bar_x(k) : NaN):"pss_per_conn_kib" \
       with boxes lc rgb model_colour(word(models, k)) title model_title(word(models, k)), \
     for [k = 1:nm] summary \
       using (is(word(models, k)) && spread("pss_per_conn_kib") > 0 ? bar_x(k) : NaN):"pss_per_conn_kib_min":(0):(spread("pss_per_conn_kib")) \
       with vectors heads size screen 0.006,90 lc rgb "#333333" lw 1.5 notitle, \
     for [k = 1:nm] summary \
       using (is(word(models, k)) ? bar_x(k) : NaN):"pss_per_conn_kib_max":(sprintf("%.1f", column("pss_per_conn_kib"))) \
       with labels offset 0, 0.7 font ",8" notitle

# --- CPU ------------------------------------------------------------------
set output sprintf("%s/cpu.%s", outdir, ext)
set title "CPU per message: server user + system time (children included) per echo (lower is better)"
set ylabel "CPU time per message, µs"
plot for [k = 1:nm] summary \
       using (is(word(models, k)) ? bar_x(k) : NaN):"cpu_us_per_msg" \
       with boxes lc rgb model_colour(word(models, k)) title model_title(word(models, k)), \
     for [k = 1:nm] summary \
       using (is(word(models, k)) && spread("cpu_us_per_msg") > 0 ? bar_x(k) : NaN):"cpu_us_per_msg_min":(0):(spread("cpu_us_per_msg")) \
       with vectors heads size screen 0.006,90 lc rgb "#333333" lw 1.5 notitle, \
     for [k = 1:nm] summary \
       using (is(word(models, k)) ? bar_x(k) : NaN):"cpu_us_per_msg_max":(sprintf("%.2f", column("cpu_us_per_msg"))) \
       with labels offset 0, 0.7 font ",8" notitle
set output
