# work.gp — the two charts of `make bench-work` (scripts/bench-work.sh), from
# work-summary.csv (medians per model x W; `value` is W, microseconds of CPU
# work per message, calibrated). Set by the caller (scripts/sweep.sh,
# sweep_draw): summary, outdir, ext ("png"/"svg", terminal already set),
# models, foot, the panels (np, pm1.., pt1..: scripts/panels.gp) and
# has_dist, has_spread. One line per model, its colour and marker from
# scripts/palette.sh; with many models, small multiples with shared axes.
# W = 0 cannot sit on a log axis: it is drawn at 1 us, labelled 0.

load "scripts/style.gp"
load "scripts/panels.gp"

wx(w) = w > 0 ? w : 1
xof(x) = wx(column("value"))
stats summary using "msgs_per_s_min" nooutput
low_msgs = STATS_min
stats summary using "msgs_per_s_max" nooutput
top_msgs = STATS_max
stats summary using "cores_busy_max" nooutput
top_cores = STATS_max

set logscale x
set xtics ("0" 1, "10" 10, "100" 100, "1000" 1000, "10000" 10000)
set xrange [0.7 : 1500]
set xlabel "CPU work per message, µs (calibrated; log scale; 0 drawn at 1)"

# --- throughput --------------------------------------------------------------------
set output sprintf("%s/work.%s", outdir, ext)
set ylabel "messages per second (log scale)"
set logscale y
set format y "%.0s%c"
set yrange [low_msgs / 1.5 : top_msgs * 1.5]
col = "msgs_per_s"
eval panels_open("CPU work per message: echo throughput (higher is better)")
do for [p = 1:np] { eval panel_frame(p); @line }
unset multiplot

# --- cores used -----------------------------------------------------------------------
set output sprintf("%s/work-cores.%s", outdir, ext)
set ylabel "cores used"
unset logscale y
set yrange [0 : top_cores * 1.1]
set format y "%.1f"
col = "cores_busy"
eval panels_open("CPU work per message: cores the server used (server CPU seconds / wall seconds)")
do for [p = 1:np] { eval panel_frame(p); @line }
unset multiplot
set output
