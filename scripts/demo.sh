#!/usr/bin/env bash
# scripts/demo.sh — list the classroom demos, or run one.
#
#   scripts/demo.sh               the list, one line each
#   scripts/demo.sh NAME [FLAGS]  run bin/demo-NAME (or scripts/demo-NAME.sh
#                                 where a demo is a script around programs)
#
# `make demo` and `make demo-NAME` call this. BIN picks the programs' folder.
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}

demo_list() {
  cat <<'LIST'
The demos (each takes a few seconds; every line carries the wall clock):

  make demo-schedule   Hello after 1 s, Hi after 2 s: in turn (3 s), then at once (2 s), three ways
  make demo-cancel     a worker cancelled at 3.5 s: its co_sleep fails with ECANCELED, it cleans up
  make demo-timeout    a 1 s deadline around a fetch the server delays 3 s: ETIMEDOUT at ~1 s
  make demo-blocking   one blocking sleep(1) or CPU loop makes every coroutine late; then the fix
  make demo-cpu        a CPU-bound job: coroutines use one core, threads and processes all of them
  make demo-spawn      10,000 processes, threads, coroutines: time and memory each (hyperfine)
  make demo-c10k       an echo server ramped to 10,000 idle connections, its memory drawn live
  make demo-stall      an echo server frozen 1 s under load: closed loop hides it, open loop counts it

Pass flags with ARGS, e.g.  make demo-cancel ARGS='--model loop'
Every demo answers --help:  bin/demo-schedule --help
The lessons that go with them: docs/demos/README.md
LIST
}

if [ $# -eq 0 ]; then
  demo_list
  exit 0
fi
name=$1; shift
if [ -f "scripts/demo-$name.sh" ]; then
  exec bash "scripts/demo-$name.sh" "$@"
fi
if [ ! -x "$BIN/demo-$name" ]; then
  if [ -f "demos/$name.c" ]; then
    echo "demo.sh: $BIN/demo-$name is not built: run make" >&2
  else
    echo "demo.sh: no demo named '$name' (make demo lists them)" >&2
  fi
  exit 2
fi
exec "$BIN/demo-$name" "$@"
