# mk/tasks.mk — how much memory do N sleeping tasks need? (issue 11, the method
# of pkolaczk's 2023 comparison). docs/tasks.md is the lesson.
#
#   make bench-tasks   results/tasks/tasks.csv + meta.txt + tasks.png/.svg: N tasks
#                      sleeping S s, for every kind (process, thread, coroutine,
#                      stackless, floor, Python asyncio, Node, Go, tokio), N = 1k..1M
#                      (env: TASKS_N TASKS_SLEEP TASKS_KINDS TASKS_CAP OUT, see
#                      scripts/bench-tasks.sh; ~10 minutes with the defaults)
#
# bin/tasks-sleep (tasks/sleep.c) is the C kinds; bin/tasks-run (harness/tasks-run.c)
# runs one (kind, N) in a memory cgroup of its own and measures it; the peers'
# programs are tasks/sleep.py, tasks/sleep.js, tasks/go/ (bin/tasks-go) and
# peers/tokio/src/tasks.rs (bin/tasks-tokio, built with the tokio peer: mk/peers.mk).

.PHONY: bench-tasks

all: $(BIN)/tasks-sleep

# The C kinds use the coroutine runtime over epoll (LIBCO) and the proto model's tasks (tasks.c).
$(BIN)/tasks-sleep: $(OBJ)/tasks/sleep.o $(OBJ)/models/proto/tasks.o $(LIBCO) $(LIBHARNESS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS_ALL)

# Go, built offline like the Go peer (mk/peers.mk); skipped when go is missing.
$(BIN)/tasks-go: tasks/go/sleep.go tasks/go/go.mod
	@mkdir -p $(dir $@)
	cd tasks/go && $(PEERS_GO_ENV) go build -trimpath -o $(abspath $@) .

bench-tasks: $(BIN)/tasks-sleep $(BIN)/tasks-run deps
	@if command -v go >/dev/null; then $(MAKE) --no-print-directory $(BIN)/tasks-go; fi
	@if [ -z "$$(peers/list.sh --missing tokio 2>/dev/null)" ]; then $(MAKE) --no-print-directory $(BIN)/tasks-tokio; \
	  else echo "bench-tasks: skipped tokio (no $$(peers/list.sh --missing tokio))"; fi
	@BIN=$(BIN) scripts/bench-tasks.sh
