#!/usr/bin/env bash
# commit.sh — the commit a measurement was made at, for every meta file:
# "abc1234", or "abc1234 (with uncommitted changes)" when tracked files other
# than results/ and docs/ differ from it (a benchmark rewriting the committed
# results, or regenerating docs/table.md, does not count as a change to what
# was measured). bin/bench applies the same rule in C (harness/bench.c).
cd "$(dirname "$0")/.." || exit 1
id=$(git rev-parse --short HEAD 2>/dev/null) || { echo unknown; exit 0; }
if git diff --quiet HEAD -- . ':(exclude)results' ':(exclude)docs' 2>/dev/null; then
  echo "$id"
else
  echo "$id (with uncommitted changes)"
fi
