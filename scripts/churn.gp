# churn.gp — the two charts of `make bench-churn` (scripts/bench-churn.sh),
# from churn-summary.csv (medians per model x K; `value` is K, loadgen's
# --per-conn). Set by the caller (scripts/sweep.sh, sweep_draw):
#   summary, outdir, ext ("png"/"svg", terminal already set), models, foot
# One line per model, its colour and marker from scripts/palette.sh.

load "scripts/style.gp"

nm = words(models)
set label 99 foot at screen 0.01, screen 0.025 left font ",8" tc rgb "#555555" noenhanced
is(m) = strcol("model") eq m
set logscale xy
set xtics ("1" 1, "10" 10, "100" 100, "1000" 1000)
set xrange [0.7 : 140]
set xlabel "messages per connection, K (loadgen --per-conn K; log scale)"
set format y "%.0s%c"

# --- connections per second ------------------------------------------------------
set output sprintf("%s/churn.%s", outdir, ext)
set title "Connection churn: new connections served per second (higher is better)"
set ylabel "connections per second (log scale)"
plot for [k = 1:nm] summary \
     using (is(word(models, k)) ? column("value") : NaN):"conns_per_s":"conns_per_s_min":"conns_per_s_max" \
     with yerrorlines lw 2 ps 1.3 lc rgb model_colour(word(models, k)) pt model_point(word(models, k)) \
     dt model_dash(word(models, k)) title model_title(word(models, k))

# --- server CPU per connection ------------------------------------------------------
set output sprintf("%s/churn-cpu.%s", outdir, ext)
set title "Connection churn: server CPU per connection, its K messages included (lower is better)"
set ylabel "server CPU µs per connection (log scale)"
set format y "%g"
plot for [k = 1:nm] summary \
     using (is(word(models, k)) ? column("value") : NaN):"cpu_us_per_conn":"cpu_us_per_conn_min":"cpu_us_per_conn_max" \
     with yerrorlines lw 2 ps 1.3 lc rgb model_colour(word(models, k)) pt model_point(word(models, k)) \
     dt model_dash(word(models, k)) title model_title(word(models, k))
set output
