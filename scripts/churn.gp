# churn.gp — the two charts of `make bench-churn` (scripts/bench-churn.sh),
# from churn-summary.csv (medians per model x K; `value` is K, loadgen's
# --per-conn). Set by the caller (scripts/sweep.sh, sweep_draw):
#   summary, outdir, ext ("png"/"svg", terminal already set), models, foot,
#   the panels (np, pm1.., pt1..: scripts/panels.gp) and has_dist, has_spread
# One line per model, its colour and marker from scripts/palette.sh; with
# many models, small multiples with shared axes (scripts/panels.gp).

load "scripts/style.gp"
load "scripts/panels.gp"

xof(x) = column("value")
stats summary using "conns_per_s_min" nooutput
low_cps = STATS_min
stats summary using "conns_per_s_max" nooutput
top_cps = STATS_max
stats summary using "cpu_us_per_conn_min" nooutput
low_cpc = STATS_min
stats summary using "cpu_us_per_conn_max" nooutput
top_cpc = STATS_max

set logscale xy
set xtics ("1" 1, "10" 10, "100" 100, "1000" 1000)
set xrange [0.7 : 140]
set xlabel "messages per connection, K (loadgen --per-conn K; log scale)"
set format y "%.0s%c"

# --- connections per second ------------------------------------------------------
set output sprintf("%s/churn.%s", outdir, ext)
set ylabel "connections per second (log scale)"
set yrange [low_cps / 1.5 : top_cps * 1.5]
col = "conns_per_s"
eval panels_open("Connection churn: new connections served per second (higher is better)")
do for [p = 1:np] { eval panel_frame(p); @line }
unset multiplot

# --- server CPU per connection ------------------------------------------------------
set output sprintf("%s/churn-cpu.%s", outdir, ext)
set ylabel "server CPU µs per connection (log scale)"
set format y "%g"
set yrange [low_cpc / 1.5 : top_cpc * 1.5]
col = "cpu_us_per_conn"
eval panels_open("Connection churn: server CPU per connection, its K messages included (lower is better)")
do for [p = 1:np] { eval panel_frame(p); @line }
unset multiplot
set output
