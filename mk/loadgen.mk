# mk/loadgen.mk — the load generator and the epoll baselines.
#
#   make bench-overhead   echo-loop vs echo-epoll throughput, loadgen vs
#                         client-epoll CPU per message, fetch-loop vs fetch-epoll
#                         wall time, interleaved and repeated; then system calls
#                         per message and per fetch (strace, untimed)
#                         (REPS=5 SECS=3 by default; OVERHEAD_MODEL=NAME weighs
#                         another model's runtime; results/overhead/)
#   make bench-uring      echo-uring vs echo-epoll and echo-loop: system calls
#                         and server CPU per message, and a ring without
#                         SINGLE_ISSUER | DEFER_TASKRUN (results/uring/, ~2 min)
#
# bin/loadgen, bin/echo-epoll and bin/client-epoll are built by the generic
# harness rule of the Makefile; tests/unit_hist.c and tests/t_loadgen.sh are
# picked up by tests/run.sh.

.PHONY: bench-overhead
# The model whose runtime is weighed against the bare epoll loop.
# the first model over the runtime's epoll backend (scripts/models.sh --with runtime epoll)
OVERHEAD_MODEL ?= $(firstword $(shell scripts/models.sh --with runtime epoll))
bench-overhead: $(BIN)/loadgen $(BIN)/echo-epoll $(BIN)/client-epoll $(BIN)/fetch-epoll $(BIN)/fetchd \
                $(filter $(BIN)/echo-$(OVERHEAD_MODEL) $(BIN)/fetch-$(OVERHEAD_MODEL),$(PROGRAMS_MODEL))
	@scripts/deps.sh strace:strace
	@BIN=$(BIN) OVERHEAD_MODEL=$(OVERHEAD_MODEL) scripts/bench-overhead.sh

# The uring model against the epoll server: system calls and server CPU per
# message, and the ring without SINGLE_ISSUER | DEFER_TASKRUN
# (docs/models/uring.md; results/uring/).
.PHONY: bench-uring
bench-uring: $(BIN)/echo-epoll $(BIN)/client-epoll $(foreach m,$(shell scripts/models.sh --with runtime),$(BIN)/echo-$(m))
	@scripts/deps.sh perf:linux-perf strace:strace
	@BIN=$(BIN) scripts/bench-uring.sh
