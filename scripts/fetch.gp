# fetch.gp — the fetch benchmark's three charts, drawn from summary.csv
# (one row per model x concurrency: medians of the runs).
#
#   gnuplot -e "summary='results/fetch/summary.csv'; outdir='results/fetch'; foot='...'" scripts/fetch.gp
#
# One line per model in the suite's colours; curl --parallel (the reference)
# dashed; wall time also shows the ideal: ceil(count/C) waves x the delay.

if (!exists("summary")) summary = "results/fetch/summary.csv"
if (!exists("outdir")) outdir = "results/fetch"
if (!exists("foot")) foot = ""

colour(m) = m eq "fork" ? "#D55E00" : m eq "threads" ? "#0072B2" : m eq "loop" ? "#009E73" : \
            m eq "epoll" ? "#555555" : m eq "curl" ? "#CC79A7" : "#999999"
point(m)  = m eq "fork" ? 7 : m eq "threads" ? 5 : m eq "loop" ? 9 : m eq "curl" ? 11 : 2
dash(m)   = m eq "curl" ? 2 : 1
label(m)  = m eq "curl" ? "curl --parallel (max 300 in flight)" : "fetch-".m
models = "fork threads loop curl"

set datafile separator comma
set datafile columnheaders
set terminal pngcairo size 960,600 font "sans,11" noenhanced
set grid xtics ytics lc rgb "#dddddd"
set border 3 lc rgb "#444444"
set tics nomirror out
set logscale x 10
set xlabel "concurrency C (requests in flight)"
set key top left Left reverse samplen 3 spacing 1.2 box lc rgb "#cccccc"
set bmargin 6
set label 99 foot at screen 0.01, screen 0.02 left font ",9" textcolor rgb "#666666"

# y of model m in column col, NaN for other models' rows
pick(m, col) = strcol("model") eq m ? column(col) : NaN

# --- wall time ---------------------------------------------------------------
set output outdir."/fetch-wall.png"
set title "Fetching many slow URLs: wall time vs concurrency (log-log, lower is better)"
set ylabel "wall time (s), median"
set key top right
set logscale y 10
plot summary using "concurrency":"ideal_s" smooth unique with lines lw 1.5 dt 3 lc rgb "#000000" \
       title "ideal: ceil(count/C) x delay", \
     for [m in models] summary using "concurrency":(pick(m, "wall_s")) with linespoints \
       lw 2 dt dash(m) pt point(m) ps 1.3 lc rgb colour(m) title label(m)

# --- memory ------------------------------------------------------------------
set output outdir."/fetch-memory.png"
set title "Peak memory of the whole process tree vs concurrency (log-log, lower is better)"
set ylabel "peak PSS, all processes (MiB), median"
set key top left
plot for [m in models] summary using "concurrency":(pick(m, "peak_pss_kib") / 1024.0) with linespoints \
       lw 2 dt dash(m) pt point(m) ps 1.3 lc rgb colour(m) title label(m)

# --- CPU ---------------------------------------------------------------------
set output outdir."/fetch-cpu.png"
set title "CPU time (user + system, all processes) vs concurrency (lower is better)"
set ylabel "CPU time (s), median"
unset logscale y
set yrange [0:*]
plot for [m in models] summary using "concurrency":(pick(m, "cpu_s")) with linespoints \
       lw 2 dt dash(m) pt point(m) ps 1.3 lc rgb colour(m) title label(m)
