# mk/c10k.mk — the C10K sweep: memory per connection, user and kernel side, for
# every model up to 10,000 connections (harness/c10k.c -> bin/c10k, built by the
# Makefile's generic harness rule). docs/c10k.md is the lesson.
#
#   make bench-c10k         the sweep: results/c10k/ (CSV, meta, charts, extrapolation; 3-4 minutes)
#                           (env: REPS CONNS MODELS RATE OUT PEER_CONNS, see scripts/bench-c10k.sh;
#                           PEERS=1: the peers too, at 1 ... 1000 connections, mk/peers.mk)
#   make bench-c10k SERVER_HOST=user@srv LOAD_HOSTS="user@a user@b"
#                           the server on srv, the connections from a and b (docs/hosts.md)
#   make c10k-charts        redraw the charts from results/c10k/c10k.csv
#   make c10k-extrapolate   100,000 and 1,000,000 connections per model, from the CSV

.PHONY: bench-c10k c10k-charts c10k-extrapolate

bench-c10k: $(BIN)/c10k $(PROGRAMS_ECHO) deps
	@BIN=$(BIN) scripts/bench-c10k.sh sweep

c10k-charts: deps
	@scripts/bench-c10k.sh charts

c10k-extrapolate:
	@scripts/bench-c10k.sh extrapolate
