#!/usr/bin/env bash
# html.sh [RUN_DIR] — write RUN_DIR/REPORT.html beside RUN_DIR/REPORT.md: the
# same report (scripts/report.sh writes the Markdown, then calls this) as one
# self-contained page to explore in a browser. Every chart is its SVG, inside
# the page (an iframe's srcdoc, so each keeps gnuplot's own script and ids):
# clicking a name in a chart's key hides or shows its line or bars (the SVG
# terminal's `mouse standalone`, scripts/lib.sh gp_term); a chart that has
# only a PNG is inlined as data. The tables are those of REPORT.md. Nothing
# is fetched from the network: no CDN, no external script or style.
#
# The page checks itself when it has loaded: how many charts it holds, how
# many drew (an <svg> with paths and a size), and in how many a click on the
# first key entry hid its line and a second click showed it again. It writes
# that into <p id="selfcheck"> (tests/t_report.sh reads it from headless
# Chromium's DOM).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
run=${1:-results/latest}
md="$run/REPORT.md"
[ -f "$md" ] || { echo "html.sh: $md not found (run scripts/report.sh $run first)" >&2; exit 1; }

esc() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'; }

# figure PATH ALT — one chart: its SVG in an iframe, else its PNG as data
figure() {
  local png=$run/$1 alt=$2 svg vb w=1600 h=680
  svg=${png%.png}.svg
  echo "<figure>"
  if [ -f "$svg" ]; then
    vb=$(grep -o -m1 'viewBox="[0-9. ]*"' "$svg" | tr -d '"' | cut -d= -f2 || true)
    [ -z "$vb" ] || { w=$(cut -d' ' -f3 <<<"$vb"); h=$(cut -d' ' -f4 <<<"$vb"); }
    printf '<iframe class="chart" title="%s" style="aspect-ratio: %s / %s" srcdoc="' "$(esc <<<"$alt")" "$w" "$h"
    { echo '<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0}svg{display:block;width:100%;height:auto}</style></head><body>'
      sed '1{/^<?xml/d}' "$svg"
      echo '</body></html>'; } | esc
    echo '"></iframe>'
  elif [ -f "$png" ]; then
    printf '<img class="chart" alt="%s" src="data:image/png;base64,' "$(esc <<<"$alt")"
    base64 -w0 "$png"
    echo '">'
  fi
  echo "<figcaption>$(esc <<<"$1")</figcaption></figure>"
}

# The Markdown of REPORT.md, the few forms report.sh writes: headings,
# paragraphs, lists, tables, indented blocks, <details>, images, `code`,
# [links](to). An image becomes the line "@figure PATH ALT", filled in below.
md_to_html() {
  awk '
    function inline(s,   out, pre, t) {
      gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
      while (match(s, /`[^`]*`/)) { t = substr(s, RSTART + 1, RLENGTH - 2)
        s = substr(s, 1, RSTART - 1) "<code>" t "</code>" substr(s, RSTART + RLENGTH) }
      while (match(s, /\*\*[^*]+\*\*/)) { t = substr(s, RSTART + 2, RLENGTH - 4)
        s = substr(s, 1, RSTART - 1) "<b>" t "</b>" substr(s, RSTART + RLENGTH) }
      while (match(s, /\[[^]]*\]\([^)]*\)/)) { t = substr(s, RSTART, RLENGTH)
        split(t, part, /\]\(/); sub(/^\[/, "", part[1]); sub(/\)$/, "", part[2])
        s = substr(s, 1, RSTART - 1) "<a href=\"" part[2] "\">" part[1] "</a>" substr(s, RSTART + RLENGTH) }
      return s
    }
    function close_all() {
      if (inpre) { print "</pre>"; inpre = 0 }
      if (intab) { print "</tbody></table>"; intab = 0 }
      if (inlist) { print "</ul>"; inlist = 0 }
      if (inpar) { print "</p>"; inpar = 0 }
    }
    /^    / && !intab { if (!inpre) { close_all(); printf "<pre>"; inpre = 1 }
                        s = substr($0, 5); gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); print s; next }
    /^\|/ { if (!intab) { close_all(); print "<table><thead>"; intab = 1; row = 0 }
            row++; if ($0 ~ /^\| *---/) { print "</thead><tbody>"; next }
            n = split($0, cell, /\|/); line = "<tr>"
            for (i = 2; i < n; i++) { c = cell[i]; gsub(/^ +| +$/, "", c)
              line = line (row == 1 ? "<th>" : "<td>") inline(c) (row == 1 ? "</th>" : "</td>") }
            print line "</tr>"; next }
    /^# /  { close_all(); print "<h1>" inline(substr($0, 3)) "</h1>"; next }
    /^## / { close_all(); print "<h2>" inline(substr($0, 4)) "</h2>"; next }
    /^### / { close_all(); print "<h3>" inline(substr($0, 5)) "</h3>"; next }
    /^!\[[^]]*\]\([^)]*\)$/ { close_all(); t = $0; sub(/^!\[/, "", t); split(t, part, /\]\(/)
                              sub(/\)$/, "", part[2]); print "@figure " part[2] " " part[1]; next }
    /^<(details|\/details|summary|!--)/ { close_all(); print; next }
    /^- / { if (!inlist) { close_all(); print "<ul>"; inlist = 1 }
            print "<li>" inline(substr($0, 3)) "</li>"; next }
    /^  / && inlist { print inline($0); next }
    /^$/ { close_all(); next }
    { if (inpre || intab || inlist) close_all()
      if (!inpar) { printf "<p>"; inpar = 1 }
      print inline($0) }
    END { close_all() }
  ' "$md"
}

{
  cat <<EOF
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>$(esc <<<"Report: $run")</title>
<!-- Generated by scripts/html.sh from REPORT.md and the charts of this folder; do not edit by hand. -->
<style>
body { font: 16px/1.45 "DejaVu Sans", sans-serif; max-width: 1400px; margin: 1em auto; padding: 0 1em; color: #222 }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 13px }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right }
th { background: #f3f3f3 } td:first-child, th:first-child { text-align: left }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; font-size: 13px }
figure { margin: 1em 0 } figcaption { font-size: 12px; color: #666 }
iframe.chart { width: 100%; border: 0; display: block } img.chart { width: 100% }
#selfcheck { font-size: 12px; color: #666 }
</style></head><body>
<p><i>Click a name in a chart's key to hide or show its line; click again to bring it back.</i></p>
EOF
  md_to_html | while IFS= read -r line; do
    if [[ $line == "@figure "* ]]; then
      line=${line#@figure }
      figure "${line%% *}" "${line#* }"
    else
      printf '%s\n' "$line"
    fi
  done
  cat <<'EOF'
<p id="selfcheck">self-check: not run (the page's script did not run)</p>
<script>
// The page checks itself once every chart has loaded: drawn (an <svg> with
// paths and a size) and clickable (the first key entry hides its plot, and
// shows it again).
window.addEventListener('load', function () { setTimeout(function () {
  var frames = document.querySelectorAll('iframe.chart'), drawn = 0, toggled = 0, bad = [];
  for (var i = 0; i < frames.length; i++) {
    var doc = frames[i].contentDocument, svg = doc && doc.querySelector('svg');
    var box = svg && svg.getBoundingClientRect();
    if (svg && box.width > 100 && box.height > 50 && doc.querySelectorAll('path').length > 10) drawn++;
    else { bad.push(frames[i].title); continue; }
    var key = doc.querySelector('g[id$="_keyentry"]');
    var plot = key && doc.getElementById(key.id.replace('_keyentry', ''));
    if (!plot) continue;
    var seen = function () { return getComputedStyle(plot).visibility; };
    var before = seen();
    key.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    var hidden = seen();
    key.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    if (before === 'visible' && hidden === 'hidden' && seen() === 'visible') toggled++;
  }
  var imgs = document.querySelectorAll('img.chart'), shown = 0;
  for (var j = 0; j < imgs.length; j++) if (imgs[j].naturalWidth > 0) shown++;
  document.getElementById('selfcheck').textContent = 'self-check: ' + frames.length + ' SVG charts, ' +
    drawn + ' drawn, ' + toggled + ' hide and show a line on a click; ' + imgs.length + ' PNG charts, ' +
    shown + ' shown' + (bad.length ? '; not drawn: ' + bad.join(', ') : '');
}, 300); });
</script>
</body></html>
EOF
} >"$run/REPORT.html.tmp"
mv "$run/REPORT.html.tmp" "$run/REPORT.html"
echo "report: wrote $run/REPORT.html"
