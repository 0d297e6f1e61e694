# mk/latency.mk — open-loop latency: the percentile spectrum of every echo
# server, and the coordinated-omission demo (docs/latency.md).
#
#   make bench-latency   results/latency/: latency.csv, capacity.csv, one .hgrm per
#                        run, meta.txt, latency.png/.svg (about 3 minutes; env: RATE
#                        CONNS SECS WARMUP REPS MSG_BYTES CAP_SECS LAT_MODELS PIN
#                        LAT_CPUS OUT, see scripts/bench-latency.sh --help; PEERS=1:
#                        the peers too, mk/peers.mk)
#   make bench-latency SERVER_HOST=user@host LOAD_HOSTS="user@a user@b"
#                        the server on one host, loadgen on the others, through ssh
#                        (docs/hosts.md; SSH_CONFIG=FILE for -F)
#   make demo-stall      an echo server paused 1 s under closed- and open-loop load:
#                        what each measurement sees (about 25 s; ARGS='--model threads')
#
# The programs are built by the Makefile's generic rules; tests/t_latency.sh
# is picked up by tests/run.sh.

.PHONY: bench-latency demo-stall

LATENCY_PROGS := $(BIN)/loadgen $(BIN)/loadmerge $(BIN)/echo-epoll $(PROGRAMS_ECHO)

bench-latency: $(LATENCY_PROGS) deps
	@BIN=$(BIN) scripts/bench-latency.sh

# A script around programs, not a demos/*.c: so not in mk/demos.mk's DEMOS,
# whose rule wants a bin/demo-NAME; scripts/demo.sh lists and runs it.
demo-stall: $(LATENCY_PROGS)
	@BIN=$(BIN) scripts/demo.sh stall $(ARGS)
