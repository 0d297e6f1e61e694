# panels.gp — small multiples: a chart with many names is drawn as a row of
# panels with the same axes, one per group of names (the classic three, the
# designs real servers use, the peers; scripts/palette.sh --panels), each name
# in its own colour in its panel, every other name a faint grey line behind
# it, for context. Six names or fewer stay in one panel. Loaded by the chart
# scripts after style.gp, with these variables set (scripts/lib.sh gp_panels):
#   np          how many panels
#   pm1..pmN    the names of each panel, space-separated
#   pt1..ptN    the title of each panel ("" with one panel)
# and, set by the chart script before each chart:
#   foot        the footnote, drawn once, at the bottom left
#   warn        (optional) a warning drawn in red above it: disturbed runs,
#               wide spreads (scripts/lib.sh chart_flags)
#
#   eval panels_open(title)    starts the multiplot: np panels side by side
#   do for [p = 1:np] { eval panel_frame(p); plot ... }
#   unset multiplot
#   in_panel(m, p)             1 if name m is drawn in colour in panel p
#   @line                      (in the loop) panel p's lines of column `col` at x
#                              = xof(0), bars min..max, rings on noisy points
# Every panel shares the y range: the chart sets it before panels_open.
# The summary's optional columns: has_dist (disturbed_runs), has_spread
# (spread_pct), 1 if present (the caller says).

if (!exists("np")) { np = 1; pm1 = models; pt1 = "" }
panel_names(p) = value(sprintf("pm%d", p))
panel_title(p) = value(sprintf("pt%d", p))
in_panel(m, p) = strstrt(" " . panel_names(p) . " ", " " . m . " ") > 0
# the most names in one panel: how many rows its key takes (two names a row)
panel_most = 0
do for [p = 1:np] { if (words(panel_names(p)) > panel_most) { panel_most = words(panel_names(p)) } }
if (!exists("key_extra")) key_extra = 0   # entries a chart adds to every key (fetch: the ideal)
if (!exists("key_font")) key_font = 14    # the keys' type size (a chart with long names: smaller)
panel_key_rows = np > 1 ? ceil((panel_most + key_extra) / 2.0) : ceil((panel_most + key_extra) / 4.0)
faint = "#e2e2e2"   # the other panels' names, behind
if (!exists("warn")) warn = ""
if (!exists("foot_y")) foot_y = 0.022   # the footnote's height (a chart with two lines: label 98 under it)
# room on the left for the y tics and the y label: about 150 pixels of the
# canvas, whose width follows the panels (scripts/lib.sh's gp_term)
if (!exists("panels_left")) panels_left = 150.0 / (np >= 3 ? 1600 : np == 2 ? 1350 : 1100)

# the plot areas: room above for the title, the panel titles and the keys;
# below for the x label and the footnote
panels_top = 0.90 - (np > 1 ? 0.045 : 0) - 0.034 * panel_key_rows
panels_open(t) = sprintf("set multiplot layout 1,%d title \"%s\" font \",18\" margins screen %g, 0.985, 0.17, %g spacing screen 0.04, 0", \
                         np, t, panels_left, panels_top)

# panel_frame(p): the title and key of panel p, the footnote on the first
# one only, the y label on the first one only (the panels share the axis)
panel_frame(p) = sprintf("set title \"%s\" font \",16\" offset 0, %g; ", panel_title(p), panel_key_rows * 1.05 + 0.1) . \
    sprintf("set key at graph %g, graph 1.02 %s bottom vertical maxrows %d Left reverse noenhanced samplen 2.5 width 1 font \",%d\"; ", \
            np > 1 ? 0.0 : 0.5, np > 1 ? "left" : "center", panel_key_rows, key_font) . \
    (p == 1 ? sprintf("set label 99 foot at screen 0.025, screen %g left font \",10\" tc rgb \"#555555\" noenhanced; ", foot_y) : "unset label 99; unset label 98; unset label 97; ") . \
    (p == 1 && strlen(warn) > 0 ? sprintf("set label 97 warn at screen 0.025, screen %g left font \",10\" tc rgb \"#b00000\" noenhanced; ", foot_y + 0.026) : "") . \
    (p == 1 ? "" : "set ylabel \"\"; ")

is(m) = strcol("model") eq m
# the key's name for m: with panels, no " (peer)" (the panel's title says it)
key_title(m) = np > 1 && strstrt(model_title(m), " (peer)") > 0 ? \
               model_title(m)[1 : strstrt(model_title(m), " (peer)") - 1] : model_title(m)
if (!exists("has_dist")) has_dist = 0
if (!exists("has_spread")) has_spread = 0
# a point to ring: a disturbed run among its repetitions, or a wide spread
noisy(x) = (has_dist && column("disturbed_runs") > 0) || (has_spread && column("spread_pct") > 50)
ring = "#777777"
xof(x) = column("conns")   # a chart with another x axis redefines it after loading this file

# line: the lines of panel p for column col, with min..max bars, the other
# panels' names faint behind, rings on the noisy points (a macro: gnuplot
# has no functions that plot)
line = 'plot for [k = 1:words(models)] summary using (is(word(models, k)) && !in_panel(word(models, k), p) ? xof(0) : NaN):col \
          with lines lw 1.5 lc rgb faint notitle, \
        for [k = 1:words(panel_names(p))] summary \
          using (is(word(panel_names(p), k)) ? xof(0) : NaN):col:(column(col . "_min")):(column(col . "_max")) \
          with yerrorlines lw 3 ps 1.7 lc rgb model_colour(word(panel_names(p), k)) pt model_point(word(panel_names(p), k)) \
          dt model_dash(word(panel_names(p), k)) title key_title(word(panel_names(p), k)), \
        for [k = 1:words(panel_names(p))] summary \
          using (is(word(panel_names(p), k)) && noisy(0) ? xof(0) : NaN):col with points pt 6 ps 3.4 lw 1.5 lc rgb ring notitle'
