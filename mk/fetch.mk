# mk/fetch.mk — the fetch workload: every model's fetcher against bin/fetchd, with
# hyperfine, bin/measure and curl --parallel as the reference.
#
#   make bench-fetch        the full sweep (env: FETCH_COUNT FETCH_DELAY_MS
#                           FETCH_CONC FETCH_RUNS FETCH_WARMUP FETCH_MODELS FETCH_OUT
#                           FETCH_PEER_CONC FETCH_PIN FETCH_CPUS; PEERS=1: the peers'
#                           fetchers too, mk/peers.mk); with SERVER_HOST=user@s
#                           LOAD_HOSTS="user@a user@b": fetchd on s, the fetchers on
#                           a and b (docs/hosts.md)
#   make bench-fetch-check  the judged comparisons, printed as medians and ratios

.PHONY: bench-fetch bench-fetch-check fetch-charts

bench-fetch: all deps
	@scripts/bench-fetch.sh sweep

bench-fetch-check: all deps
	@scripts/bench-fetch.sh check

fetch-charts: deps
	@scripts/bench-fetch.sh charts
