# fetch.gp — the fetch benchmark's three charts, drawn from summary.csv
# (one row per model x concurrency: medians of the runs), by
# scripts/bench-fetch.sh with the terminal already set and:
#   summary  path of summary.csv       outdir  where the charts go
#   ext      "png" or "svg"
#   models   the names to draw, space-separated (registry order, curl last)
#   foot     the footnote
#   np, pm1.., pt1..  the panels (scripts/panels.gp; scripts/lib.sh gp_panels)
#
# One line per model in its colour from scripts/palette.sh; curl --parallel
# (the reference) grey and dashed by the same code, in every panel; wall
# time also shows the ideal: ceil(count/C) waves x the delay. With many
# models, one panel per group, the same axes, the other groups grey behind.

if (!exists("summary")) summary = "results/fetch/summary.csv"
if (!exists("outdir")) outdir = "results/fetch"
if (!exists("foot")) foot = ""
if (!exists("ext")) ext = "png"
if (!exists("palette_loaded")) load "< scripts/palette.sh --gnuplot"
if (!exists("models")) models = registry_models . " curl"
key_extra = 1   # the ideal line
key_font = 12   # "fetch-py-processes": long names
load "scripts/style.gp"
load "scripts/panels.gp"
# curl keeps to at most 300 in flight (its limit: the footnote says so)
label(m) = m eq "curl" ? "curl --parallel" : m eq "epoll" ? "fetch-epoll (baseline)" : "fetch-".key_title(m)
stats summary using "concurrency" nooutput
set xrange [STATS_min / 1.3 : STATS_max * 1.3]

set grid xtics ytics lc rgb "#dddddd"
set logscale x 10
set xlabel "concurrency C (requests in flight)"

# y of model m in column col, NaN for other models' rows
pick(m, col) = strcol("model") eq m ? column(col) : NaN
# fline: panel p's lines of column col (divided by div), the others grey
fline = 'plot for [k = 1:words(models)] summary using "concurrency":(in_panel(word(models, k), p) ? NaN : pick(word(models, k), col) / div) \
           with lines lw 1.5 lc rgb faint notitle, \
         for [k = 1:words(panel_names(p))] summary using "concurrency":(pick(word(panel_names(p), k), col) / div) with linespoints \
           lw 3 dt model_dash(word(panel_names(p), k)) pt model_point(word(panel_names(p), k)) ps 1.7 \
           lc rgb model_colour(word(panel_names(p), k)) title label(word(panel_names(p), k))'

# --- wall time ---------------------------------------------------------------
set output outdir."/fetch-wall.".ext
set ylabel "wall time (s), median"
set logscale y 10
col = "wall_s"; div = 1
eval panels_open("Fetching many slow URLs: wall time vs concurrency (log-log, lower is better)")
do for [p = 1:np] {
    eval panel_frame(p)
    @fline, summary using "concurrency":"ideal_s" smooth unique with lines lw 1.5 dt 3 lc rgb "#000000" \
       title "ideal"
}
unset multiplot

# --- memory ------------------------------------------------------------------
set output outdir."/fetch-memory.".ext
set ylabel "peak PSS, all processes (MiB), median"
col = "peak_pss_kib"; div = 1024.0
eval panels_open("Peak memory of the whole process tree vs concurrency (log-log, lower is better)")
do for [p = 1:np] { eval panel_frame(p); @fline }
unset multiplot

# --- CPU ---------------------------------------------------------------------
set output outdir."/fetch-cpu.".ext
set ylabel "CPU time (s), median (log scale)"
col = "cpu_s"; div = 1
eval panels_open("CPU time (user + system, all processes) vs concurrency (log-log, lower is better)")
do for [p = 1:np] { eval panel_frame(p); @fline }
unset multiplot
