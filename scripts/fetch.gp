# fetch.gp — the fetch benchmark's three charts, drawn from summary.csv
# (one row per model x concurrency: medians of the runs), by
# scripts/bench-fetch.sh with the PNG terminal already set and:
#   summary  path of summary.csv       outdir  where the charts go
#   models   the names to draw, space-separated (registry order, curl last)
#   foot     the footnote
#
# One line per model in its colour from scripts/palette.sh; curl --parallel
# (the reference) grey and dashed by the same code; wall time also shows the
# ideal: ceil(count/C) waves x the delay.

if (!exists("summary")) summary = "results/fetch/summary.csv"
if (!exists("outdir")) outdir = "results/fetch"
if (!exists("foot")) foot = ""
if (!exists("palette_loaded")) load "< scripts/palette.sh --gnuplot"
if (!exists("models")) models = registry_models . " curl"
label(m) = m eq "curl" ? "curl --parallel (max 300 in flight)" : \
           m eq "epoll" ? "fetch-epoll (baseline)" : "fetch-".model_title(m)   # a peer's: "NAME (peer)"

set datafile separator comma
set datafile columnheaders
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
       lw 2 dt model_dash(m) pt model_point(m) ps 1.3 lc rgb model_colour(m) title label(m)

# --- memory ------------------------------------------------------------------
set output outdir."/fetch-memory.png"
set title "Peak memory of the whole process tree vs concurrency (log-log, lower is better)"
set ylabel "peak PSS, all processes (MiB), median"
set key top left
plot for [m in models] summary using "concurrency":(pick(m, "peak_pss_kib") / 1024.0) with linespoints \
       lw 2 dt model_dash(m) pt model_point(m) ps 1.3 lc rgb model_colour(m) title label(m)

# --- CPU ---------------------------------------------------------------------
set output outdir."/fetch-cpu.png"
set title "CPU time (user + system, all processes) vs concurrency (lower is better)"
set ylabel "CPU time (s), median"
unset logscale y
set yrange [0:*]
plot for [m in models] summary using "concurrency":(pick(m, "cpu_s")) with linespoints \
       lw 2 dt model_dash(m) pt model_point(m) ps 1.3 lc rgb model_colour(m) title label(m)
