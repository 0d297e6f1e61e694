# work.gp — the two charts of `make bench-work` (scripts/bench-work.sh), from
# work-summary.csv (medians per model x W; `value` is W, microseconds of CPU
# work per message, calibrated). Set by the caller (scripts/sweep.sh,
# sweep_draw): summary, outdir, ext ("png"/"svg", terminal already set),
# models, foot. One line per model, its colour and marker from
# scripts/palette.sh. W = 0 cannot sit on a log axis: it is drawn at 1 us,
# labelled 0.

load "scripts/style.gp"

nm = words(models)
set label 99 foot at screen 0.01, screen 0.025 left font ",8" tc rgb "#555555" noenhanced
is(m) = strcol("model") eq m
wx(w) = w > 0 ? w : 1
set logscale x
set xtics ("0" 1, "10" 10, "100" 100, "1000" 1000, "10000" 10000)
set xrange [0.7 : 1500]
set xlabel "CPU work per message in the server, µs (calibrated; log scale, 0 drawn at 1)"

# --- throughput --------------------------------------------------------------------
set output sprintf("%s/work.%s", outdir, ext)
set title "CPU work per message: echo throughput (higher is better)"
set ylabel "messages per second (log scale)"
set logscale y
set format y "%.0s%c"
plot for [k = 1:nm] summary \
     using (is(word(models, k)) ? wx(column("value")) : NaN):"msgs_per_s":"msgs_per_s_min":"msgs_per_s_max" \
     with yerrorlines lw 2 ps 1.3 lc rgb model_colour(word(models, k)) pt model_point(word(models, k)) \
     dt model_dash(word(models, k)) title model_title(word(models, k))

# --- cores used -----------------------------------------------------------------------
set output sprintf("%s/work-cores.%s", outdir, ext)
set title "CPU work per message: cores the server used (server CPU seconds / wall seconds)"
set ylabel "cores used"
unset logscale y
set yrange [0:*]
set format y "%.1f"
plot for [k = 1:nm] summary \
     using (is(word(models, k)) ? wx(column("value")) : NaN):"cores_busy":"cores_busy_min":"cores_busy_max" \
     with yerrorlines lw 2 ps 1.3 lc rgb model_colour(word(models, k)) pt model_point(word(models, k)) \
     dt model_dash(word(models, k)) title model_title(word(models, k))
set output
