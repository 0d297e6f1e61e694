# style.gp — what every c10k-lab chart shares, loaded by the chart scripts.
#
# One colour and one point shape per model, the same in every chart, from the
# Okabe–Ito palette (distinguishable with the common colour-vision
# deficiencies; the shapes tell the models apart in black and white too).
#   fork     vermillion      circle
#   threads  blue            square
#   loop     bluish green    triangle
#   epoll    dark grey, dashed diamond   (the hand-written epoll baseline)
# Any other model gets grey and a cross.

model_colour(m) = m eq "fork"    ? "#D55E00" : \
                  m eq "threads" ? "#0072B2" : \
                  m eq "loop"    ? "#009E73" : \
                  m eq "epoll"   ? "#555555" : "#999999"
model_point(m)  = m eq "fork" ? 7 : m eq "threads" ? 5 : m eq "loop" ? 9 : m eq "epoll" ? 13 : 2
model_dash(m)   = m eq "epoll" ? 2 : 1
model_title(m)  = m eq "epoll" ? "epoll (baseline)" : m

# Plain CSV with a header row; columns are named, never numbered.
set datafile separator comma
set datafile columnheaders
set datafile missing "NaN"

set encoding utf8
set grid ytics lc rgb "#dddddd" lw 1 dt 1
set border 3 lc rgb "#444444"
set tics nomirror out
set key at graph 0.5, graph 1.02 center bottom horizontal Left reverse noenhanced samplen 3 width 2
set bmargin 6   # room for the footnote under the x axis label
set tmargin 5   # room for the title and, under it, the key
set title offset 0, 1.8

# footnote(text): the machine and the run, small, at the bottom left.
footnote(t) = sprintf("%s", t)
