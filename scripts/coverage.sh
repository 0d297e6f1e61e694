#!/usr/bin/env bash
# coverage.sh DIR — the coverage report of a `make coverage` run whose build
# (objects with gcov's .gcno/.gcda files) is in DIR/obj: DIR/html/index.html,
# line and branch coverage per file with each file's lines marked (gcovr),
# and DIR/summary.txt, the same figures per part of the tree: models/common,
# the runtime (coro*), each model, the harness (harness/ and harness/lib/),
# the demos, the micro-benchmarks. The tests' own code is left out.
set -eu
cd "$(dirname "$0")/.."
dir=${1:?usage: coverage.sh DIR (the build folder of make coverage, e.g. build/cov)}
[ -d "$dir/obj" ] || { echo "coverage.sh: no $dir/obj: run make coverage" >&2; exit 1; }
mkdir -p "$dir/html"
# --gcov-ignore-parse-errors: a count gcov derives as negative (an arc count
# that threads raced on, or a forked child's counts merged into its parent's)
# would otherwise stop the whole report; gcovr names each line it skipped.
gcovr --root . --object-directory "$dir/obj" "$dir/obj" \
  --filter 'models/' --filter 'harness/' --filter 'demos/' --filter 'micro/' \
  --exclude-unreachable-branches --gcov-ignore-parse-errors \
  --html-details "$dir/html/index.html" --html-title "c10k-lab: make test, line and branch coverage" \
  --json-summary "$dir/summary.json" --json-summary-pretty >/dev/null
# part FILE — which part of the tree a source file belongs to
python3 - "$dir/summary.json" >"$dir/summary.txt" <<'PY'
import json, os, sys
def part(f):
    d, b = os.path.split(f)
    if b.startswith("coro"):
        return "the runtime (coro*)"
    if d.startswith("harness"):
        return "harness"
    if d.startswith("models/") and d != "models/common":
        return "model " + d.split("/")[1]
    return d
parts = {}
for f in json.load(open(sys.argv[1]))["files"]:
    p = parts.setdefault(part(f["filename"]), [0, 0, 0, 0])
    p[0] += f["line_covered"]; p[1] += f["line_total"]
    p[2] += f["branch_covered"]; p[3] += f["branch_total"]
pct = lambda a, b: "%5.1f%%" % (100.0 * a / b) if b else "    -"
print("%-22s %15s %8s %15s %8s" % ("part", "lines", "", "branches", ""))
order = sorted(parts, key=lambda k: (k.startswith("model "), k.startswith("demos") or k.startswith("micro"), k))
for k in order:
    lc, lt, bc, bt = parts[k]
    print("%-22s %7d/%-7d %8s %7d/%-7d %8s" % (k, lc, lt, pct(lc, lt), bc, bt, pct(bc, bt)))
tot = [sum(v[i] for v in parts.values()) for i in range(4)]
print("%-22s %7d/%-7d %8s %7d/%-7d %8s" % ("all", tot[0], tot[1], pct(tot[0], tot[1]), tot[2], tot[3], pct(tot[2], tot[3])))
PY
cat "$dir/summary.txt"
echo "coverage: $dir/html/index.html (per file), $dir/summary.txt (per part)"
